"""A citizen who was given a case number has a case, even when the queue is down.

Synchronous on purpose: these tests also run on the bot side (Python 3.10, redis 4.x)
without pytest-asyncio, importing nothing of the backend beyond the producer.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.queue.embedded import EmbeddedCaseQueue
from backend.queue.producer import CaseProducer, flush_spool
from tests.backend.queue_fixtures import (
    REDIS_TEST_URL,
    UNREACHABLE_REDIS_URL,
    fresh_redis_prefix,
    sample_case,
)

REPO_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    """A fresh queue prefix on the test Redis (skipped without Redis unless CI=true)."""
    yield from fresh_redis_prefix()


def stream_entries(prefix: str) -> list[dict[str, str]]:
    """The fields of every entry on the test Redis stream of ``prefix``."""
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL, decode_responses=True)
    try:
        return [fields for _id, fields in client.xrange(f"{prefix}:cases")]
    finally:
        client.close()


def offline_producer(var_dir: Path, prefix: str) -> CaseProducer:
    return CaseProducer(redis_url=UNREACHABLE_REDIS_URL, var_dir=var_dir, prefix=prefix)


def online_producer(var_dir: Path, prefix: str) -> CaseProducer:
    return CaseProducer(redis_url=REDIS_TEST_URL, var_dir=var_dir, prefix=prefix)


# -- embedded queue ---------------------------------------------------------------------


def test_without_redis_a_case_lands_in_the_embedded_queue_a_worker_reads(tmp_path: Path) -> None:
    producer = CaseProducer(redis_url=None, var_dir=tmp_path, prefix="xf")
    producer.publish(sample_case(1))
    producer.close()

    async def worker_receives() -> list:
        queue = EmbeddedCaseQueue(tmp_path / "queue.sqlite3", prefix="xf")
        try:
            return await queue.receive(consumer="w1", block_ms=1000)
        finally:
            await queue.close()

    [delivery] = asyncio.run(worker_receives())
    assert delivery.case == sample_case(1)
    assert not (tmp_path / "spool.sqlite3").exists()  # nothing needed spooling


def test_the_producer_refuses_a_case_with_the_query_code_in_clear(tmp_path: Path) -> None:
    producer = CaseProducer(redis_url=None, var_dir=tmp_path)

    with pytest.raises(ValueError, match="query_code"):
        producer.publish(sample_case(1, query_code="483920"))
    assert producer.spooled_count() == 0
    producer.close()
    assert not (tmp_path / "queue.sqlite3").exists()


def test_the_producer_is_configured_from_the_environment(tmp_path: Path) -> None:
    on_redis = CaseProducer.from_env(
        {"XF_REDIS_URL": REDIS_TEST_URL, "XF_VAR_DIR": str(tmp_path), "XF_QUEUE_PREFIX": "t1"}
    )
    embedded = CaseProducer.from_env({"XF_REDIS_URL": "  "})

    assert on_redis.redis_url == REDIS_TEST_URL
    assert on_redis.var_dir == tmp_path
    assert on_redis.names.stream == "t1:cases"
    assert embedded.redis_url is None
    assert embedded.var_dir == REPO_ROOT / "var"
    assert embedded.names.stream == "xf:cases"


def test_importing_the_producer_pulls_in_no_heavy_libraries() -> None:
    probe = (
        "import sys, backend.queue.producer\n"
        "heavy = ('aiohttp', 'sqlalchemy', 'pydantic', 'redis', 'rasa')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


# -- Redis ------------------------------------------------------------------------------


@pytest.mark.redis
def test_a_case_lands_on_the_redis_stream_with_its_case_number(
    tmp_path: Path, redis_prefix: str
) -> None:
    producer = online_producer(tmp_path, redis_prefix)
    producer.publish(sample_case(1))
    producer.close()

    [fields] = stream_entries(redis_prefix)
    assert fields["case_id"] == sample_case(1)["case_id"]
    assert json.loads(fields["case"]) == sample_case(1)
    assert "query_code" not in json.loads(fields["case"])


def test_when_redis_is_unreachable_the_case_is_spooled_and_publish_returns(tmp_path: Path) -> None:
    producer = offline_producer(tmp_path, "xf")
    started = time.monotonic()

    producer.publish(sample_case(1))  # no exception: the citizen already has a case number

    assert time.monotonic() - started < 3
    assert producer.spooled_count() == 1
    producer.close()
    assert (tmp_path / "spool.sqlite3").exists()
    assert offline_producer(tmp_path, "xf").spooled_count() == 1  # durable on disk


@pytest.mark.redis
def test_spooled_cases_are_delivered_exactly_once_when_redis_is_back(
    tmp_path: Path, redis_prefix: str
) -> None:
    offline = offline_producer(tmp_path, redis_prefix)
    offline.publish(sample_case(1))
    offline.publish(sample_case(2))
    offline.close()

    online = online_producer(tmp_path, redis_prefix)
    assert online.flush_spool() == 2
    assert online.flush_spool() == 0
    online.close()

    entries = stream_entries(redis_prefix)
    assert [f["case_id"] for f in entries] == [sample_case(1)["case_id"], sample_case(2)["case_id"]]
    assert json.loads(entries[0]["case"]) == sample_case(1)
    assert online.spooled_count() == 0


def test_flushing_an_unreachable_queue_keeps_the_cases_spooled(tmp_path: Path) -> None:
    producer = offline_producer(tmp_path, "xf")
    producer.publish(sample_case(1))

    assert producer.flush_spool() == 0
    assert producer.spooled_count() == 1
    producer.close()


@pytest.mark.redis
def test_the_next_publish_first_delivers_what_was_spooled(
    tmp_path: Path, redis_prefix: str
) -> None:
    offline = offline_producer(tmp_path, redis_prefix)
    offline.publish(sample_case(1))
    offline.close()

    online = online_producer(tmp_path, redis_prefix)
    online.publish(sample_case(2))
    online.close()

    assert [f["case_id"] for f in stream_entries(redis_prefix)] == [
        sample_case(1)["case_id"],
        sample_case(2)["case_id"],
    ]
    assert online.spooled_count() == 0


@pytest.mark.redis
def test_two_processes_flushing_one_spool_deliver_each_case_once(
    tmp_path: Path, redis_prefix: str
) -> None:
    offline = offline_producer(tmp_path, redis_prefix)
    for n in range(30):
        offline.publish(sample_case(n))
    offline.close()
    # Separate producers have separate SQLite connections, as separate processes would.
    flushers = [online_producer(tmp_path, redis_prefix) for _ in range(3)]
    counts: list[int] = []
    threads = [
        threading.Thread(target=lambda p=p: counts.append(p.flush_spool())) for p in flushers
    ]

    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sum(counts) == 30
    case_ids = [f["case_id"] for f in stream_entries(redis_prefix)]
    assert sorted(case_ids) == sorted(sample_case(n)["case_id"] for n in range(30))
    for producer in flushers:
        producer.close()


@pytest.mark.redis
def test_the_worker_can_flush_the_spool_from_the_environment(
    tmp_path: Path, redis_prefix: str
) -> None:
    offline = offline_producer(tmp_path, redis_prefix)
    offline.publish(sample_case(1))
    offline.close()

    env = {
        "XF_REDIS_URL": REDIS_TEST_URL,
        "XF_VAR_DIR": str(tmp_path),
        "XF_QUEUE_PREFIX": redis_prefix,
    }
    assert flush_spool(environ=env) == 1
    assert flush_spool(environ=env) == 0
    assert [f["case_id"] for f in stream_entries(redis_prefix)] == [sample_case(1)["case_id"]]
