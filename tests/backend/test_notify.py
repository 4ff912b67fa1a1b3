"""Every status change tells the citizen, through their channel, once."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.lifecycle import IllegalTransition
from backend.notify.base import Result, Sender
from backend.notify.dispatcher import Dispatcher
from backend.notify.log import LogSender
from backend.notify.webchat import WebChatSender
from backend.notify.wechat import WeChatSender
from backend.store import outbox, transition_case
from backend.store.models import Notification, utcnow
from backend.store.outbox import OutgoingNotification

CST = timezone(timedelta(hours=8))
PHONES = itertools.count(1)
Stored = Callable[..., dict[str, Any]]


class Recording(Sender):
    """Remembers what it was asked to send; answers with the given results in turn."""

    name = "recording"

    def __init__(self, *results: Result, delay: float = 0.0) -> None:
        self.sent: list[int] = []
        self.results = list(results)
        self.delay = delay

    async def send(self, notification: OutgoingNotification) -> Result:
        await asyncio.sleep(self.delay)
        self.sent.append(notification.id)
        return self.results.pop(0) if self.results else Result.ok()


def rows(session_factory: sessionmaker[Session]) -> list[Notification]:
    with session_factory() as session:
        return list(session.scalars(select(Notification).order_by(Notification.id)))


def test_a_status_change_writes_the_citizens_notice_in_chinese(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    case = stored()
    assert rows(session_factory) == []  # registration was told in the conversation
    with session_factory.begin() as session:
        transition_case(session, case["case_id"], "accepted", actor="handler:1",
                        at=datetime(2026, 1, 22, 10, 0, tzinfo=CST))
    [row] = rows(session_factory)
    assert (row.channel, row.channel_user, row.status, row.kind) == ("wechat", case["channel_user"], "pending",
                                                                     "status_change")
    assert case["case_id"] in row.message
    assert "2026年1月22日已受理" in row.message
    assert "办理期限：2026年3月23日前（《信访工作条例》第三十四条）" in row.message
    assert "李秀英" not in row.message and "13800138000" not in row.message


def test_the_conclusion_notice_names_the_opinion_and_the_review_window(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    case = stored()
    at = datetime(2026, 1, 31, 10, 0, tzinfo=CST)
    with session_factory.begin() as session:
        transition_case(session, case["case_id"], "accepted", actor="h", at=at)
        transition_case(session, case["case_id"], "in_progress", actor="h", at=at)
        transition_case(session, case["case_id"], "concluded", actor="h", at=at, opinion="support")
    message = rows(session_factory)[-1].message
    assert "已办结" in message and "「支持」" in message
    assert "2026年3月2日前请求原办理机关的上一级机关复查" in message and "第三十五条" in message
    assert "评价" in message


def test_a_refused_transition_writes_no_notice(session_factory: sessionmaker[Session], stored: Stored) -> None:
    case = stored()
    with pytest.raises(IllegalTransition), session_factory.begin() as session:
        transition_case(session, case["case_id"], "concluded", actor="handler:1", opinion="support")
    assert rows(session_factory) == []


def make_pending(session_factory: sessionmaker[Session], stored: Stored, n: int, **case: Any) -> list[str]:
    """*n* accepted cases of different people: one pending notice each."""
    ids = []
    for _ in range(n):
        c = stored(petitioner={"name": "周", "phone": f"139{next(PHONES):08d}"}, **case)
        with session_factory.begin() as session:
            transition_case(session, c["case_id"], "accepted", actor="handler:1")
        ids.append(c["case_id"])
    return ids


async def test_two_dispatchers_at_once_send_each_notice_exactly_once(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    make_pending(session_factory, stored, 12)
    sender = Recording(delay=0.01)
    dispatchers = [Dispatcher(session_factory, {"recording": sender}, routes={"wechat": "recording"}, batch=4)
                   for _ in range(2)]
    for _ in range(4):
        await asyncio.gather(*(d.run_once() for d in dispatchers))
    all_rows = rows(session_factory)
    assert sorted(sender.sent) == sorted(r.id for r in all_rows)
    assert len(sender.sent) == len(set(sender.sent)) == 12
    assert {r.status for r in all_rows} == {"sent"}
    assert all(r.attempts == 1 for r in all_rows)


async def test_a_temporary_error_is_retried_after_a_backoff_and_a_permanent_one_is_not(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    make_pending(session_factory, stored, 2)
    sender = Recording(Result.temporary("timeout"), Result.permanent("errcode 40003: invalid openid"))
    dispatcher = Dispatcher(session_factory, {"recording": sender}, routes={"wechat": "recording"})
    now = utcnow()
    await dispatcher.run_once(now)
    retried, failed = rows(session_factory)
    assert (retried.status, retried.last_error) == ("pending", "timeout")
    assert retried.next_attempt_at is not None and retried.next_attempt_at > now
    assert (failed.status, failed.last_error) == ("failed", "errcode 40003: invalid openid")

    await dispatcher.run_once(now + timedelta(seconds=30))  # not due yet
    assert len(sender.sent) == 2
    await dispatcher.run_once(now + outbox.backoff(1) + timedelta(seconds=1))
    assert sender.sent[-1] == retried.id
    assert [r.status for r in rows(session_factory)] == ["sent", "failed"]


async def test_a_notice_that_keeps_failing_is_given_up(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    make_pending(session_factory, stored, 1)
    sender = Recording(*[Result.temporary("busy")] * outbox.MAX_ATTEMPTS)
    dispatcher = Dispatcher(session_factory, {"recording": sender}, routes={"wechat": "recording"})
    at = utcnow()
    for _ in range(outbox.MAX_ATTEMPTS + 2):
        await dispatcher.run_once(at)
        at += timedelta(days=1)
    [row] = rows(session_factory)
    assert (row.status, row.attempts, len(sender.sent)) == ("failed", outbox.MAX_ATTEMPTS, outbox.MAX_ATTEMPTS)


async def test_a_claim_left_by_a_dead_dispatcher_is_taken_over_after_its_lease(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    make_pending(session_factory, stored, 1)
    now = utcnow()
    with session_factory.begin() as session:
        assert len(outbox.claim_due(session, owner="dead", now=now)) == 1
    sender = Recording()
    dispatcher = Dispatcher(session_factory, {"recording": sender}, routes={"wechat": "recording"})
    await dispatcher.run_once(now + timedelta(seconds=10))
    assert sender.sent == []
    await dispatcher.run_once(now + timedelta(seconds=outbox.CLAIM_LEASE_S + 1))
    assert len(sender.sent) == 1 and rows(session_factory)[0].status == "sent"


async def test_staging_and_unknown_senders_send_nothing_anywhere(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    make_pending(session_factory, stored, 1)
    sender = Recording()
    await Dispatcher(session_factory, {"recording": sender}, routes={"wechat": "recording"}, staging=True).run_once()
    assert sender.sent == [] and rows(session_factory)[0].status == "sent"
    make_pending(session_factory, stored, 1)
    await Dispatcher(session_factory, {}, routes={"wechat": "carrier-pigeon"}).run_once()
    assert rows(session_factory)[1].status == "failed" and "no such sender" in rows(session_factory)[1].last_error


async def test_the_log_sender_logs_no_text_and_no_recipient(caplog: pytest.LogCaptureFixture) -> None:
    notification = OutgoingNotification(1, "XF20260120-000001", "wechat", "openid-secret", "status_change",
                                        "您的信访事项已受理。", 1)
    with caplog.at_level(logging.INFO):
        assert (await LogSender().send(notification)).success
    assert "XF20260120-000001" in caplog.text
    assert "openid-secret" not in caplog.text and "已受理" not in caplog.text


async def test_the_web_chat_page_fetches_its_notices_once(
    api_client: TestClient, auth: Callable[[str], dict[str, str]], session_factory: sessionmaker[Session],
    stored: Stored,
) -> None:
    make_pending(session_factory, stored, 2, channel="webchat", channel_user="session-abc")
    make_pending(session_factory, stored, 1, channel="webchat", channel_user="session-other")
    await Dispatcher(session_factory, {"webchat": WebChatSender()}, routes={"webchat": "webchat"}).run_once()
    params = {"channel": "webchat", "user": "session-abc"}
    first = await (await api_client.get("/api/v1/notifications", params=params, headers=auth("bot"))).json()
    assert len(first["notifications"]) == 2
    assert all("已受理" in n["text"] and n["case_id"] for n in first["notifications"])
    second = await (await api_client.get("/api/v1/notifications", params=params, headers=auth("bot"))).json()
    assert second == {"notifications": []}
    assert (await api_client.get("/api/v1/notifications", params=params, headers=auth("handler"))).status == 403


# -- WeChat, against a local fake of its API -----------------------------------------------------

class FakeWeChat:
    """Answers stable_token and custom/send like WeChat; ``send_answers`` are used in turn."""

    def __init__(self, *send_answers: Any) -> None:
        self.send_answers = list(send_answers)
        self.sent: list[tuple[str, dict[str, Any]]] = []
        self.token_calls: list[dict[str, Any]] = []

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/cgi-bin/stable_token", self.token)
        app.router.add_post("/cgi-bin/message/custom/send", self.send)
        return app

    async def token(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.token_calls.append(body)
        return web.json_response({"access_token": f"token-{len(self.token_calls)}", "expires_in": 7200})

    async def send(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.sent.append((request.query["access_token"], __import__("json").loads(raw)))
        assert "\\u" not in raw.decode("utf-8")  # real UTF-8, as WeChat needs
        answer = self.send_answers.pop(0) if self.send_answers else {"errcode": 0, "errmsg": "ok"}
        if isinstance(answer, int):
            return web.Response(status=answer)
        return web.json_response(answer)


@pytest.fixture
async def wechat_server() -> AsyncIterator[Callable[..., Any]]:
    servers: list[TestServer] = []

    async def start(*answers: Any) -> tuple[FakeWeChat, str]:
        fake = FakeWeChat(*answers)
        server = TestServer(fake.app())
        await server.start_server()
        servers.append(server)
        return fake, str(server.make_url("")).rstrip("/")

    yield start
    for server in servers:
        await server.close()


NOTICE = OutgoingNotification(7, "XF20260120-000001", "wechat", "openid-li", "status_change",
                              "您的信访事项（编号XF20260120-000001）于2026年1月22日已受理。", 1)


async def test_wechat_sends_a_customer_service_text_to_the_openid(wechat_server: Callable[..., Any]) -> None:
    fake, base = await wechat_server()
    sender = WeChatSender(appid="wx123", secret="s3cret", api_base=base)
    try:
        assert (await sender.send(NOTICE)).success
        assert (await sender.send(NOTICE)).success
    finally:
        await sender.close()
    assert len(fake.token_calls) == 1 and fake.token_calls[0]["force_refresh"] is False
    token, body = fake.sent[0]
    assert token == "token-1"
    assert body == {"touser": "openid-li", "msgtype": "text", "text": {"content": NOTICE.message}}


async def test_wechat_refreshes_a_refused_token_once(wechat_server: Callable[..., Any]) -> None:
    fake, base = await wechat_server({"errcode": 40001, "errmsg": "invalid credential"})
    sender = WeChatSender(appid="wx123", secret="s3cret", api_base=base)
    try:
        assert (await sender.send(NOTICE)).success
    finally:
        await sender.close()
    assert [t for t, _ in fake.sent] == ["token-1", "token-2"]


@pytest.mark.parametrize(
    ("answer", "permanent"),
    [({"errcode": 45015, "errmsg": "response out of time limit"}, True),
     ({"errcode": 40003, "errmsg": "invalid openid"}, True),
     ({"errcode": -1, "errmsg": "system error"}, False),
     (502, False)],
    ids=["48h-window", "bad-openid", "busy", "http-502"],
)
async def test_wechat_errors_are_sorted_into_permanent_and_temporary(
    wechat_server: Callable[..., Any], answer: Any, permanent: bool
) -> None:
    _, base = await wechat_server(answer)
    sender = WeChatSender(appid="wx123", secret="s3cret", api_base=base)
    try:
        result = await sender.send(NOTICE)
    finally:
        await sender.close()
    assert not result.success
    assert (result.permanent_error is not None, result.temporary_error is not None) == (permanent, not permanent)


async def test_an_unreachable_wechat_is_a_temporary_error() -> None:
    sender = WeChatSender(appid="wx123", secret="s3cret", api_base="http://127.0.0.1:9", timeout_s=2)
    try:
        result = await sender.send(NOTICE)
    finally:
        await sender.close()
    assert result.temporary_error and not result.success


async def test_wechat_without_credentials_fails_permanently() -> None:
    result = await WeChatSender(appid="", secret="").send(NOTICE)
    assert result.permanent_error and "not configured" in result.permanent_error
