"""Helpers for the fault tests: worker processes, a Redis server of our own, a TCP proxy
that can cut the database off, and fresh PostgreSQL databases.

Nothing here touches the shared Redis at 6379 beyond a per-test key prefix: a test
that stops Redis starts its own ``redis-server`` on a free port.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, func, select, text

from backend.store import migrate
from backend.store.models import Case, CaseEvent

REPO_ROOT = Path(__file__).resolve().parents[2]
BACKEND_PYTHON = REPO_ROOT / ".venv-backend" / "bin" / "python"
PG_SERVER = os.environ.get("XF_TEST_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_SERVER = shutil.which("redis-server") or "/usr/bin/redis-server"


def in_ci() -> bool:
    """``CI=true``: a missing service fails the test instead of skipping it."""
    return os.environ.get("CI", "").strip().lower() == "true"


def skip_or_fail(reason: str) -> None:
    """Skip with *reason*, or fail when running in CI."""
    if in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(predicate: Callable[[], Any], *, timeout: float, interval: float = 0.05,
               what: str = "condition") -> Any:
    """Poll *predicate* until it returns something truthy; fail the test after *timeout*."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}", pytrace=False)
        time.sleep(interval)


# -- PostgreSQL ----------------------------------------------------------------------------


@contextlib.contextmanager
def fresh_postgres_database() -> Iterator[str]:
    """A new, migrated PostgreSQL database (URL) dropped afterwards; skips when unreachable."""
    admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 3})
    name = f"xf_test_{secrets.token_hex(4)}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - any reason not to reach the server
        admin.dispose()
        skip_or_fail(f"PostgreSQL at {PG_SERVER} is unreachable ({type(exc).__name__})")
    url = f"{PG_SERVER}/{name}"
    try:
        migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def sqlite_database(path: Path) -> str:
    """A migrated SQLite database at *path* (URL)."""
    url = f"sqlite:///{path}"
    migrate(url)
    return url


class StoredCases:
    """Reads what the workers committed (one engine, reused across polls)."""

    def __init__(self, database_url: str) -> None:
        self.engine = create_engine(database_url.replace("postgresql://", "postgresql+psycopg://"))

    def count(self) -> int:
        """Rows in ``cases``."""
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(Case)) or 0)

    def case_ids(self) -> list[str]:
        """Every stored ``case_id``, duplicates included (the schema forbids them, but count)."""
        with self.engine.connect() as conn:
            return list(conn.scalars(select(Case.case_id)))

    def registrations(self) -> int:
        """Events in the log (one ``registered`` per case stored once)."""
        with self.engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(CaseEvent)) or 0)

    def close(self) -> None:
        """Dispose of the engine."""
        self.engine.dispose()


# -- worker processes ------------------------------------------------------------------------


def worker_environment(
    *,
    database_url: str,
    var_dir: Path,
    prefix: str,
    redis_url: str | None = None,
    visibility_timeout_s: float = 1.0,
    max_attempts: int = 5,
    **extra: str,
) -> dict[str, str]:
    """``XF_*`` variables for a worker subprocess (inherits PATH etc., not other XF_ values)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XF_")}
    env.update(
        {
            "XF_DATABASE_URL": database_url,
            "XF_REDIS_URL": redis_url or "",
            "XF_VAR_DIR": str(var_dir),
            "XF_QUEUE_PREFIX": prefix,
            "XF_QUEUE_VISIBILITY_TIMEOUT_S": str(visibility_timeout_s),
            "XF_QUEUE_MAX_ATTEMPTS": str(max_attempts),
            "XF_SECRET_KEY": "pepper-for-fault-tests",
            "XF_LOG_LEVEL": "INFO",
            "XF_WORKER_BACKOFF_MAX_S": "0.5",
            "PYTHONPATH": str(REPO_ROOT),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra)
    return env


class WorkerProcess:
    """``python -m backend worker`` in a subprocess, its log in a file."""

    def __init__(self, env: dict[str, str], log_path: Path, *, concurrency: int = 1) -> None:
        self.env = env
        self.log_path = log_path
        self.concurrency = concurrency
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> WorkerProcess:
        """Start (or restart) the worker; its log is appended to ``log_path``."""
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [str(BACKEND_PYTHON), "-m", "backend", "worker", "--concurrency", str(self.concurrency)],
                cwd=REPO_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
            )
        return self

    def log(self) -> str:
        """Everything the worker wrote so far."""
        return self.log_path.read_text(encoding="utf-8", errors="replace") if self.log_path.exists() else ""

    def consumers_started(self) -> int:
        """How many consumer loops announced themselves."""
        return self.log().count(" started")

    def stored(self) -> int:
        """Cases this worker created (log lines ``case ... stored``)."""
        return sum(1 for line in self.log().splitlines() if line.endswith(" stored"))

    def alive(self) -> bool:
        """True while the process runs."""
        return self.proc is not None and self.proc.poll() is None

    def kill9(self) -> None:
        """SIGKILL: no cleanup, no acknowledgement of the batch in hand."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(timeout=10)

    def terminate(self) -> None:
        """Send SIGTERM without waiting (see :meth:`stop`)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def stop(self, timeout: float = 10) -> None:
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if self.proc is None or self.proc.poll() is not None:
            return
        self.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)


# -- Redis of our own --------------------------------------------------------------------------


class RedisServer:
    """A private ``redis-server`` on a free port that a test may stop and start again.

    Started with the append-only file on (``appendfsync always``) in *data_dir*, as a
    production queue must be: cases already queued survive a restart; the spool covers
    the cases filed while it is down.
    """

    def __init__(self, data_dir: Path, port: int | None = None) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """``redis://127.0.0.1:<port>/0``."""
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 10) -> RedisServer:
        """Start the server and wait until it answers PING."""
        if not os.path.exists(REDIS_SERVER):
            skip_or_fail(f"redis-server not found at {REDIS_SERVER}")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "always", "--dir", str(self.data_dir),
             "--daemonize", "no", "--loglevel", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_until(self.ping, timeout=timeout, what=f"redis-server on port {self.port}")
        return self

    def ping(self) -> bool:
        """True when the server answers."""
        import redis

        client = redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=0.5,
                             socket_connect_timeout=0.5)
        try:
            return bool(client.ping())
        except Exception:  # noqa: BLE001 - not up (yet)
            return False
        finally:
            client.close()

    def stop(self) -> None:
        """SIGTERM and wait: the port refuses connections afterwards."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.proc = None


# -- a TCP proxy that can cut the line ----------------------------------------------------------


class TcpProxy:
    """Forwards ``127.0.0.1:<port>`` to an upstream address, in threads.

    ``cut()`` closes every open connection and stops listening, so new connections
    are refused, as when the database host goes away; ``restore()`` listens again on
    the same port.
    """

    def __init__(self, upstream_host: str, upstream_port: int, port: int | None = None) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.connections = 0

    def start(self) -> TcpProxy:
        """Listen and forward."""
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    restore = start

    def cut(self) -> None:
        """Refuse new connections and drop the open ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            _close(sock)

    close = cut

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return  # cut
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
                upstream.settimeout(None)
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:  # cut meanwhile
                    _close(client)
                    _close(upstream)
                    return
                self._sockets.update({client, upstream})
                self.connections += 1
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                _close(sock)
            with self._lock:
                self._sockets.discard(src)
                self._sockets.discard(dst)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()
