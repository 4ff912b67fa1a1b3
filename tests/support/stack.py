"""The running product for story tests: backend worker and API, action server.

Each is a real process started from its own environment, exactly as
``xinfang run`` starts it, with state in a temporary folder. Only the Rasa
agent itself runs in the test process.
"""
from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Optional

from bot.paths import RASA, ROOT, backend_python, latest_model

IN_CI = os.environ.get("CI") == "true"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_http(url: str, *, timeout_s: float = 90, process: Optional[subprocess.Popen] = None) -> None:
    """Polls ``url`` until it answers 200."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.3)
    raise TimeoutError(f"{url} did not come up within {timeout_s} s")


@contextmanager
def process(command: list[str], *, env: dict, log: Path) -> Iterator[subprocess.Popen]:
    """Runs ``command`` for the duration of the block, output to ``log``."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


@dataclass
class Backend:
    """The backend API of a test stack, read with a handler token."""

    url: str
    token: str
    bot_token: str = ""

    def get(self, path: str) -> tuple[int, dict]:
        """GET ``path`` with the handler's token."""
        return self.call("GET", path)

    def post(self, path: str, payload: dict) -> tuple[int, dict]:
        """POST JSON to ``path`` with the handler's token."""
        return self.call("POST", path, payload)

    def call(self, method: str, path: str, payload: Optional[dict] = None) -> tuple[int, dict]:
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        data = json.dumps(payload).encode() if payload is not None else None
        request = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}")

    def wait_for_case(self, case_id: str, *, timeout_s: float = 30) -> dict:
        """The stored case, once the worker has committed it."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status, body = self.get(f"/api/v1/cases/{case_id}")
            if status == 200:
                return body
            time.sleep(0.2)
        raise AssertionError(f"case {case_id} never reached the database")


def stack_environment(var: Path) -> dict:
    """Environment variables that point every process at ``var``."""
    return {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "XF_VAR_DIR": str(var),
        "XF_DATABASE_URL": f"sqlite:///{var / 'xinfang.sqlite3'}",
        "XF_SECRET_KEY": "story-tests-secret",
    }


@contextmanager
def running_stack(var: Path) -> Iterator[tuple[Backend, str]]:
    """Worker, API and action server; yields the backend and the action server URL."""
    env = stack_environment(var)
    env.pop("XF_REDIS_URL", None)
    backend = [str(backend_python()), "-m", "backend"]
    subprocess.run(backend + ["migrate"], cwd=ROOT, env=env, check=True)
    def new_token(role: str) -> str:
        return subprocess.run(
            backend + ["token", "create", "--role", role],
            cwd=ROOT, env=env, check=True, capture_output=True, text=True,
        ).stdout.strip()

    token = new_token("handler")
    env["XF_BOT_TOKEN"] = new_token("bot")
    api_port, action_port = free_port(), free_port()
    env["XF_BACKEND_URL"] = f"http://127.0.0.1:{api_port}"
    with process(backend + ["worker"], env=env, log=var / "worker.log"), process(
        backend + ["api", "--port", str(api_port)], env=env, log=var / "api.log"
    ) as api, process(
        [str(RASA), "run", "actions", "--port", str(action_port), "--actions", "actions"],
        env=env, log=var / "actions.log",
    ) as actions:
        wait_for_http(f"http://127.0.0.1:{api_port}/health", process=api)
        wait_for_http(f"http://127.0.0.1:{action_port}/health", process=actions)
        backend_api = Backend(f"http://127.0.0.1:{api_port}", token, env["XF_BOT_TOKEN"])
        yield backend_api, f"http://127.0.0.1:{action_port}/webhook"


def require_model() -> str:
    """The newest trained model; a test without one is skipped (failed under CI)."""
    import pytest

    model = latest_model()
    if model is None:
        message = "no trained model in models/ (run `make train`)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return str(model)


@contextmanager
def rasa_server(
    model: str,
    stack: tuple[Backend, str],
    var: Path,
    *,
    credentials: str,
    ready_path: str,
    env: Optional[dict] = None,
) -> Iterator["RasaServer"]:
    """``rasa run`` with ``model`` and the channels of ``credentials`` (YAML text),
    wired to a running stack. Yields the server once ``ready_path`` answers.
    """
    backend, action_url = stack
    endpoints = var / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "{action_url}"\n', encoding="utf-8")
    credentials_file = var / "credentials.yml"
    credentials_file.write_text(credentials, encoding="utf-8")
    port = free_port()
    command = [
        str(RASA), "run", "--model", model, "--port", str(port), "--interface", "127.0.0.1",
        "--endpoints", str(endpoints), "--credentials", str(credentials_file),
    ]
    environment = {
        **stack_environment(var), "XF_BACKEND_URL": backend.url, "XF_BOT_TOKEN": backend.bot_token, **(env or {})
    }
    with process(command, env=environment, log=var / "rasa.log") as server:
        base = f"http://127.0.0.1:{port}"
        wait_for_http(base + ready_path, timeout_s=300, process=server)
        yield RasaServer(base, server.pid)


@dataclass(frozen=True)
class RasaServer:
    """A running ``rasa run``: its base URL and process id."""

    url: str
    pid: int
