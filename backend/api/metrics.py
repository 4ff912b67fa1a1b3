"""``GET /metrics``: counts for monitoring, in the Prometheus text format.

Only aggregates (cases per status and route, overdue cases, queue depth,
dead letters): nothing here identifies a case or a person. Staff tokens
(supervisor, operator) read it, so a scraper needs a token of its own.
"""
from __future__ import annotations

import asyncio

from aiohttp import web
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.api.auth import SESSION_FACTORY_KEY, Role, require_role
from backend.store.models import Case

DEAD_LETTER_SCAN = 10_000


def _case_counts(factory: sessionmaker[Session]) -> tuple[list[tuple[str, str, int]], int]:
    with factory() as session:
        by_status = session.execute(
            select(Case.status, Case.legal_route, func.count()).group_by(Case.status, Case.legal_route)
        ).all()
        overdue = session.scalar(select(func.count()).where(Case.overdue.is_(True))) or 0
    return [(status, route or "", count) for status, route, count in by_status], overdue


def render(case_counts: list[tuple[str, str, int]], overdue: int, pending: int, dead: int) -> str:
    """The exposition text for the given counts."""
    lines = [
        "# HELP xinfang_cases Stored cases by status and legal route.",
        "# TYPE xinfang_cases gauge",
    ]
    lines += [
        f'xinfang_cases{{status="{status}",legal_route="{route}"}} {count}'
        for status, route, count in sorted(case_counts)
    ]
    lines += [
        "# HELP xinfang_cases_overdue Cases past a statutory deadline.",
        "# TYPE xinfang_cases_overdue gauge",
        f"xinfang_cases_overdue {overdue}",
        "# HELP xinfang_queue_pending Cases waiting in the queue (not yet stored).",
        "# TYPE xinfang_queue_pending gauge",
        f"xinfang_queue_pending {pending}",
        "# HELP xinfang_queue_dead_letters Messages moved aside after failing too often.",
        "# TYPE xinfang_queue_dead_letters gauge",
        f"xinfang_queue_dead_letters {dead}",
    ]
    return "\n".join(lines) + "\n"


@require_role(Role.SUPERVISOR, Role.OPERATOR)
async def metrics(request: web.Request) -> web.Response:
    """Prometheus metrics of the case pipeline."""
    from backend.api.app import QUEUE_KEY

    queue = request.app[QUEUE_KEY]
    case_counts, overdue = await asyncio.to_thread(_case_counts, request.app[SESSION_FACTORY_KEY])
    pending = await queue.pending_count()
    dead = len(await queue.dead_letters(limit=DEAD_LETTER_SCAN))
    return web.Response(
        text=render(case_counts, overdue, pending, dead), content_type="text/plain", charset="utf-8"
    )
