"""The ``xinfang`` command: start, stop and operate the whole product.

The bot environment owns this command. Backend commands (``worker``, ``api``,
``token``, ``migrate``) run in the backend environment's interpreter, so
Rasa's pins never meet the backend's (contract §1).
"""
from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Sequence

from channels.hotline_cli import add_hotline_parser, run_hotline
from channels.wechat_menu import add_wechat_parser, run_wechat
from bot.paths import CREDENTIALS, DOMAIN_DIR, ENDPOINTS, RASA, ROOT, backend_python, latest_model, var_dir

ACTION_PORT = int(os.environ.get("XF_ACTION_PORT", "5055"))
RASA_PORT = int(os.environ.get("XF_RASA_PORT", "5005"))


def _backend(*args: str) -> list[str]:
    return [str(backend_python()), "-m", "backend", *args]


def _endpoints_file() -> Path:
    """bot/endpoints.yml, or a copy under var/ pointing at a non-default action port."""
    host = os.environ.get("XF_ACTION_HOST", "127.0.0.1")
    if host == "127.0.0.1" and ACTION_PORT == 5055:
        return ENDPOINTS
    path = var_dir() / "endpoints.yml"
    path.write_text(f'action_endpoint:\n  url: "http://{host}:{ACTION_PORT}/webhook"\n', encoding="utf-8")
    return path


def train(force: bool = False) -> Path:
    """Trains a model unless one matching the data exists; returns its path."""
    command = [str(RASA), "train", "--domain", str(DOMAIN_DIR), "--out", "models"]
    if force:
        command.append("--force")
    subprocess.run(command, cwd=ROOT, check=True)
    model = latest_model()
    if model is None:
        raise SystemExit("训练失败：没有生成模型。")
    return model


def processes() -> dict[str, list[str]]:
    """The commands of every process ``xinfang run`` starts."""
    model = latest_model() or train()
    return {
        "actions": [str(RASA), "run", "actions", "--port", str(ACTION_PORT), "--actions", "actions"],
        "rasa": [
            str(RASA), "run", "--model", str(model), "--port", str(RASA_PORT),
            "--endpoints", str(_endpoints_file()), "--credentials", str(CREDENTIALS), "--cors", "*",
        ],
        "api": _backend("api"),
        "worker": _backend("worker"),
        "notify": _backend("notify"),
        "supervise": _backend("supervise"),
    }


def bot_token() -> str:
    """The service token the bot side uses with the backend (``XF_BOT_TOKEN``).

    Without one configured, a token with role ``bot`` is created once and kept
    in ``var/bot.token`` (mode 0600), so that ``make run`` works out of the box.
    """
    if os.environ.get("XF_BOT_TOKEN"):
        return os.environ["XF_BOT_TOKEN"]
    path = var_dir() / "bot.token"
    if not path.exists():
        token = subprocess.run(
            _backend("token", "create", "--role", "bot"), cwd=ROOT, check=True, capture_output=True, text=True
        ).stdout.strip()
        path.touch(mode=0o600)
        path.write_text(token, encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


def supervise(commands: dict[str, list[str]]) -> int:
    """Runs the commands together; Ctrl-C, SIGTERM or one of them ending stops all."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "XF_BOT_TOKEN": bot_token()}
    running = {
        name: subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
        for name, command in commands.items()
    }
    print("已启动：" + "，".join(f"{name}（pid {p.pid}）" for name, p in running.items()), flush=True)
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for name, process in running.items():
            if process.poll() is not None:
                print(f"进程 {name} 已退出（返回码 {process.returncode}），正在停止其他进程。", flush=True)
                exit_code = process.returncode or 1
                stopping = True
        time.sleep(0.5)
    for process in running.values():
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for process in running.values():
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
    return exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``xinfang`` console script."""
    parser = argparse.ArgumentParser(prog="xinfang", description="信访事项受理助手")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser(
        "run", help="start the rasa server, action server, backend API, worker, notifier and supervision job"
    )
    commands.add_parser("train", help="train the Rasa model if the data changed")
    worker = commands.add_parser("worker", help="consume the case queue")
    worker.add_argument("--concurrency", default="1")
    api = commands.add_parser("api", help="serve the backend HTTP API")
    api.add_argument("--host")
    api.add_argument("--port")
    commands.add_parser("migrate", help="bring the backend database schema up to date")
    token = commands.add_parser("token", help="API tokens for handlers and operators")
    token.add_argument("action", choices=["create"])
    token.add_argument("--role", required=True, choices=["handler", "supervisor", "operator", "bot"])
    add_hotline_parser(commands)
    add_wechat_parser(commands)
    args = parser.parse_args(argv)

    if args.command == "run":
        return supervise(processes())
    if args.command == "train":
        print(train())
        return 0
    if args.command == "worker":
        return subprocess.call(_backend("worker", "--concurrency", args.concurrency), cwd=ROOT)
    if args.command == "api":
        extra = [flag for pair in (("--host", args.host), ("--port", args.port)) if pair[1] for flag in pair]
        return subprocess.call(_backend("api", *extra), cwd=ROOT)
    if args.command == "migrate":
        return subprocess.call(_backend("migrate"), cwd=ROOT)
    if args.command == "wechat":
        return run_wechat(args)
    if args.command == "hotline":
        return run_hotline(args)
    if args.command == "token":
        return subprocess.call(_backend("token", "create", "--role", args.role), cwd=ROOT)
    return 2


if __name__ == "__main__":
    sys.exit(main())
