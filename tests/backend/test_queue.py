"""The case queue keeps every case until a worker has stored it (contract section 5).

The same behaviour is checked on both implementations: the embedded SQLite queue and
the Redis Stream (database 15 of the local Redis, one prefix per test).
"""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import pytest_asyncio

from backend.queue import CaseQueue, Delivery, open_queue
from backend.queue.embedded import EmbeddedCaseQueue
from backend.queue.producer import CaseProducer
from backend.queue.redis import RedisCaseQueue
from tests.backend.queue_fixtures import (
    REDIS_TEST_URL,
    UNREACHABLE_REDIS_URL,
    delete_prefix_keys,
    require_redis,
    sample_case,
    unique_prefix,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass
class QueueSite:
    """Where one test's queue lives; ``open()`` gives another handle on it (another
    worker process, or the same worker after a restart)."""

    kind: str
    prefix: str
    sqlite_path: Path
    opened: list[CaseQueue] = field(default_factory=list)

    @property
    def redis_url(self) -> str | None:
        return REDIS_TEST_URL if self.kind == "redis" else None

    def open(self, *, visibility_timeout_s: float = 30, max_attempts: int = 5) -> CaseQueue:
        queue = open_queue(
            redis_url=self.redis_url,
            sqlite_path=self.sqlite_path,
            visibility_timeout_s=visibility_timeout_s,
            max_attempts=max_attempts,
            prefix=self.prefix,
        )
        self.opened.append(queue)
        return queue

    def producer(self) -> CaseProducer:
        return CaseProducer(
            redis_url=self.redis_url, var_dir=self.sqlite_path.parent, prefix=self.prefix
        )

    async def inject_raw(self, case_id: str, payload: str) -> None:
        """Put a message on the queue without the publish checks (a corrupt message)."""
        if self.kind == "redis":
            import redis.asyncio

            client = redis.asyncio.Redis.from_url(REDIS_TEST_URL)
            await client.xadd(f"{self.prefix}:cases", {"case_id": case_id, "case": payload})
            await client.aclose()
        else:
            conn = sqlite3.connect(self.sqlite_path)
            with conn:
                conn.execute(
                    "INSERT INTO queue_messages (queue, case_id, payload, enqueued_at)"
                    " VALUES (?, ?, ?, ?)",
                    (self.prefix, case_id, payload, time.time()),
                )
            conn.close()


@pytest_asyncio.fixture(params=["embedded", pytest.param("redis", marks=pytest.mark.redis)])
async def site(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[QueueSite]:
    if request.param == "redis":
        require_redis()
    var_dir = tmp_path / "var"
    var_dir.mkdir()
    site = QueueSite(
        kind=request.param, prefix=unique_prefix(), sqlite_path=var_dir / "queue.sqlite3"
    )
    yield site
    for queue in site.opened:
        await queue.close()
    if site.kind == "redis":
        delete_prefix_keys(REDIS_TEST_URL, site.prefix)


async def receive_until(
    queue: CaseQueue, *, consumer: str, want: int, timeout_s: float = 5, count: int = 10
) -> list[Delivery]:
    """Receive until ``want`` deliveries arrived (or fail after ``timeout_s``)."""
    got: list[Delivery] = []
    deadline = time.monotonic() + timeout_s
    while len(got) < want:
        assert time.monotonic() < deadline, f"only {len(got)} of {want} deliveries arrived"
        got += await queue.receive(consumer=consumer, count=count, block_ms=100)
    return got


# -- the ordinary path ------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_published_case_reaches_a_worker_intact_and_is_gone_after_ack(
    site: QueueSite,
) -> None:
    queue = site.open(visibility_timeout_s=0.2)
    case = sample_case(1)

    await queue.publish(case)
    assert await queue.pending_count() == 1

    [delivery] = await queue.receive(consumer="w1", block_ms=1000)
    assert delivery.case == case  # Chinese text and nested fields unchanged
    assert delivery.attempts == 0

    await queue.ack(delivery)
    assert await queue.pending_count() == 0
    await asyncio.sleep(0.3)  # past the visibility timeout: an acked case never returns
    assert await queue.receive(consumer="w2", block_ms=0) == []


@pytest.mark.asyncio
async def test_cases_arrive_in_the_order_they_were_published(site: QueueSite) -> None:
    queue = site.open()
    for n in range(5):
        await queue.publish(sample_case(n))

    got = await receive_until(queue, consumer="w1", want=5)

    assert [d.case["case_id"] for d in got] == [sample_case(n)["case_id"] for n in range(5)]


@pytest.mark.asyncio
async def test_receive_waits_for_a_case_published_meanwhile(site: QueueSite) -> None:
    worker, front = site.open(), site.open()

    async def publish_later() -> None:
        await asyncio.sleep(0.2)
        await front.publish(sample_case(7))

    publisher = asyncio.create_task(publish_later())
    started = time.monotonic()
    got = await worker.receive(consumer="w1", block_ms=3000)
    await publisher

    assert [d.case["case_id"] for d in got] == [sample_case(7)["case_id"]]
    assert time.monotonic() - started < 2.5


@pytest.mark.asyncio
async def test_an_empty_queue_returns_nothing_after_the_block_time(site: QueueSite) -> None:
    queue = site.open()
    started = time.monotonic()

    assert await queue.receive(consumer="w1", block_ms=200) == []
    assert 0.15 <= time.monotonic() - started < 2


@pytest.mark.asyncio
async def test_a_case_from_the_producer_reaches_a_worker(site: QueueSite) -> None:
    queue = site.open()
    producer = site.producer()
    try:
        producer.publish(sample_case(3))
    finally:
        producer.close()

    [delivery] = await receive_until(queue, consumer="w1", want=1)
    assert delivery.case == sample_case(3)
    assert delivery.attempts == 0


# -- refusals ---------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_a_case_with_the_query_code_in_clear_is_refused(site: QueueSite) -> None:
    queue = site.open()

    with pytest.raises(ValueError, match="query_code"):
        await queue.publish(sample_case(1, query_code="483920"))
    assert await queue.pending_count() == 0


@pytest.mark.asyncio
async def test_a_case_without_a_case_number_is_refused(site: QueueSite) -> None:
    queue = site.open()
    case = sample_case(1)
    del case["case_id"]

    with pytest.raises(ValueError, match="case_id"):
        await queue.publish(case)
    assert await queue.pending_count() == 0


# -- failures and redelivery ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_an_unacknowledged_case_goes_to_another_worker_after_the_visibility_timeout(
    site: QueueSite,
) -> None:
    first, second = site.open(visibility_timeout_s=0.2), site.open(visibility_timeout_s=0.2)
    await first.publish(sample_case(1))
    [held] = await first.receive(consumer="w1", block_ms=1000)

    assert await second.receive(consumer="w2", block_ms=0) == []  # still claimed by w1
    await asyncio.sleep(0.3)
    [again] = await second.receive(consumer="w2", block_ms=0)

    assert again.case == held.case
    assert again.attempts == 1
    await second.ack(again)
    assert await second.pending_count() == 0


