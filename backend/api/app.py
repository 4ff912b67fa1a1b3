"""The backend HTTP API (aiohttp): health, readiness, handler case view, public progress."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from sqlalchemy.orm import Session, sessionmaker

from backend.api.auth import SESSION_FACTORY_KEY, require_role
from backend.queue.base import CaseQueue
from backend.security import normalize_case_id, verify_query_code
from backend.settings import Settings
from backend.store import make_sessionmaker, migrate, ping
from backend.store.repository import case_to_dict, get_case_row, progress_view

log = logging.getLogger("xinfang.api")

#: JSON with Chinese text as is
json_response = partial(web.json_response, dumps=partial(json.dumps, ensure_ascii=False))

SETTINGS_KEY = web.AppKey("settings", Settings)
QUEUE_KEY = web.AppKey("queue", CaseQueue)

NOT_FOUND = {"error": "not_found", "message": "未找到该信访事项。"}
PROGRESS_NOT_FOUND = {
    "error": "not_found",
    "message": "未查询到匹配的信访事项，请核对信访件编号和查询码。",
}
PROGRESS_BAD_REQUEST = {"error": "bad_request", "message": "请提供信访件编号和查询码。"}
TOO_MANY_ATTEMPTS = {"error": "too_many_attempts", "message": "查询失败次数过多，请稍后再试。"}


class FailureLimiter:
    """Counts failures per key in a sliding window (in memory, per process)."""

    def __init__(self, *, window_s: float) -> None:
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def count(self, key: str, now: float | None = None) -> int:
        """Failures of *key* within the window."""
        now = time.monotonic() if now is None else now
        q = self._failures.get(key)
        if not q:
            return 0
        while q and q[0] <= now - self.window_s:
            q.popleft()
        if not q:
            del self._failures[key]
            return 0
        return len(q)

    def add(self, key: str, now: float | None = None) -> None:
        """Record one failure of *key*."""
        self._failures[key].append(time.monotonic() if now is None else now)


LIMITER_KEY = web.AppKey("limiter", FailureLimiter)


class PathOnlyAccessLogger(AbstractAccessLogger):
    """Access log without query strings (they may carry a query code)."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info("%s %s %s %.3fs", request.method, request.path, response.status, time)


async def health(request: web.Request) -> web.Response:
    """Liveness: the process answers."""
    return json_response({"status": "ok"})


async def ready(request: web.Request) -> web.Response:
    """Readiness: the database and the queue both answer."""
    database = await asyncio.to_thread(ping, request.app[SESSION_FACTORY_KEY])
    try:
        queue = await request.app[QUEUE_KEY].ping()
    except Exception:  # noqa: BLE001 - readiness only reports
        log.warning("queue ping failed", exc_info=True)
        queue = False
    ok = database and queue
    return json_response(
        {"status": "ok" if ok else "unavailable", "database": database, "queue": queue},
        status=200 if ok else 503,
    )


def _load_case(factory: sessionmaker[Session], case_id: str) -> dict[str, Any] | None:
    with factory() as session:
        row = get_case_row(session, case_id)
        return case_to_dict(row) if row else None


@require_role()
async def get_case(request: web.Request) -> web.Response:
    """A case with petitioner, events and deadlines (handler, supervisor, operator)."""
    factory = request.app[SESSION_FACTORY_KEY]
    case = await asyncio.to_thread(_load_case, factory, request.match_info["case_id"])
    if case is None:
        return json_response(NOT_FOUND, status=404)
    return json_response(case)


def _check_progress(factory: sessionmaker[Session], case_id: str, code: str) -> dict[str, Any] | None:
    with factory() as session:
        row = get_case_row(session, case_id)
        # verify even for unknown cases: the same work, the same answer
        ok = verify_query_code(code, row.query_code_hash if row else None)
        return progress_view(row) if ok and row is not None else None


async def progress(request: web.Request) -> web.Response:
    """Public progress query by case number and query code (contract §7)."""
    case_id = normalize_case_id(request.query.get("case_id", ""))
    code = request.query.get("code", "").strip()
    if not case_id or not code or len(case_id) > 32 or len(code) > 32:
        return json_response(PROGRESS_BAD_REQUEST, status=400)
    settings = request.app[SETTINGS_KEY]
    limiter = request.app[LIMITER_KEY]
    case_key, client_key = f"case:{case_id}", f"client:{request.remote}"
    if (
        limiter.count(case_key) >= settings.progress_failures_per_case
        or limiter.count(client_key) >= settings.progress_failures_per_client
    ):
        return json_response(TOO_MANY_ATTEMPTS, status=429)
    view = await asyncio.to_thread(_check_progress, request.app[SESSION_FACTORY_KEY], case_id, code)
    if view is None:
        limiter.add(case_key)
        limiter.add(client_key)
        log.info("progress query refused for a case number")
        return json_response(PROGRESS_NOT_FOUND, status=404)
    return json_response(view)


def create_app(
    settings: Settings,
    *,
    session_factory: sessionmaker[Session] | None = None,
    queue: CaseQueue | None = None,
) -> web.Application:
    """Build the application; resources not given are opened from *settings* and closed with it."""
    app = web.Application()
    app[SETTINGS_KEY] = settings
    app[LIMITER_KEY] = FailureLimiter(window_s=settings.progress_failure_window_s)

    async def resources(app: web.Application) -> AsyncIterator[None]:
        from backend.worker import open_settings_queue

        own_factory = session_factory is None
        app[SESSION_FACTORY_KEY] = session_factory or make_sessionmaker(settings)
        app[QUEUE_KEY] = queue or open_settings_queue(settings)
        yield
        if queue is None:
            await app[QUEUE_KEY].close()
        if own_factory:
            app[SESSION_FACTORY_KEY].kw["bind"].dispose()

    app.cleanup_ctx.append(resources)
    app.router.add_get("/health", health)
    app.router.add_get("/ready", ready)
    app.router.add_get("/api/v1/cases/{case_id}", get_case)
    app.router.add_get("/api/v1/progress", progress)
    return app


def run_api(settings: Settings, *, host: str | None = None, port: int | None = None) -> None:
    """Migrate the database, then serve until SIGINT/SIGTERM."""
    migrate(settings.database_url)
    web.run_app(
        create_app(settings),
        host=host or settings.api_host,
        port=port or settings.api_port,
        access_log=logging.getLogger("xinfang.api.access"),
        access_log_class=PathOnlyAccessLogger,
        print=None,
    )
    log.info("api stopped")
