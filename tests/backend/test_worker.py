"""The worker: every case handed over by the bot ends up stored once, or in the dead letters."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from backend import worker
from backend.queue.base import CaseQueue, open_queue
from backend.settings import Settings
from backend.store.models import Case, CaseEvent
from backend.worker import run_worker

MakeCase = Callable[..., dict[str, Any]]
TIMEOUT_S = 20


@pytest.fixture
async def queue(settings: Settings, tmp_path: Path) -> AsyncIterator[CaseQueue]:
    """An embedded queue that gives a failed case back quickly and gives up after two tries."""
    q = open_queue(
        redis_url=None,
        sqlite_path=tmp_path / "queue.sqlite3",
        visibility_timeout_s=0.2,
        max_attempts=2,
        prefix=settings.queue_prefix,
    )
    yield q
    await q.close()


async def drain(
    settings: Settings,
    queue: CaseQueue,
    session_factory: sessionmaker[Session],
    *,
    consumers: int = 1,
    until: Callable[[], Any] | None = None,
) -> None:
    """Run worker loops until the queue is empty (or *until* holds), then stop them."""
    stop = asyncio.Event()
    loops = [
        asyncio.create_task(
            run_worker(settings, consumer=f"test-{i}", stop=stop, batch=5, queue=queue,
                       session_factory=session_factory)
        )
        for i in range(consumers)
    ]

    async def done() -> bool:
        return bool(await until()) if until else await queue.pending_count() == 0

    try:
        async with asyncio.timeout(TIMEOUT_S):
            while not await done():
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*loops)


def count(session_factory: sessionmaker[Session], model: type) -> int:
    with session_factory() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


async def test_every_published_case_is_stored_exactly_once(
    settings: Settings, queue: CaseQueue, session_factory: sessionmaker[Session], make_case: MakeCase
) -> None:
    cases = [make_case() for _ in range(12)]
    for case in cases:
        await queue.publish(case)
    for case in cases[:4]:  # the bot retried: the same cases arrive again
        await queue.publish(case)

    await drain(settings, queue, session_factory, consumers=3)

    with session_factory() as session:
        stored = set(session.scalars(select(Case.case_id)))
    assert stored == {c["case_id"] for c in cases}
    assert count(session_factory, CaseEvent) == len(cases)
    assert await queue.dead_letters() == []


async def test_a_case_that_cannot_be_saved_goes_back_to_the_queue_without_personal_data(
    settings: Settings,
    queue: CaseQueue,
    session_factory: sessionmaker[Session],
    make_case: MakeCase,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    good, bad = make_case(), make_case()
    real_save = worker.save_case

    def save(session: Session, case: dict[str, Any]) -> bool:
        if case["case_id"] == bad["case_id"]:
            raise RuntimeError(f"cannot store {case['petitioner']['name']} {case['petitioner']['phone']}")
        return real_save(session, case)

    monkeypatch.setattr(worker, "save_case", save)
    await queue.publish(bad)
    await queue.publish(good)

    async def bad_is_dead() -> bool:
        return bool(await queue.dead_letters())

    with caplog.at_level(logging.INFO, logger="xinfang"):
        await drain(settings, queue, session_factory, until=bad_is_dead)

    [dead] = await queue.dead_letters()
    assert dead["case_id"] == bad["case_id"]
    assert dead["error"] == "RuntimeError"
    with session_factory() as session:
        assert list(session.scalars(select(Case.case_id))) == [good["case_id"]]
    assert bad["case_id"] in caplog.text
    assert "李秀英" not in caplog.text and "13800138000" not in caplog.text


async def test_an_invalid_payload_is_dead_lettered_with_the_field_but_not_the_value(
    settings: Settings, queue: CaseQueue, session_factory: sessionmaker[Session], make_case: MakeCase
) -> None:
    case = make_case(received_at="上周三 13800138000")

    async def is_dead() -> bool:
        return bool(await queue.dead_letters())

    await queue.publish(case)
    await drain(settings, queue, session_factory, until=is_dead)

    [dead] = await queue.dead_letters()
    assert "received_at" in dead["error"]
    assert "13800138000" not in dead["error"]
    assert count(session_factory, Case) == 0


async def test_a_worker_stops_when_asked(
    settings: Settings, queue: CaseQueue, session_factory: sessionmaker[Session]
) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(
        run_worker(settings, consumer="idle", stop=stop, queue=queue, session_factory=session_factory)
    )
    await asyncio.sleep(0.1)
    stop.set()
    async with asyncio.timeout(5):
        await task
