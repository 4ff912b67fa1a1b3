"""Shared helpers and fixtures for the case queue tests.

Synchronous and stdlib + ``redis`` only, so ``test_producer.py`` also runs on the bot
side's Python 3.10 with redis 4.x. Test modules wrap these in their own fixtures
(``tests/backend/conftest.py`` belongs to the database tests).
"""

from __future__ import annotations

import functools
import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

#: Database 15 of the local Redis is the tests' scratch space.
REDIS_TEST_URL = os.environ.get("XF_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
#: Nothing listens here: connections are refused at once.
UNREACHABLE_REDIS_URL = "redis://127.0.0.1:1/15"


@functools.cache
def redis_unavailable_reason(url: str = REDIS_TEST_URL) -> str | None:
    """``None`` when Redis at ``url`` answers PING, else why not."""
    try:
        import redis
    except ImportError:
        return "the redis package is not installed"
    client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
    except Exception as exc:  # any failure means: no usable Redis
        return f"{type(exc).__name__}: {exc}"
    finally:
        client.close()
    return None


def require_redis(url: str = REDIS_TEST_URL) -> None:
    """Skip the calling test when Redis is down, or fail it when ``CI=true``."""
    reason = redis_unavailable_reason(url)
    if reason is None:
        return
    if os.environ.get("CI", "").strip().lower() == "true":
        pytest.fail(f"CI=true but Redis is not reachable at {url}: {reason}", pytrace=False)
    pytest.skip(
        f"Redis not reachable at {url} ({reason}); start redis-server or set XF_TEST_REDIS_URL"
    )


def unique_prefix() -> str:
    """A queue prefix no other test uses."""
    return f"xftest-{uuid.uuid4().hex[:12]}"


def delete_prefix_keys(url: str, prefix: str) -> None:
    """Remove every Redis key under ``prefix:``."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def sample_case(n: int = 1, **overrides: Any) -> dict[str, Any]:
    """A contract section 4 case with a distinct ``case_id`` per ``n``."""
    case: dict[str, Any] = {
        "schema_version": 1,
        "case_id": f"XF20261126-{n:06d}",
        "query_code_hash": "sha256$0f3c",
        "channel": "webchat",
        "channel_user": f"session-{n}",
        "received_at": "2026-11-26T09:12:00+08:00",
        "petitioner": {"name": "李明", "phone": "13800000000", "address": "幸福路1号"},
        "kind": "appeal",
        "category": "land_housing",
        "legal_route": "petition",
        "route_reason": "属于信访事项，依法登记办理。",
        "respondent": "某街道办事处",
        "occurred": "上个月",
        "location": "幸福路",
        "description": "小区路灯坏了三个月无人维修。",
        "demand": "尽快修复路灯",
        "first_time": True,
        "prior_case_ids": [],
        "attachments": [],
        "source": {"conversation_id": f"conv-{n}", "turns": 12},
    }
    case.update(overrides)
    return case


def fresh_redis_prefix() -> Iterator[str]:
    """Body of a ``redis_prefix`` fixture: a fresh prefix on the test Redis whose keys
    are deleted afterwards (``yield from fresh_redis_prefix()``)."""
    require_redis()
    prefix = unique_prefix()
    yield prefix
    delete_prefix_keys(REDIS_TEST_URL, prefix)
