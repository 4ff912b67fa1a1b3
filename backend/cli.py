"""Command line: ``python -m backend migrate | worker | api | supervise | notify | token create``.

Thin: parses options and calls importable functions.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from backend.settings import Settings

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the backend command line."""
    parser = argparse.ArgumentParser(prog="python -m backend", description="信访 backend: store, worker, API")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("migrate", help="upgrade the database schema to the latest revision")

    worker = commands.add_parser("worker", help="consume the case queue")
    worker.add_argument("--concurrency", type=int, default=1, help="consumer loops in this process")

    api = commands.add_parser("api", help="serve the HTTP API")
    api.add_argument("--host", default=None, help="listen address (default XF_API_HOST or 127.0.0.1)")
    api.add_argument("--port", type=int, default=None, help="listen port (default XF_API_PORT or 8000)")

    supervise = commands.add_parser("supervise", help="flag overdue cases for the supervision list")
    supervise.add_argument("--once", action="store_true", help="one round, then exit")
    supervise.add_argument("--interval", type=float, default=300.0, help="seconds between rounds (default 300)")

    notify = commands.add_parser("notify", help="deliver citizens' notifications from the outbox")
    notify.add_argument("--once", action="store_true", help="one round, then exit")
    notify.add_argument("--interval", type=float, default=None,
                        help="seconds between rounds (default XF_NOTIFY_INTERVAL_S or 30)")

    token = commands.add_parser("token", help="manage API tokens")
    token_commands = token.add_subparsers(dest="token_command", required=True)
    create = token_commands.add_parser("create", help="create a token and print it once")
    create.add_argument("--role", required=True, choices=["handler", "supervisor", "operator", "bot"])
    revoke = token_commands.add_parser("revoke", help="revoke a token (read from stdin)")
    revoke.add_argument("token", nargs="?", help="the token; read from stdin when absent")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    settings = Settings()
    logging.basicConfig(level=settings.log_level.upper(), format=LOG_FORMAT)
    logging.getLogger("alembic").setLevel(logging.WARNING)

    if args.command == "migrate":
        from backend.store import migrate

        migrate(settings.database_url)
        return 0
    if args.command == "worker":
        from backend.worker import run_workers

        asyncio.run(run_workers(settings, concurrency=args.concurrency))
        return 0
    if args.command == "api":
        from backend.api.app import run_api

        run_api(settings, host=args.host, port=args.port)
        return 0
    if args.command in ("supervise", "notify"):
        return _periodic(settings, args)
    if args.command == "token":
        return _token(settings, args)
    return 2


def _periodic(settings: Settings, args: argparse.Namespace) -> int:
    from backend.store import make_sessionmaker, migrate

    migrate(settings.database_url)
    factory = make_sessionmaker(settings)
    try:
        if args.command == "supervise":
            from backend.supervision import run_supervision

            asyncio.run(run_supervision(factory, interval_s=args.interval, once=args.once))
        else:
            from backend.notify.config import NotifySettings
            from backend.notify.dispatcher import run_notifier

            asyncio.run(run_notifier(factory, NotifySettings(), once=args.once, interval_s=args.interval))
    except KeyboardInterrupt:
        pass
    finally:
        factory.kw["bind"].dispose()
    return 0


def _token(settings: Settings, args: argparse.Namespace) -> int:
    from backend.api.auth import create_token, revoke_token
    from backend.store import make_sessionmaker, migrate

    migrate(settings.database_url)
    factory = make_sessionmaker(settings)
    try:
        with factory.begin() as session:
            if args.token_command == "create":
                print(create_token(session, args.role))
                print(f"已创建 {args.role} 令牌。令牌只显示这一次，请妥善保存。", file=sys.stderr)
                return 0
            token = (args.token or sys.stdin.readline()).strip()
            if revoke_token(session, token):
                print("令牌已吊销。", file=sys.stderr)
                return 0
            print("未找到该令牌，或已吊销。", file=sys.stderr)
            return 1
    finally:
        factory.kw["bind"].dispose()
