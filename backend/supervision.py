"""The periodic supervision job: flag overdue cases and put them on the supervision list (督办).

Thin, like e-petitions' jobs: one round is ``repository.flag_overdue(now)``.
Overdue means an organ's deadline passed (acceptance 第22/23条, conclusion
第34条, 复查 第35条, 复核 第36条); each crossing is recorded once.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from backend.store.repository import flag_overdue

log = logging.getLogger("xinfang.supervision")

DEFAULT_INTERVAL_S = 300.0


def supervise_once(session_factory: sessionmaker[Session], now: datetime | None = None) -> list[str]:
    """One round in one transaction; returns the case ids newly put on the supervision list."""
    with session_factory.begin() as session:
        flagged = flag_overdue(session, now)
    if flagged:
        log.info("%d case(s) newly overdue: %s", len(flagged), ", ".join(flagged))
    return flagged


async def run_supervision(
    session_factory: sessionmaker[Session],
    *,
    interval_s: float = DEFAULT_INTERVAL_S,
    once: bool = False,
    stop: asyncio.Event | None = None,
) -> None:
    """Run :func:`supervise_once` every *interval_s* seconds until *stop* is set."""
    stop = stop or asyncio.Event()
    while True:
        try:
            await asyncio.to_thread(supervise_once, session_factory)
        except Exception:  # noqa: BLE001 - the database may be down for a while
            log.exception("supervision round failed; retrying next round")
        if once:
            return
        try:
            await asyncio.wait_for(stop.wait(), timeout=interval_s)
            return
        except asyncio.TimeoutError:
            pass
