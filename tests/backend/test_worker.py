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


def _operational_error(orig: BaseException) -> Exception:
    from sqlalchemy.exc import OperationalError

    return OperationalError("INSERT INTO cases ...", {"name": "李秀英"}, orig)


def test_database_connection_errors_are_infrastructure_and_bad_cases_are_not() -> None:
    import sqlite3

    import psycopg
    from psycopg import errors as pg
    from pydantic import BaseModel
    from sqlalchemy.exc import DataError, IntegrityError

    class Strict(BaseModel):
        n: int

    try:
        Strict.model_validate({"n": "x"})
    except Exception as exc:  # noqa: BLE001
        validation = exc

    assert worker.is_infrastructure_error(_operational_error(psycopg.OperationalError("connection refused")))
    assert worker.is_infrastructure_error(_operational_error(pg.AdminShutdown("terminating connection")))
    assert worker.is_infrastructure_error(_operational_error(pg.TooManyConnections("too many clients")))
    assert worker.is_infrastructure_error(_operational_error(sqlite3.OperationalError("database is locked")))
    assert not worker.is_infrastructure_error(_operational_error(pg.ProgramLimitExceeded("index row too big")))
    assert not worker.is_infrastructure_error(validation)
    assert not worker.is_infrastructure_error(IntegrityError("INSERT", {}, pg.UniqueViolation("dup")))
    assert not worker.is_infrastructure_error(DataError("INSERT", {}, pg.StringDataRightTruncation("long")))
    assert not worker.is_infrastructure_error(RuntimeError("bug"))


async def test_a_database_outage_does_not_use_up_a_cases_attempts(
    settings: Settings,
    queue: CaseQueue,
    session_factory: sessionmaker[Session],
    make_case: MakeCase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The queue gives up after two deliveries; the database refuses ten times in a row.
    The case must wait, not die, and be stored once the database answers."""
    import psycopg

    case = make_case()
    outage = {"left": 10}
    real_store, real_probe = worker.store_case, worker.database_answers

    def store(factory: sessionmaker[Session], payload: dict[str, Any]) -> bool:
        if outage["left"] > 0:
            outage["left"] -= 1
            raise _operational_error(psycopg.OperationalError("connection refused"))
        return real_store(factory, payload)

    def probe(factory: sessionmaker[Session]) -> bool:
        if outage["left"] > 0:
            outage["left"] -= 1
            return False
        return real_probe(factory)

    monkeypatch.setattr(worker, "store_case", store)
    monkeypatch.setattr(worker, "database_answers", probe)
    monkeypatch.setattr(worker, "BACKOFF_START_S", 0.01)
    monkeypatch.setenv(worker.ENV_BACKOFF_MAX, "0.05")
    await queue.publish(case)

    async def stored() -> bool:
        return count(session_factory, Case) == 1

    await drain(settings, queue, session_factory, until=stored)

    assert outage["left"] <= 0
    assert await queue.dead_letters() == []
    async with asyncio.timeout(5):
        while await queue.pending_count():
            await asyncio.sleep(0.05)
    assert count(session_factory, CaseEvent) == 1


async def test_cases_left_in_the_producer_spool_are_stored_without_a_new_case_being_filed(
    settings: Settings, session_factory: sessionmaker[Session], make_case: MakeCase
) -> None:
    """Cases the action server spooled (queue unreachable) reach the database through the
    worker: those spooled before it started, and those spooled while it runs."""
    from backend.queue.base import encode_case
    from backend.queue.spool import CaseSpool

    spool = CaseSpool(settings.var_dir / "spool.sqlite3", queue=settings.queue_prefix)
    before, later = make_case(), make_case()
    spool.add(case_id=before["case_id"], payload=encode_case(before)[1], error="ConnectionError")
    stop = asyncio.Event()
    task = asyncio.create_task(worker.run_workers(settings, stop=stop, spool_flush_s=0.1))

    def stored_ids() -> set[str]:
        with session_factory() as session:
            return set(session.scalars(select(Case.case_id)))

    try:
        async with asyncio.timeout(TIMEOUT_S):
            while before["case_id"] not in stored_ids():
                await asyncio.sleep(0.05)
            spool.add(case_id=later["case_id"], payload=encode_case(later)[1], error="ConnectionError")
            while later["case_id"] not in stored_ids():
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        async with asyncio.timeout(10):
            await task
        spool.close()
    assert spool.count() == 0
    assert stored_ids() == {before["case_id"], later["case_id"]}
