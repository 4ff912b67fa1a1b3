"""The HTTP API: staff see a whole case with a token; citizens see progress with their code."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy.orm import Session, sessionmaker

from backend.api.app import create_app
from backend.api.auth import Role, create_token, require_role, revoke_token
from backend.queue.base import CaseQueue, open_queue
from backend.settings import Settings
from backend.store import save_case, transition_case

MakeCase = Callable[..., dict[str, Any]]
PII = ("李秀英", "13800138000", "11010519491231002X", "幸福路8号")


class DownQueue:
    """A queue that cannot be reached."""

    async def ping(self) -> bool:
        return False

    async def close(self) -> None:
        return None


@pytest.fixture
async def queue(settings: Settings, tmp_path: Path) -> AsyncIterator[CaseQueue]:
    q = open_queue(redis_url=None, sqlite_path=tmp_path / "queue.sqlite3", prefix=settings.queue_prefix)
    yield q
    await q.close()


async def serve(app: web.Application) -> TestClient:
    client = TestClient(TestServer(app))
    await client.start_server()
    return client


@pytest.fixture
async def client(
    settings: Settings, session_factory: sessionmaker[Session], queue: CaseQueue
) -> AsyncIterator[TestClient]:
    app = create_app(settings, session_factory=session_factory, queue=queue)

    @require_role(Role.SUPERVISOR)
    async def supervisors_only(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app.router.add_get("/test/supervisors-only", supervisors_only)
    c = await serve(app)
    yield c
    await c.close()


def token_for(session_factory: sessionmaker[Session], role: str) -> dict[str, str]:
    with session_factory.begin() as session:
        return {"Authorization": f"Bearer {create_token(session, role)}"}


def store(session_factory: sessionmaker[Session], case: dict[str, Any]) -> None:
    with session_factory.begin() as session:
        save_case(session, case)


async def test_health_answers_while_the_process_runs(client: TestClient) -> None:
    response = await client.get("/health")
    assert response.status == 200
    assert await response.json() == {"status": "ok"}


async def test_ready_when_database_and_queue_answer(client: TestClient) -> None:
    response = await client.get("/ready")
    assert response.status == 200
    assert await response.json() == {"status": "ok", "database": True, "queue": True}


async def test_not_ready_when_the_queue_is_down(
    settings: Settings, session_factory: sessionmaker[Session]
) -> None:
    client = await serve(create_app(settings, session_factory=session_factory, queue=DownQueue()))  # type: ignore[arg-type]
    try:
        response = await client.get("/ready")
        assert response.status == 503
        assert await response.json() == {"status": "unavailable", "database": True, "queue": False}
        assert (await client.get("/health")).status == 200
    finally:
        await client.close()


@pytest.mark.parametrize("role", ["handler", "supervisor", "operator"])
async def test_staff_with_a_token_see_the_whole_case(
    client: TestClient, session_factory: sessionmaker[Session], make_case: MakeCase, role: str
) -> None:
    case = make_case()
    store(session_factory, case)
    response = await client.get(f"/api/v1/cases/{case['case_id']}", headers=token_for(session_factory, role))
    assert response.status == 200
    body = await response.json()
    assert body["case_id"] == case["case_id"]
    assert body["status"] == "registered"
    assert body["status_label"] == "已登记"
    assert body["petitioner"] == case["petitioner"]
    assert body["description"] == case["description"]
    assert body["events"][0]["to_status"] == "registered"
    assert body["deadlines"]["items"]["acceptance_due"]["due"] == "2026-02-04"
    assert "第二十二条" in body["deadlines"]["items"]["acceptance_due"]["article"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer xf_not-a-real-token"}, {"Authorization": "Basic dXNlcjpwYXNz"}],
    ids=["no-token", "unknown-token", "not-bearer"],
)
async def test_a_case_is_not_shown_without_a_valid_token(
    client: TestClient, session_factory: sessionmaker[Session], make_case: MakeCase, headers: dict[str, str]
) -> None:
    case = make_case()
    store(session_factory, case)
    response = await client.get(f"/api/v1/cases/{case['case_id']}", headers=headers)
    assert response.status == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    text = await response.text()
    assert not any(p in text for p in PII)


async def test_a_revoked_token_no_longer_opens_cases(
    client: TestClient, session_factory: sessionmaker[Session], make_case: MakeCase
) -> None:
    case = make_case()
    store(session_factory, case)
    with session_factory.begin() as session:
        token = create_token(session, "handler")
    url = f"/api/v1/cases/{case['case_id']}"
    assert (await client.get(url, headers={"Authorization": f"Bearer {token}"})).status == 200
    with session_factory.begin() as session:
        assert revoke_token(session, token) is True
    assert (await client.get(url, headers={"Authorization": f"Bearer {token}"})).status == 401


async def test_a_role_without_the_right_is_forbidden(
    client: TestClient, session_factory: sessionmaker[Session]
) -> None:
    handler = await client.get("/test/supervisors-only", headers=token_for(session_factory, "handler"))
    supervisor = await client.get("/test/supervisors-only", headers=token_for(session_factory, "supervisor"))
    assert (handler.status, supervisor.status) == (403, 200)


async def test_an_unknown_case_is_404(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    response = await client.get("/api/v1/cases/XF20260101-ZZZZZZ", headers=token_for(session_factory, "handler"))
    assert response.status == 404


def test_tokens_are_stored_only_as_hashes(session_factory: sessionmaker[Session]) -> None:
    from sqlalchemy import select

    from backend.store.models import ApiToken

    with session_factory.begin() as session:
        token = create_token(session, "operator")
    with session_factory() as session:
        row = session.scalars(select(ApiToken)).one()
    assert token not in row.token_hash and len(row.token_hash) == 64
    assert row.role == "operator"


async def test_a_citizen_follows_progress_with_the_query_code(
    client: TestClient, session_factory: sessionmaker[Session], make_case: MakeCase, code_hash: Callable[[str], str]
) -> None:
    case = make_case(query_code_hash=code_hash("7K3P9Q"))
    store(session_factory, case)
    with session_factory.begin() as session:
        transition_case(session, case["case_id"], "accepted", actor="handler:7")

    # typed in lower case, with O for zero and a space, as people do
    case_id = case["case_id"].lower().replace("0", "o")
    response = await client.get("/api/v1/progress", params={"case_id": case_id, "code": "7k3 p9q"})
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "accepted"
    assert [s["status"] for s in body["steps"]] == ["registered", "accepted"]
    assert body["steps"][0]["date"] == "2026-01-20"
    assert body["next_deadline"]["label"] == "办理期限"
    assert "第三十四条" in body["next_deadline"]["article"]
    text = await response.text()
    assert not any(p in text for p in PII)
    assert "handler:7" not in text


async def test_a_wrong_code_and_an_unknown_case_get_the_same_answer(
    client: TestClient, session_factory: sessionmaker[Session], make_case: MakeCase, code_hash: Callable[[str], str]
) -> None:
    case = make_case(query_code_hash=code_hash("7K3P9Q"))
    store(session_factory, case)
    wrong = await client.get("/api/v1/progress", params={"case_id": case["case_id"], "code": "AAAAAA"})
    unknown = await client.get("/api/v1/progress", params={"case_id": "XF20260101-ZZZZZZ", "code": "7K3P9Q"})
    assert wrong.status == unknown.status == 404
    assert await wrong.text() == await unknown.text()


async def test_guessing_codes_for_one_case_is_stopped(
    client: TestClient, session_factory: sessionmaker[Session], make_case: MakeCase, settings: Settings,
    code_hash: Callable[[str], str],
) -> None:
    case = make_case(query_code_hash=code_hash("7K3P9Q"))
    store(session_factory, case)
    params = {"case_id": case["case_id"], "code": "AAAAAA"}
    for _ in range(settings.progress_failures_per_case):
        assert (await client.get("/api/v1/progress", params=params)).status == 404
    params["code"] = "7K3P9Q"
    response = await client.get("/api/v1/progress", params=params)
    assert response.status == 429
    assert "稍后再试" in (await response.json())["message"]


async def test_progress_needs_both_case_number_and_code(client: TestClient) -> None:
    assert (await client.get("/api/v1/progress", params={"case_id": "XF20260101-ZZZZZZ"})).status == 400
