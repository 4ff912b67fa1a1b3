"""Staff work cases over HTTP with role tokens; citizens rate answers and ask for 复查/复核 with their code."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.api.app import create_app
from backend.queue.base import open_queue
from backend.security import verify_query_code
from backend.settings import Settings
from backend.store import transition_case
from backend.store.models import Evaluation

CST = timezone(timedelta(hours=8))
PII = ("李秀英", "13800138000", "11010519491231002X", "幸福路8号")
Auth = Callable[[str], dict[str, str]]
Stored = Callable[..., dict[str, Any]]
ROLES = ("handler", "supervisor", "operator", "bot")

#: the documented role table (backend/api/handlers.py); None = public
ACCESS: dict[tuple[str, str], frozenset[str] | None] = {
    ("GET", "/api/v1/whoami"): frozenset(ROLES),
    ("GET", "/api/v1/cases"): frozenset({"handler", "supervisor", "operator"}),
    ("POST", "/api/v1/cases"): frozenset({"operator", "supervisor"}),
    ("GET", "/api/v1/cases/{case_id}"): frozenset({"handler", "supervisor", "operator"}),
    ("POST", "/api/v1/cases/{case_id}/transitions"): frozenset({"handler", "supervisor"}),
    ("POST", "/api/v1/cases/{case_id}/opinion"): frozenset({"handler", "supervisor"}),
    ("GET", "/api/v1/supervision"): frozenset({"supervisor"}),
    ("GET", "/api/v1/dead-letters"): frozenset({"supervisor", "operator"}),
    ("GET", "/metrics"): frozenset({"supervisor", "operator"}),
    ("GET", "/api/v1/notifications"): frozenset({"bot"}),
    ("GET", "/api/v1/progress/by-channel-user"): frozenset({"bot"}),
}
PROTECTED = sorted(ACCESS)


def request_args(method: str, path: str, case_id: str) -> dict[str, Any]:
    """A plausible request for each protected route."""
    url = path.replace("{case_id}", case_id)
    params = {"channel": "webchat", "user": "session-1"} if "notifications" in path or "by-channel" in path else None
    body = {"/api/v1/cases": {"description": "路灯坏了"}, "transitions": {"to": "accepted"},
            "opinion": {"opinion": "support"}}
    key = next((k for k in body if url.endswith(k)), None)
    return {"method": method, "path": url, "params": params, "json": body[key] if method == "POST" and key else None}


def test_the_role_table_covers_every_protected_route() -> None:
    from backend.api.app import ROUTES

    guarded = {(m, p): frozenset(r.value for r in h.allowed_roles) for m, p, h in ROUTES if hasattr(h, "allowed_roles")}
    assert guarded == ACCESS


@pytest.mark.parametrize(("method", "path"), PROTECTED, ids=[f"{m} {p}" for m, p in PROTECTED])
async def test_every_handler_endpoint_enforces_its_roles(
    api_client: TestClient, auth: Auth, stored: Stored, method: str, path: str
) -> None:
    case = stored()
    args = request_args(method, path, case["case_id"])
    anonymous = await api_client.request(args["method"], args["path"], params=args["params"], json=args["json"])
    assert anonymous.status == 401
    text = await anonymous.text()
    assert not any(p in text for p in PII)
    for role in ROLES:
        response = await api_client.request(args["method"], args["path"], params=args["params"],
                                            json=args["json"], headers=auth(role))
        if role in ACCESS[(method, path)]:
            assert response.status not in (401, 403), (role, await response.text())
        else:
            assert response.status == 403, role


async def test_whoami_tells_the_role_of_a_token(api_client: TestClient, auth: Auth) -> None:
    response = await api_client.get("/api/v1/whoami", headers=auth("operator"))
    assert await response.json() == {"role": "operator"}


async def test_the_list_filters_pages_and_masks_contact_details(
    api_client: TestClient, auth: Auth, stored: Stored, session_factory: sessionmaker[Session]
) -> None:
    routed = stored(legal_route="litigation", route_reason="请向人民法院起诉。", category="land_housing")
    open_cases = [stored(petitioner={"name": "李秀英", "phone": "13800138000"}) for _ in range(3)]
    with session_factory.begin() as session:
        transition_case(session, open_cases[0]["case_id"], "accepted", actor="handler:1")
    headers = auth("handler")

    body = await (await api_client.get("/api/v1/cases", params={"status": "registered"}, headers=headers)).json()
    assert [c["case_id"] for c in body["cases"]] == [open_cases[2]["case_id"], open_cases[1]["case_id"]]
    assert body["cases"][0]["petitioner"] == {"name": "李**", "phone": "138****8000"}

    by_route = await (await api_client.get("/api/v1/cases", params={"legal_route": "litigation"},
                                           headers=headers)).json()
    assert [c["case_id"] for c in by_route["cases"]] == [routed["case_id"]]
    several = await (await api_client.get("/api/v1/cases", params={"status": "accepted,routed"},
                                          headers=headers)).json()
    assert {c["case_id"] for c in several["cases"]} == {routed["case_id"], open_cases[0]["case_id"]}

    seen, cursor = [], None
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        response = await api_client.get("/api/v1/cases", params=params, headers=headers)
        text = await response.text()
        assert "13800138000" not in text and "李秀英" not in text
        page = await response.json()
        seen += [c["case_id"] for c in page["cases"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 4
    assert (await api_client.get("/api/v1/cases", params={"status": "nonsense"}, headers=headers)).status == 400
    assert (await api_client.get("/api/v1/cases", params={"limit": "0"}, headers=headers)).status == 400


async def test_a_handler_works_a_case_through_to_the_written_answer(
    api_client: TestClient, auth: Auth, stored: Stored
) -> None:
    case = stored()
    url = f"/api/v1/cases/{case['case_id']}/transitions"
    handler, supervisor = auth("handler"), auth("supervisor")
    for target in ("accepted", "in_progress"):
        response = await api_client.post(url, json={"to": target, "note": "已核实"}, headers=handler)
        assert response.status == 200, await response.text()

    # the organ's head approves an extension, with a reason
    assert (await api_client.post(url, json={"to": "extended", "reason": "需现场核查"}, headers=handler)).status == 403
    no_reason = await api_client.post(url, json={"to": "extended"}, headers=supervisor)
    assert no_reason.status == 409
    assert "延期理由" in (await no_reason.json())["message"]
    extended = await api_client.post(url, json={"to": "extended", "reason": "需现场核查"}, headers=supervisor)
    assert (await extended.json())["status"] == "extended"

    # concluding needs the 处理意见
    without = await api_client.post(url, json={"to": "concluded"}, headers=handler)
    assert without.status == 422
    assert "处理意见" in (await without.json())["message"]
    done = await api_client.post(url, json={"to": "concluded", "opinion": "解释说明"}, headers=handler)
    body = await done.json()
    assert body["status"] == "concluded" and body["opinion"] == "explain"
    assert body["events"][-1]["actor"].startswith("handler:")
    assert body["deadlines"]["current"] == "review_request_due"


async def test_an_illegal_transition_is_refused_with_the_reason_in_chinese(
    api_client: TestClient, auth: Auth, stored: Stored
) -> None:
    case = stored()
    response = await api_client.post(f"/api/v1/cases/{case['case_id']}/transitions",
                                     json={"to": "reviewed", "opinion": "support"}, headers=auth("handler"))
    assert response.status == 409
    assert (await response.json())["message"] == "信访事项当前状态为「已登记」，不能变更为「已出具复查意见」。"
    unknown = await api_client.post("/api/v1/cases/XF20260101-ZZZZZZ/transitions", json={"to": "accepted"},
                                    headers=auth("handler"))
    assert unknown.status == 404


async def test_the_opinion_endpoint_answers_the_step_the_case_awaits(
    api_client: TestClient, auth: Auth, stored: Stored, session_factory: sessionmaker[Session]
) -> None:
    case = stored()
    url = f"/api/v1/cases/{case['case_id']}/opinion"
    early = await api_client.post(url, json={"opinion": "support"}, headers=auth("handler"))
    assert early.status == 409 and "没有待出具的处理意见" in (await early.json())["message"]
    with session_factory.begin() as session:
        transition_case(session, case["case_id"], "accepted", actor="handler:1")
        transition_case(session, case["case_id"], "in_progress", actor="handler:1")
    assert (await api_client.post(url, json={"opinion": "maybe"}, headers=auth("handler"))).status == 422
    answered = await api_client.post(url, json={"opinion": "不予支持", "note": "无事实依据"}, headers=auth("handler"))
    body = await answered.json()
    assert (body["status"], body["opinion"]) == ("concluded", "reject")


async def test_dead_letters_are_shown_to_supervisors(
    settings: Settings, session_factory: sessionmaker[Session], auth: Auth, tmp_path: Path
) -> None:
    queue = open_queue(redis_url=None, sqlite_path=tmp_path / "dl.sqlite3", prefix="xfdl", max_attempts=1)
    client = TestClient(TestServer(create_app(settings, session_factory=session_factory, queue=queue)))
    await client.start_server()
    try:
        await queue.publish({"case_id": "XF20260101-POISON", "received_at": "yesterday"})
        [delivery] = await queue.receive(consumer="test", block_ms=10)
        await queue.fail(delivery, "ValidationError: received_at")
        body = await (await client.get("/api/v1/dead-letters", headers=auth("supervisor"))).json()
        assert [d["case_id"] for d in body["dead_letters"]] == ["XF20260101-POISON"]
        assert "ValidationError" in body["dead_letters"][0]["error"]
    finally:
        await client.close()
        await queue.close()


async def test_an_operator_files_a_hotline_case_and_reads_the_query_code_to_the_caller(
    api_client: TestClient, auth: Auth
) -> None:
    draft = {"petitioner": {"name": "王强", "phone": "13900139000"}, "description": "小区路灯坏了一个月",
             "respondent": "街道办", "kind": "suggestion", "category": "other", "source": {"call_id": "c-1"}}
    response = await api_client.post("/api/v1/cases", json=draft, headers=auth("operator"))
    assert response.status == 202
    answer = await response.json()
    assert answer["case_id"].startswith("XF") and len(answer["query_code"]) == 6
    [delivery] = await api_client.app_queue.receive(consumer="test", block_ms=10)  # type: ignore[attr-defined]
    assert delivery.case["channel"] == "hotline"
    assert "query_code" not in delivery.case
    assert verify_query_code(answer["query_code"], delivery.case["query_code_hash"])
    bad = await api_client.post("/api/v1/cases", json={"channel": "wechat"}, headers=auth("operator"))
    assert bad.status == 422


# -- citizens ---------------------------------------------------------------------------------

def conclude(session_factory: sessionmaker[Session], case_id: str, at: datetime) -> None:
    with session_factory.begin() as session:
        for target in ("accepted", "in_progress"):
            transition_case(session, case_id, target, actor="handler:1", at=at)
        transition_case(session, case_id, "concluded", actor="handler:1", at=at, opinion="explain")


@pytest.fixture
def answered(stored: Stored, session_factory: sessionmaker[Session],
             code_hash: Callable[[str], str]) -> dict[str, Any]:
    """A case concluded today, with query code 7K3P9Q."""
    case = stored(query_code_hash=code_hash("7K3P9Q"))
    conclude(session_factory, case["case_id"], datetime.now(CST))
    return case


async def test_a_citizen_rates_the_answer_once(
    api_client: TestClient, answered: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    body = {"case_id": answered["case_id"], "code": "7k3p9q", "rating": "basically_satisfied", "comment": "态度很好"}
    first = await api_client.post("/api/v1/progress/evaluation", json=body)
    assert first.status == 201
    assert (await first.json())["rating_label"] == "基本满意"
    again = await api_client.post("/api/v1/progress/evaluation", json={**body, "rating": "unsatisfied"})
    assert again.status == 409 and "已对本次处理意见作出评价" in (await again.json())["message"]
    with session_factory() as session:
        rows = session.scalars(select(Evaluation)).all()
    assert [(r.step, r.rating, r.comment) for r in rows] == [("concluded", 1, "态度很好")]


async def test_a_case_not_yet_concluded_cannot_be_rated(
    api_client: TestClient, stored: Stored, code_hash: Callable[[str], str]
) -> None:
    case = stored(query_code_hash=code_hash("7K3P9Q"))
    response = await api_client.post("/api/v1/progress/evaluation",
                                     json={"case_id": case["case_id"], "code": "7K3P9Q", "rating": "satisfied"})
    assert response.status == 409 and "尚未办结" in (await response.json())["message"]


async def test_a_wrong_code_rates_nothing_and_counts_towards_the_lockout(
    api_client: TestClient, answered: dict[str, Any], settings: Settings
) -> None:
    body = {"case_id": answered["case_id"], "code": "AAAAAA", "rating": "satisfied"}
    for _ in range(settings.progress_failures_per_case):
        assert (await api_client.post("/api/v1/progress/evaluation", json=body)).status == 404
    locked = await api_client.post("/api/v1/progress/review-request",
                                   json={**body, "code": "7K3P9Q", "kind": "review", "reason": "不服"})
    assert locked.status == 429 and locked.headers["Retry-After"]


async def test_review_then_recheck_within_their_windows_and_nothing_after(
    api_client: TestClient, answered: dict[str, Any], session_factory: sessionmaker[Session]
) -> None:
    url = "/api/v1/progress/review-request"
    ids = {"case_id": answered["case_id"], "code": "7K3P9Q"}
    too_soon = await api_client.post(url, json={**ids, "kind": "recheck", "reason": "不服"})
    assert too_soon.status == 409 and "复查意见" in (await too_soon.json())["message"]
    no_reason = await api_client.post(url, json={**ids, "kind": "review", "reason": " "})
    assert no_reason.status == 409 and "理由" in (await no_reason.json())["message"]

    review = await api_client.post(url, json={**ids, "kind": "review", "reason": "对处理意见不服"})
    assert review.status == 200
    assert (await review.json())["status"] == "review_requested"
    with session_factory.begin() as session:
        transition_case(session, answered["case_id"], "reviewed", actor="supervisor:1", opinion="reject")
    recheck = await api_client.post(url, json={**ids, "kind": "recheck", "reason": "仍不服"})
    assert (await recheck.json())["status"] == "recheck_requested"
    with session_factory.begin() as session:
        transition_case(session, answered["case_id"], "rechecked", actor="supervisor:1", opinion="reject")
    final = await api_client.post(url, json={**ids, "kind": "review", "reason": "还是不服"})
    assert final.status == 409
    assert "第三十六条" in (await final.json())["message"] and "不再受理" in (await final.json())["message"]


async def test_review_asked_after_thirty_days_is_refused_with_the_deadline(
    api_client: TestClient, stored: Stored, session_factory: sessionmaker[Session], code_hash: Callable[[str], str]
) -> None:
    case = stored(query_code_hash=code_hash("7K3P9Q"))
    concluded_at = datetime.now(CST) - timedelta(days=40)
    conclude(session_factory, case["case_id"], concluded_at)
    progress = await (await api_client.get("/api/v1/progress", params={"case_id": case["case_id"],
                                                                       "code": "7K3P9Q"})).json()
    assert progress["may_request"] is None and progress["may_evaluate"] is True
    response = await api_client.post("/api/v1/progress/review-request",
                                     json={"case_id": case["case_id"], "code": "7K3P9Q", "kind": "review",
                                           "reason": "不服"})
    assert response.status == 409
    message = (await response.json())["message"]
    due = (concluded_at.date() + timedelta(days=30)).isoformat()
    assert "30日内" in message and "第三十五条" in message and due in message


async def test_the_bot_finds_a_wechat_users_cases_without_personal_data(
    api_client: TestClient, auth: Auth, stored: Stored
) -> None:
    mine = [stored(channel_user="openid-li"), stored(channel_user="openid-li")]
    stored(channel_user="openid-other")
    response = await api_client.get("/api/v1/progress/by-channel-user",
                                    params={"channel": "wechat", "user": "openid-li"}, headers=auth("bot"))
    body = await response.json()
    assert sorted(c["case_id"] for c in body["cases"]) == sorted(c["case_id"] for c in mine)
    text = await response.text()
    assert not any(p in text for p in PII)
    assert "openid-li" not in text