@pytest.mark.asyncio
async def test_a_case_that_keeps_failing_ends_in_the_dead_letters_with_its_error(
    site: QueueSite,
) -> None:
    queue = site.open(visibility_timeout_s=0.1, max_attempts=3)
    await queue.publish(sample_case(9))

    attempts_seen = []
    for n in range(1, 4):
        [delivery] = await receive_until(queue, consumer="w1", want=1)
        attempts_seen.append(delivery.attempts)
        await queue.fail(delivery, f"IntegrityError: attempt {n}")

    assert attempts_seen == [0, 1, 2]
    await asyncio.sleep(0.2)
    assert await queue.receive(consumer="w1", block_ms=0) == []
    assert await queue.pending_count() == 0
    [letter] = await queue.dead_letters()
    assert letter["case_id"] == sample_case(9)["case_id"]
    assert letter["error"] == "IntegrityError: attempt 3"
    assert letter["attempts"] == 3
    assert letter["case"] == sample_case(9)
    assert letter["message_id"] == delivery.message_id
    assert letter["failed_at"]


@pytest.mark.asyncio
async def test_a_failed_case_is_retried_and_can_still_succeed(site: QueueSite) -> None:
    queue = site.open(visibility_timeout_s=0.1, max_attempts=3)
    await queue.publish(sample_case(4))

    [first] = await receive_until(queue, consumer="w1", want=1)
    await queue.fail(first, "database is locked")
    [second] = await receive_until(queue, consumer="w1", want=1)
    await queue.ack(second)

    assert second.attempts == 1
    assert await queue.pending_count() == 0
    assert await queue.dead_letters() == []


