"""The backend HTTP API (aiohttp): health, readiness, handler case view, public progress."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from sqlalchemy.orm import Session, sessionmaker

from backend.api import handlers
from backend.api import metrics
from backend.api.auth import SESSION_FACTORY_KEY
from backend.api.common import (
    LIMITER_KEY,
    PROGRESS_BAD_REQUEST,
    PROGRESS_NOT_FOUND,
    QUEUE_KEY,
    SETTINGS_KEY,
    TOO_MANY_ATTEMPTS,
    FailureLimiter,
    json_response,
)
from backend.api.openapi import openapi_document
from backend.queue.base import CaseQueue
from backend.security import normalize_case_id, verify_query_code
from backend.settings import Settings
from backend.store import make_sessionmaker, migrate, ping
from backend.store.repository import get_case_row, progress_view

log = logging.getLogger("xinfang.api")

__all__ = ["LIMITER_KEY", "QUEUE_KEY", "SETTINGS_KEY", "FailureLimiter", "create_app", "run_api"]


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
        return json_response(TOO_MANY_ATTEMPTS, status=429,
                             headers={"Retry-After": str(int(settings.progress_failure_window_s))})
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
    add_routes(app)
    return app


async def openapi(request: web.Request) -> web.Response:
    """The OpenAPI 3 document of this API."""
    return json_response(openapi_document())


#: (method, path, handler): the whole API, also the source of the role table in the docs
ROUTES: tuple[tuple[str, str, Any], ...] = (
    ("GET", "/health", health),
    ("GET", "/ready", ready),
    ("GET", "/metrics", metrics.metrics),
    ("GET", "/api/v1/openapi.json", openapi),
    ("GET", "/api/v1/whoami", handlers.whoami),
    ("GET", "/api/v1/cases", handlers.list_cases),
    ("POST", "/api/v1/cases", handlers.post_case),
    ("GET", "/api/v1/cases/{case_id}", handlers.get_case),
    ("POST", "/api/v1/cases/{case_id}/transitions", handlers.post_transition),
    ("POST", "/api/v1/cases/{case_id}/opinion", handlers.post_opinion),
    ("GET", "/api/v1/supervision", handlers.supervision),
    ("GET", "/api/v1/dead-letters", handlers.dead_letters),
    ("GET", "/api/v1/notifications", handlers.notifications),
    ("GET", "/api/v1/progress", progress),
    ("GET", "/api/v1/progress/by-channel-user", handlers.progress_by_channel_user),
    ("POST", "/api/v1/progress/evaluation", handlers.post_evaluation),
    ("POST", "/api/v1/progress/review-request", handlers.post_review_request),
)


def add_routes(app: web.Application) -> None:
    """Register :data:`ROUTES` (GET routes answer HEAD too)."""
    for method, path, handler in ROUTES:
        if method == "GET":
            app.router.add_get(path, handler, allow_head=False)
        else:
            app.router.add_route(method, path, handler)


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
