"""Cases past a deadline land on the supervision list once, and leave it when they move on."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from aiohttp.test_utils import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend.store import transition_case
from backend.store.models import SupervisionItem
from backend.supervision import supervise_once

CST = timezone(timedelta(hours=8))
Stored = Callable[..., dict[str, Any]]


def items(session_factory: sessionmaker[Session]) -> list[tuple[str, str, str, bool]]:
    with session_factory() as session:
        rows = session.scalars(select(SupervisionItem).order_by(SupervisionItem.id)).all()
        return [(r.case_id, r.deadline, r.due.isoformat(), r.resolved_at is None) for r in rows]


def test_an_overdue_case_is_put_on_the_list_once(session_factory: sessionmaker[Session], stored: Stored) -> None:
    late = stored(received_at="2026-01-01T09:00:00+08:00")
    stored(received_at="2026-01-19T09:00:00+08:00")
    now = datetime(2026, 1, 20, 12, 0, tzinfo=CST)
    assert supervise_once(session_factory, now) == [late["case_id"]]
    assert supervise_once(session_factory, now + timedelta(days=1)) == []
    assert items(session_factory) == [(late["case_id"], "acceptance_due", "2026-01-16", True)]


def test_moving_on_resolves_the_entry_and_a_later_deadline_is_flagged_again(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    case = stored(received_at="2026-01-01T09:00:00+08:00")
    supervise_once(session_factory, datetime(2026, 1, 20, tzinfo=CST))
    with session_factory.begin() as session:
        transition_case(session, case["case_id"], "accepted", actor="handler:1",
                        at=datetime(2026, 1, 21, 9, 0, tzinfo=CST))
    assert items(session_factory)[0][3] is False  # resolved
    assert supervise_once(session_factory, datetime(2026, 3, 22, tzinfo=CST)) == []
    assert supervise_once(session_factory, datetime(2026, 3, 23, 1, 0, tzinfo=CST)) == [case["case_id"]]
    assert items(session_factory)[1] == (case["case_id"], "conclusion_due", "2026-03-22", True)


def test_two_supervision_jobs_at_once_flag_a_case_once(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    cases = [stored(received_at="2026-01-01T09:00:00+08:00") for _ in range(5)]
    now = datetime(2026, 1, 20, tzinfo=CST)
    barrier = threading.Barrier(3)
    results: list[list[str]] = []

    def run() -> None:
        barrier.wait()
        results.append(supervise_once(session_factory, now))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(cid for r in results for cid in r) == sorted(c["case_id"] for c in cases)
    with session_factory() as session:
        assert session.scalar(select(func.count()).select_from(SupervisionItem)) == 5


async def test_supervisors_read_the_list_over_http(
    api_client: TestClient, auth: Callable[[str], dict[str, str]], session_factory: sessionmaker[Session],
    stored: Stored,
) -> None:
    late = stored(received_at="2026-01-01T09:00:00+08:00")
    supervise_once(session_factory, datetime(2026, 1, 20, tzinfo=CST))
    body = await (await api_client.get("/api/v1/supervision", headers=auth("supervisor"))).json()
    [item] = body["items"]
    assert item["case_id"] == late["case_id"]
    assert item["deadline_label"] == "受理告知期限" and "第二十二条" in item["article"]
    assert item["days_overdue"] > 0
    assert (await api_client.get("/api/v1/supervision", headers=auth("handler"))).status == 403