@pytest.mark.asyncio
async def test_a_case_that_kills_its_worker_every_time_is_buried(site: QueueSite) -> None:
    """A poison case whose worker dies before ``fail`` must not loop forever."""
    queue = site.open(visibility_timeout_s=0.1, max_attempts=2)
    await queue.publish(sample_case(5))

    for _ in range(2):  # delivered, never acknowledged (the worker died)
        await receive_until(queue, consumer="w1", want=1)
    await asyncio.sleep(0.15)

    assert await queue.receive(consumer="w1", block_ms=0) == []
    [letter] = await queue.dead_letters()
    assert letter["case_id"] == sample_case(5)["case_id"]
    assert letter["attempts"] == 2
    assert "without acknowledgement" in letter["error"]


@pytest.mark.asyncio
async def test_a_message_that_is_not_a_case_goes_straight_to_the_dead_letters(
    site: QueueSite,
) -> None:
    queue = site.open()
    await queue.publish(sample_case(1))  # creates the stream / table
    await site.inject_raw("XF-BROKEN", "{not json")

    got = await receive_until(queue, consumer="w1", want=1)

    assert [d.case["case_id"] for d in got] == [sample_case(1)["case_id"]]
    [letter] = await queue.dead_letters()
    assert letter["case_id"] == "XF-BROKEN"
    assert "not a JSON object" in letter["error"]


# -- several workers --------------------------------------------------------------------


@pytest.mark.asyncio
async def test_two_workers_never_hold_the_same_case_at_once(site: QueueSite) -> None:
    total = 40
    front = site.open()
    for n in range(total):
        await front.publish(sample_case(n))
    workers = [site.open(), site.open()]

    async def drain(queue: CaseQueue, name: str) -> list[Delivery]:
        got: list[Delivery] = []
        while True:
            batch = await queue.receive(consumer=name, count=3, block_ms=200)
            if not batch:
                return got
            got += batch
            await asyncio.sleep(0.01)  # a worker busy with its batch lets the other in

    a, b = await asyncio.gather(drain(workers[0], "w1"), drain(workers[1], "w2"))

    ids_a = {d.case["case_id"] for d in a}
    ids_b = {d.case["case_id"] for d in b}
    assert len(a) + len(b) == total  # nobody got a case twice
    assert not ids_a & ids_b
    assert ids_a | ids_b == {sample_case(n)["case_id"] for n in range(total)}
    assert a and b  # both workers took part


_WORKER_SCRIPT = """
import asyncio, sys
from pathlib import Path
from backend.queue import open_queue

async def main():
    queue = open_queue(redis_url=sys.argv[1] or None, sqlite_path=Path(sys.argv[2]),
                       visibility_timeout_s=0.5, prefix=sys.argv[3])
    [delivery] = await queue.receive(consumer="doomed", block_ms=5000)
    print(delivery.case["case_id"], flush=True)
    await asyncio.sleep(60)

asyncio.run(main())
"""


