"""Fixtures for the backend: a migrated database on SQLite and on PostgreSQL, settings, cases.

Every database test runs twice, once per backend. PostgreSQL gets one fresh
database per test session (``xf_test_<random>``), dropped at the end; when
the server is unreachable those tests are skipped, unless ``CI=true``.
"""

from __future__ import annotations

import hashlib
import itertools
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from backend.settings import Settings
from backend.store import make_sessionmaker, migrate
from tests.backend.faults import fresh_postgres_database

TABLES = "supervision_items, evaluations, notifications, case_events, cases, petitioners, api_tokens"
_case_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """URL of a fresh, migrated PostgreSQL database for this test session."""
    with fresh_postgres_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A migrated, empty database: SQLite in tmp_path, or the session's PostgreSQL database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'xinfang.sqlite3'}"
        migrate(url)
        return url
    url: str = request.getfixturevalue("postgres_database")
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {TABLES} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """Settings on the test database, an embedded queue under tmp_path and a fixed pepper."""
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        database_url=database_url,
        redis_url=None,
        var_dir=tmp_path / "var",
        queue_prefix=f"xftest{secrets.token_hex(3)}",
        secret_key="pepper-for-tests",
    )


@pytest.fixture
def session_factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on the test database; the engine is disposed after the test."""
    factory = make_sessionmaker(settings)
    yield factory
    factory.kw["bind"].dispose()


def hash_query_code(code: str, *, iterations: int = 1000) -> str:
    """A query-code hash in the bot's format (few iterations: tests only)."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", code.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


@pytest.fixture
def code_hash() -> Callable[[str], str]:
    """Hash a query code the way the bot does (see :func:`hash_query_code`)."""
    return hash_query_code


@pytest.fixture
def make_case() -> Callable[..., dict[str, Any]]:
    """Factory of queue payloads (contract §4): 李秀英 asks about unpaid wages."""

    def make(**overrides: Any) -> dict[str, Any]:
        number = next(_case_numbers)
        case: dict[str, Any] = {
            "schema_version": 1,
            "case_id": f"XF20260120-{number:06d}",
            "channel": "wechat",
            "channel_user": f"openid-{number}",
            "received_at": "2026-01-20T09:12:00+08:00",
            "petitioner": {
                "name": "李秀英",
                "phone": "13800138000",
                "id_number": "11010519491231002X",
                "address": "北京市朝阳区幸福路8号",
            },
            "kind": "appeal",
            "category": "labor_social_security",
            "legal_route": "petition",
            "route_reason": "",
            "respondent": "某建筑公司",
            "occurred": "2025年12月",
            "location": "朝阳区工地",
            "description": "工地拖欠三个月工资，多次催要未果。",
            "demand": "希望督促公司支付工资。",
            "first_time": True,
            "prior_case_ids": [],
            "attachments": [{"kind": "image", "ref": "media-1"}],
            "source": {"conversation_id": f"conv-{number}", "turns": 14},
            "confidence": {},
            "needs_review": [],
        }
        case.update(overrides)
        return case

    return make


@pytest.fixture
async def api_client(settings: Settings, session_factory: sessionmaker[Session], tmp_path: Path) -> Any:
    """A running API on the test database and an embedded queue under tmp_path."""
    from aiohttp.test_utils import TestClient, TestServer

    from backend.api.app import create_app
    from backend.queue.base import open_queue

    queue = open_queue(redis_url=None, sqlite_path=tmp_path / "api-queue.sqlite3", prefix=settings.queue_prefix)
    client = TestClient(TestServer(create_app(settings, session_factory=session_factory, queue=queue)))
    await client.start_server()
    client.app_queue = queue  # type: ignore[attr-defined]
    yield client
    await client.close()
    await queue.close()


@pytest.fixture
def auth(session_factory: sessionmaker[Session]) -> Callable[[str], dict[str, str]]:
    """``auth("handler")`` → an Authorization header with a fresh token of that role."""
    from backend.api.auth import create_token

    def make(role: str) -> dict[str, str]:
        with session_factory.begin() as session:
            return {"Authorization": f"Bearer {create_token(session, role)}"}

    return make


@pytest.fixture
def stored(session_factory: sessionmaker[Session], make_case: Callable[..., dict[str, Any]]) -> Callable[..., dict[str, Any]]:
    """``stored(**overrides)`` → a case payload saved in the store (as the worker would)."""
    from backend.store import save_case

    def make(**overrides: Any) -> dict[str, Any]:
        case = make_case(**overrides)
        with session_factory.begin() as session:
            save_case(session, case)
        return case

    return make