@pytest.mark.asyncio
async def test_the_case_of_a_killed_worker_process_comes_back(site: QueueSite) -> None:
    front = site.open(visibility_timeout_s=0.5)
    await front.publish(sample_case(8))
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            _WORKER_SCRIPT,
            site.redis_url or "",
            str(site.sqlite_path),
            site.prefix,
        ],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
        env=env,
    )
    try:
        line = await asyncio.wait_for(asyncio.to_thread(child.stdout.readline), timeout=20)
        assert line.strip() == sample_case(8)["case_id"]
        assert await front.receive(consumer="w2", block_ms=0) == []  # held by the child
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()

    await asyncio.sleep(0.6)
    [delivery] = await front.receive(consumer="w2", block_ms=0)
    assert delivery.case == sample_case(8)
    assert delivery.attempts == 1


# -- durability and health ----------------------------------------------------------------


@pytest.mark.asyncio
async def test_cases_survive_closing_and_reopening_the_queue(site: QueueSite) -> None:
    before = site.open(visibility_timeout_s=0.2)
    await before.publish(sample_case(1))
    await before.publish(sample_case(2))
    [claimed] = await before.receive(consumer="w1", count=1, block_ms=1000)
    await before.close()
    site.opened.remove(before)

    after = site.open(visibility_timeout_s=0.2)
    await asyncio.sleep(0.3)
    got = await receive_until(after, consumer="w1", want=2)

    assert sorted(d.case["case_id"] for d in got) == [
        sample_case(1)["case_id"],
        sample_case(2)["case_id"],
    ]
    assert [d.attempts for d in got if d.message_id == claimed.message_id] == [1]


@pytest.mark.asyncio
async def test_a_reachable_queue_answers_ping(site: QueueSite) -> None:
    queue = site.open()
    assert await queue.ping() is True


@pytest.mark.asyncio
@pytest.mark.redis
async def test_an_unreachable_redis_fails_ping_without_raising(tmp_path: Path) -> None:
    queue = open_queue(redis_url=UNREACHABLE_REDIS_URL, sqlite_path=tmp_path / "q.sqlite3")
    try:
        assert await queue.ping() is False
    finally:
        await queue.close()


@pytest.mark.asyncio
async def test_a_closed_embedded_queue_fails_ping(tmp_path: Path) -> None:
    queue = open_queue(redis_url=None, sqlite_path=tmp_path / "q.sqlite3")
    await queue.close()
    assert await queue.ping() is False


def test_open_queue_picks_redis_only_when_a_url_is_given(tmp_path: Path) -> None:
    embedded = open_queue(redis_url=None, sqlite_path=tmp_path / "q.sqlite3")
    on_redis = open_queue(redis_url=REDIS_TEST_URL, sqlite_path=tmp_path / "q.sqlite3")

    assert isinstance(embedded, EmbeddedCaseQueue)
    assert isinstance(on_redis, RedisCaseQueue)
    assert isinstance(embedded, CaseQueue) and isinstance(on_redis, CaseQueue)
    asyncio.run(embedded.close())
    asyncio.run(on_redis.close())


def test_the_embedded_queue_file_is_in_wal_mode(tmp_path: Path) -> None:
    queue = EmbeddedCaseQueue(tmp_path / "q.sqlite3")
    conn = sqlite3.connect(tmp_path / "q.sqlite3")
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        conn.close()
        asyncio.run(queue.close())


def test_queue_names_carry_the_prefix() -> None:
    from backend.queue import QueueNames

    names = QueueNames.for_prefix("tenant7")
    assert {names.stream, names.group, names.dead_letters, names.errors} == {
        "tenant7:cases",
        "tenant7:case-workers",
        "tenant7:cases:dead",
        "tenant7:cases:errors",
    }
    with pytest.raises(ValueError):
        QueueNames.for_prefix("")
