"""In order to petition from the WeChat app on my phone
As a citizen who follows the official account
I want my messages answered like any WeChat conversation, safely and exactly once.

Callbacks are made as WeChat makes them (signed; AES-encrypted with wechatpy's
own crypto in compatible and safe mode); the WeChat API is a fake on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import xmltodict

from channels.dedupe import Deduplicator, SQLiteStore
from channels.wechat import (
    BOT_FAILED, IMAGE_TEXT, UNSUPPORTED_TYPE, VOICE_NOT_RECOGNISED, WeChatInput, cdata, sign,
)
from channels.wechat_api import TEXT_LIMIT_BYTES, WeChatAPI, WeChatAPIError, split_text
from channels.wechat_menu import add_wechat_parser, run_wechat
from tests.channels.conftest import APPID, SECRET, TOKEN, ScriptedBot
from tests.channels.fake_wechat import FakeWeChatAPI, WeChatCallbacks, new_aes_key

OPENID = "oXf3v5kQ_citizen_0001"
CONFIRM_BUTTONS = [{
    "text": "请核对您要登记的信访事项：……",
    "buttons": [
        {"title": "确认提交", "payload": "/affirm"},
        {"title": "需要修改", "payload": "/deny"},
        {"title": "取消登记", "payload": "/cancel"},
    ],
}]


# -- the server URL check ------------------------------------------------------------


async def test_wechat_verifies_the_server_url_and_gets_echostr_back(serve):
    served = await serve(mode="safe")
    ts, nonce = str(int(time.time())), "n0nce"
    query = {"signature": sign(TOKEN, ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": "7731283412"}
    async with served.session.get(served.url, params=query) as response:
        assert response.status == 200
        assert await response.text() == "7731283412"


async def test_a_url_check_with_a_forged_signature_is_refused(serve):
    served = await serve(mode="safe")
    ts, nonce = str(int(time.time())), "n0nce"
    query = {"signature": sign("guessed-token", ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": "x"}
    async with served.session.get(served.url, params=query) as response:
        assert response.status == 403
        assert "x" not in await response.text()


# -- messages in the three modes ------------------------------------------------------


@pytest.mark.parametrize("mode", ["plain", "compatible", "safe"])
async def test_a_text_message_is_answered_passively_in_every_mode(serve, fake_api, mode):
    served = await serve(mode=mode)
    status, reply = await served.say(served.wechat.text(OPENID, "我要反映问题"))

    assert status == 200
    assert reply["Content"] == "收到：我要反映问题"
    assert reply["ToUserName"] == OPENID and reply["FromUserName"] == served.wechat.account
    [message] = served.bot.received
    assert (message.sender_id, message.input_channel) == (OPENID, "wechat")
    assert fake_api.messages == []  # nothing went the slow way


async def test_an_encrypted_reply_is_readable_only_with_the_account_key(serve):
    served = await serve(mode="safe")
    status, body = await served.deliver(served.wechat.callback(served.wechat.text(OPENID, "你好")))
    assert status == 200
    envelope = xmltodict.parse(body)["xml"]
    assert set(envelope) == {"Encrypt", "MsgSignature", "TimeStamp", "Nonce"}
    assert "收到" not in body


async def test_a_callback_with_a_forged_signature_is_refused(serve):
    served = await serve(mode="plain")
    callback = served.wechat.callback(served.wechat.text(OPENID, "你好"))
    forged = {**callback.query, "signature": sign("guessed-token", callback.timestamp, callback.nonce)}

    status, body = await served.deliver(callback, query=forged)

    assert status == 403 and "Traceback" not in body
    assert served.bot.received == []


async def test_an_encrypted_message_with_a_forged_msg_signature_is_refused(serve):
    served = await serve(mode="safe")
    callback = served.wechat.callback(served.wechat.text(OPENID, "你好"))
    forged = {**callback.query, "msg_signature": callback.query["signature"]}  # the classic mix-up

    status, _ = await served.deliver(callback, query=forged)

    assert status == 403
    assert served.bot.received == []


async def test_a_message_encrypted_for_another_account_is_refused(serve):
    served = await serve(mode="safe")
    # same token and key, but another AppId inside the ciphertext
    other = WeChatCallbacks(TOKEN, "wxsomeoneelse00001", served.wechat.aes_key, mode="safe")

    status, _ = await served.deliver(other.callback(other.text(OPENID, "你好")))

    assert status == 403
    assert served.bot.received == []


async def test_a_plaintext_callback_is_refused_when_the_account_encrypts(serve):
    served = await serve(mode="safe")
    plain = WeChatCallbacks(TOKEN, APPID, mode="plain")

    status, _ = await served.deliver(plain.callback(plain.text(OPENID, "你好")))

    assert status == 403
    assert served.bot.received == []


@pytest.mark.parametrize("skew_s", [-301, 400, -86400])
async def test_a_replayed_callback_with_a_stale_timestamp_is_refused(serve, skew_s):
    served = await serve(mode="safe")
    status, _ = await served.say(served.wechat.text(OPENID, "你好"), timestamp=int(time.time()) + skew_s)
    assert status == 403
    assert served.bot.received == []


async def test_a_callback_without_signature_parameters_is_a_bad_request(serve):
    served = await serve(mode="plain")
    callback = served.wechat.callback(served.wechat.text(OPENID, "你好"))
    for missing in ("signature", "timestamp", "nonce"):
        query = {k: v for k, v in callback.query.items() if k != missing}
        status, _ = await served.deliver(callback, query=query)
        assert status == 400
    assert served.bot.received == []


@pytest.mark.parametrize("body", [
    b"<xml><ToUserName>gh</ToUserName><Content>",
    b"this is not xml",
    b"<xml></xml>",
    b"<message><MsgType>text</MsgType></message>",
    b"",
    "<xml>无效</xml>".encode("gbk"),
])
async def test_malformed_xml_gets_400_without_a_stack_trace(serve, body):
    served = await serve(mode="plain")
    callback = served.wechat.callback(served.wechat.text(OPENID, "你好"))

    status, text = await served.deliver(callback, body=body)

    assert status == 400
    assert "Traceback" not in text and "Error" not in text
    assert served.bot.received == []


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<xml><ToUserName><![CDATA[gh_xinfang0001]]></ToUserName><FromUserName><![CDATA[oX]]></FromUserName>
<CreateTime>1</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>&lol3;</Content><MsgId>1</MsgId></xml>"""


@pytest.mark.parametrize("mode", ["plain", "safe"])
async def test_an_entity_bomb_is_refused(serve, mode):
    served = await serve(mode=mode)
    status, body = await served.deliver(served.wechat.callback(BILLION_LAUGHS))
    assert status == 400 and "lol" not in body
    assert served.bot.received == []


async def test_an_external_entity_is_refused(serve):
    served = await serve(mode="plain")
    xxe = ('<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><xml><ToUserName>a</ToUserName>'
           '<FromUserName>b</FromUserName><CreateTime>1</CreateTime><MsgType>text</MsgType>'
           '<Content>&xxe;</Content><MsgId>2</MsgId></xml>')
    status, body = await served.deliver(served.wechat.callback(xxe))
    assert status == 400 and "root:" not in body


async def test_an_oversized_body_is_refused_with_413(serve):
    served = await serve(mode="plain")
    big = served.wechat.text(OPENID, "很长" * 40_000)  # ~240 KB
    status, _ = await served.deliver(served.wechat.callback(big))
    assert status == 413
    assert served.bot.received == []


async def test_an_oversized_chunked_body_is_refused_with_413(serve):
    served = await serve(mode="plain")
    callback = served.wechat.callback(served.wechat.text(OPENID, "你好"))

    async def endless_chunks():
        yield b"<xml><Content><![CDATA["
        for _ in range(100):
            yield b"x" * 4096

    try:
        async with served.session.post(served.url, params=callback.query, data=endless_chunks()) as response:
            status = response.status
    except Exception:  # the server may close the connection once it has answered
        status = 413
    assert status == 413
    assert served.bot.received == []


# -- retries: each delivery once ----------------------------------------------------


async def test_retries_of_the_same_message_run_the_bot_once_and_get_the_same_reply(serve):
    served = await serve(mode="safe")
    xml = served.wechat.text(OPENID, "路灯坏了", msg_id=9_000_000_001)

    replies = [await served.say(xml) for _ in range(4)]  # first delivery + WeChat's 3 retries

    assert served.bot.texts == ["路灯坏了"]
    assert [status for status, _ in replies] == [200] * 4
    assert {reply["Content"] for _, reply in replies} == {"收到：路灯坏了"}


async def test_a_retry_during_a_slow_first_delivery_does_not_run_the_bot_twice(serve, fake_api):
    served = await serve(mode="safe", bot=ScriptedBot(delay_s=1.5), reply_budget_s=4)
    xml = served.wechat.text(OPENID, "我要反映问题", msg_id=9_000_000_002)

    first = asyncio.create_task(served.say(xml))
    await asyncio.sleep(0.4)
    retry = await served.say(xml)
    first_status, first_reply = await first

    assert served.bot.texts == ["我要反映问题"]
    assert first_reply["Content"] == "收到：我要反映问题"
    # the retry waits for the first answer and repeats it (or says "success")
    assert retry[0] == 200
    if retry[1] is not None:
        assert retry[1]["Content"] == first_reply["Content"]
    await served.channel.drain()
    assert fake_api.messages == []


async def test_retries_reaching_another_server_process_are_recognised(serve, tmp_path):
    """Two rasa processes share the embedded store file; the retry lands on the second."""
    path = tmp_path / "shared.sqlite3"
    first = await serve(mode="plain", store=SQLiteStore(path))
    second = await serve(mode="plain", store=SQLiteStore(path))
    xml = first.wechat.text(OPENID, "你好", msg_id=9_000_000_003)

    await first.say(xml)
    status, reply = await second.say(xml)

    assert first.bot.texts == ["你好"] and second.bot.texts == []
    assert status == 200 and reply["Content"] == "收到：你好"


@pytest.mark.redis
async def test_retries_are_recognised_across_processes_on_redis(serve, redis_store):
    first = await serve(mode="safe", store=redis_store)
    second = await serve(mode="safe", store=redis_store, aes_key=first.wechat.aes_key)
    xml = first.wechat.text(OPENID, "你好", msg_id=9_000_000_004)

    await first.say(xml)
    await second.say(xml)

    assert len(first.bot.received) + len(second.bot.received) == 1


async def test_events_are_deduplicated_by_sender_and_create_time(serve):
    served = await serve(mode="safe")
    now = int(time.time())
    await served.say(served.wechat.event(OPENID, "subscribe", create_time=now))
    await served.say(served.wechat.event(OPENID, "subscribe", create_time=now))  # a retry
    await served.say(served.wechat.event(OPENID, "CLICK", "FILE_PETITION", create_time=now + 1))
    await served.say(served.wechat.event("oAnotherCitizen", "subscribe", create_time=now))

    assert [(m.sender_id, m.text) for m in served.bot.received] == [
        (OPENID, "/greet"), (OPENID, "/file_petition"), ("oAnotherCitizen", "/greet"),
    ]


# -- slow and long answers: customer-service messages ---------------------------------


async def test_a_slow_answer_says_success_at_once_and_arrives_as_a_customer_service_message(serve, fake_api):
    served = await serve(mode="safe", bot=ScriptedBot(delay_s=1.2), reply_budget_s=0.3)

    started = time.monotonic()
    status, body = await served.deliver(served.wechat.callback(served.wechat.text(OPENID, "你好")))
    elapsed = time.monotonic() - started

    assert (status, body) == (200, "success")
    assert elapsed < 1.0
    assert await asyncio.to_thread(fake_api.wait_for_texts, OPENID, 1) == ["收到：你好"]
    assert len(fake_api.token_calls) == 1


async def test_a_retry_after_the_answer_went_the_slow_way_gets_success_and_no_second_message(serve, fake_api):
    served = await serve(mode="safe", bot=ScriptedBot(delay_s=1.5), reply_budget_s=0.2)
    xml = served.wechat.text(OPENID, "你好", msg_id=9_000_000_005)

    assert (await served.say(xml))[1] is None
    started = time.monotonic()
    during = await served.say(xml)  # while the bot is still working
    answered_in = time.monotonic() - started
    await served.channel.drain()
    after = await served.say(xml)

    assert during == after == (200, None)
    assert answered_in < 1.0
    assert fake_api.texts_to(OPENID) == ["收到：你好"]
    assert len(served.bot.received) == 1


async def test_an_answer_too_long_for_one_message_arrives_in_order_in_pieces(serve, fake_api):
    paragraphs = [f"第{i}段：" + "信访事项办理情况说明。" * 12 for i in range(1, 9)]
    long_answer = "\n".join(paragraphs)
    served = await serve(mode="safe", bot=ScriptedBot(answers={"长": [{"text": long_answer}]}))

    status, reply = await served.say(served.wechat.text(OPENID, "长"))
    await served.channel.drain()

    assert status == 200 and reply is None  # "success": the pieces follow
    pieces = fake_api.texts_to(OPENID)
    assert len(pieces) > 1
    assert all(len(p.encode("utf-8")) <= TEXT_LIMIT_BYTES for p in pieces)
    assert "\n".join(pieces) == long_answer


async def test_reply_text_containing_a_cdata_terminator_survives_intact(serve):
    tricky = "请注意]]><xml>这段文字</xml>]]>&amp;结束"
    served = await serve(mode="safe", bot=ScriptedBot(answers={"x": [{"text": tricky}]}))
    status, reply = await served.say(served.wechat.text(OPENID, "x"))
    assert status == 200 and reply["Content"] == tricky


async def test_a_failing_bot_gives_a_polite_apology(serve):
    served = await serve(mode="plain", bot=ScriptedBot(fail=True))
    status, reply = await served.say(served.wechat.text(OPENID, "你好"))
    assert status == 200 and reply["Content"] == BOT_FAILED


# -- buttons -------------------------------------------------------------------------


async def test_buttons_are_numbered_and_a_number_answers_with_the_button(serve):
    served = await serve(mode="safe", bot=ScriptedBot(answers={"好了": CONFIRM_BUTTONS}))

    _, summary = await served.say(served.wechat.text(OPENID, "好了"))
    await served.say(served.wechat.text(OPENID, "1"))
    await served.say(served.wechat.text(OPENID, "好了"))
    await served.say(served.wechat.text(OPENID, "２"))  # full-width digit from a Chinese keyboard
    await served.say(served.wechat.text(OPENID, "好了"))
    await served.say(served.wechat.text(OPENID, "取消登记"))

    assert summary["Content"].endswith("回复1：确认提交\n回复2：需要修改\n回复3：取消登记")
    assert served.bot.texts == ["好了", "/affirm", "好了", "/deny", "好了", "/cancel"]


async def test_a_number_is_just_text_when_no_buttons_are_showing(serve):
    served = await serve(mode="plain", bot=ScriptedBot(answers={"好了": CONFIRM_BUTTONS}))

    await served.say(served.wechat.text(OPENID, "好了"))
    await served.say(served.wechat.text(OPENID, "9"))          # no 9th button
    await served.say(served.wechat.text(OPENID, "随便说说"))  # answer without buttons
    await served.say(served.wechat.text(OPENID, "1"))
    await served.say(served.wechat.text("oSomeoneElse", "1"))  # buttons belong to one citizen

    assert served.bot.texts == ["好了", "9", "随便说说", "1", "1"]


# -- message types and events --------------------------------------------------------


async def test_a_voice_message_is_understood_through_its_recognition_text(serve):
    served = await serve(mode="safe")
    status, reply = await served.say(served.wechat.voice(OPENID, "我要查询办理进度。"))

    assert status == 200 and reply["Content"] == "收到：我要查询办理进度。"
    [message] = served.bot.received
    assert message.metadata == {"attachments": [{"kind": "voice", "ref": "VOICE_MEDIA_1"}]}


@pytest.mark.parametrize("recognition", [None, "", "   "])
async def test_an_unrecognised_voice_message_asks_the_citizen_to_type(serve, recognition):
    served = await serve(mode="safe")
    status, reply = await served.say(served.wechat.voice(OPENID, recognition))
    assert status == 200 and reply["Content"] == VOICE_NOT_RECOGNISED
    assert served.bot.received == []


async def test_an_image_reaches_the_bot_as_an_attachment_reference(serve):
    served = await serve(mode="safe")
    await served.say(served.wechat.image(OPENID, media_id="MEDIA_abc123"))
    [message] = served.bot.received
    assert message.text == IMAGE_TEXT
    assert message.metadata == {"attachments": [{"kind": "image", "ref": "MEDIA_abc123"}]}


async def test_a_new_follower_is_welcomed_by_the_bot(serve):
    welcome = [{"text": "您好！我是信访事项网上受理助手。", "buttons": [{"title": "我要反映问题", "payload": "/file_petition"}]}]
    served = await serve(mode="safe", bot=ScriptedBot(answers={"/greet": welcome}))

    _, reply = await served.say(served.wechat.event(OPENID, "subscribe"))

    assert served.bot.texts == ["/greet"]
    assert reply["Content"] == "您好！我是信访事项网上受理助手。\n回复1：我要反映问题"


async def test_a_follower_from_a_qr_code_is_welcomed_too(serve):
    served = await serve(mode="plain")
    await served.say(served.wechat.event(OPENID, "subscribe", "qrscene_hall_1"))
    assert served.bot.texts == ["/greet"]


async def test_unfollowing_is_acknowledged_silently(serve, fake_api):
    served = await serve(mode="safe")
    status, reply = await served.say(served.wechat.event(OPENID, "unsubscribe"))
    assert (status, reply) == (200, None)
    assert served.bot.received == [] and fake_api.messages == []


@pytest.mark.parametrize("key, said", [
    ("FILE_PETITION", "/file_petition"),
    ("QUERY_PROGRESS", "/query_progress"),
    ("SCOPE", "信访受理范围是什么"),
])
async def test_menu_clicks_start_the_matching_conversation(serve, key, said):
    served = await serve(mode="safe")
    await served.say(served.wechat.event(OPENID, "CLICK", key))
    assert served.bot.texts == [said]


async def test_unknown_menu_keys_and_other_events_are_acknowledged_silently(serve):
    served = await serve(mode="safe")
    for xml in (
        served.wechat.event(OPENID, "CLICK", "SOMETHING_ELSE", create_time=1_000 + int(time.time())),
        served.wechat.event(OPENID, "VIEW", "https://example.org/", create_time=int(time.time()) - 5),
        served.wechat.event(OPENID, "TEMPLATESENDJOBFINISH", create_time=int(time.time()) - 6),
        served.wechat.event(OPENID, "SOME_FUTURE_EVENT", create_time=int(time.time()) - 7),
    ):
        status, _ = await served.deliver(served.wechat.callback(xml))
        assert status == 200
    assert served.bot.received == []


async def test_a_message_type_the_assistant_cannot_read_gets_a_hint(serve):
    served = await serve(mode="safe")
    location = served.wechat._xml(OPENID, "location", {
        "Location_X": "23.1", "Location_Y": "113.3", "Scale": 20, "Label": "某地", "MsgId": 7_000_001,
    })
    _, reply = await served.say(location)
    assert reply["Content"] == UNSUPPORTED_TYPE
    assert served.bot.received == []


async def test_messages_rasa_sends_on_its_own_go_out_as_customer_service_messages(serve, fake_api):
    served = await serve(mode="safe")
    output = served.channel.get_output_channel()

    await output.send_response(OPENID, dict(CONFIRM_BUTTONS[0]))
    await served.say(served.wechat.text(OPENID, "3"))

    [pushed] = fake_api.texts_to(OPENID)
    assert pushed.endswith("回复3：取消登记")
    assert served.bot.texts == ["/cancel"]


# -- credentials ---------------------------------------------------------------------


def test_environment_variables_win_over_credentials_yml(wechat_env):
    env = wechat_env(XF_WECHAT_REPLY_BUDGET_S="2.5")
    channel = WeChatInput.from_credentials({"token": "from-yml", "appid": "wx-from-yml", "aes_key": "", "secret": ""})
    assert (channel.token, channel.appid, channel.secret) == (TOKEN, APPID, SECRET)
    assert channel.crypto is not None and channel.crypto.key  # the env AES key
    assert channel.reply_budget_s == 2.5
    assert env["XF_WECHAT_AES_KEY"]


def test_without_an_aes_key_the_channel_accepts_plaintext_only(wechat_env):
    wechat_env(XF_WECHAT_AES_KEY="")
    channel = WeChatInput.from_credentials({"token": "", "aes_key": ""})
    assert channel.crypto is None and channel.token == TOKEN


def test_a_malformed_aes_key_is_a_clear_configuration_error(wechat_env):
    wechat_env(XF_WECHAT_AES_KEY="short")
    with pytest.raises(ValueError, match="EncodingAESKey"):
        WeChatInput.from_credentials({})


async def test_an_unconfigured_channel_answers_503_instead_of_guessing(serve, monkeypatch):
    served = await serve(mode="plain")
    served.channel.token = ""
    status, _ = await served.deliver(served.wechat.callback(served.wechat.text(OPENID, "你好")))
    assert status == 503


# -- the WeChat API client -----------------------------------------------------------


async def test_a_refused_access_token_is_refreshed_and_the_message_sent(fake_api, sqlite_store):
    api = WeChatAPI(APPID, SECRET, base_url=fake_api.base_url, store=sqlite_store)
    try:
        await api.send_text(OPENID, "第一条")
        fake_api.revoke_tokens()  # e.g. someone else fetched a new token
        await api.send_text(OPENID, "第二条")
    finally:
        await api.close()
    assert fake_api.texts_to(OPENID) == ["第一条", "第二条"]
    assert len(fake_api.token_calls) == 2
    assert [r["errcode"] for r in fake_api.refused] == [40001]


async def test_token_errors_are_retried_a_bounded_number_of_times(fake_api, sqlite_store):
    api = WeChatAPI(APPID, SECRET, base_url=fake_api.base_url, store=sqlite_store, max_token_retries=2)
    fake_api.answer_next_with(42001, times=50)
    try:
        with pytest.raises(WeChatAPIError) as refused:
            await api.send_text(OPENID, "你好")
    finally:
        await api.close()
    assert refused.value.errcode == 42001
    assert len(fake_api.refused) == 3
    assert len(fake_api.token_calls) == 3
    assert fake_api.messages == []


async def test_other_api_errors_are_reported_not_retried(fake_api, sqlite_store):
    api = WeChatAPI(APPID, SECRET, base_url=fake_api.base_url, store=sqlite_store)
    fake_api.answer_next_with(45015)  # the 48-hour window has passed
    try:
        with pytest.raises(WeChatAPIError) as refused:
            await api.send_text(OPENID, "你好")
    finally:
        await api.close()
    assert refused.value.errcode == 45015
    assert len(fake_api.refused) == 1


async def test_the_access_token_is_shared_between_processes(fake_api, any_store):
    clients = [WeChatAPI(APPID, SECRET, base_url=fake_api.base_url, store=any_store) for _ in range(3)]
    try:
        for client in clients:
            await client.send_text(OPENID, "你好")
    finally:
        for client in clients:
            await client.close()
    assert len(fake_api.token_calls) == 1
    assert len({m["token"] for m in fake_api.messages}) == 1


async def test_concurrent_refreshes_fetch_one_token(fake_api, any_store):
    clients = [WeChatAPI(APPID, SECRET, base_url=fake_api.base_url, store=any_store) for _ in range(8)]
    try:
        tokens = await asyncio.gather(*(c.access_token() for c in clients for _ in range(3)))
    finally:
        for client in clients:
            await client.close()
    assert len(set(tokens)) == 1
    assert len(fake_api.token_calls) == 1


async def test_a_hanging_wechat_api_times_out(sqlite_store):
    async def never_answer(reader, writer):
        await asyncio.sleep(30)

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    api = WeChatAPI(APPID, SECRET, base_url=f"http://127.0.0.1:{port}", store=sqlite_store, timeout_s=0.5)
    started = time.monotonic()
    try:
        with pytest.raises(WeChatAPIError, match="timeout"):
            await api.send_text(OPENID, "你好")
    finally:
        await api.close()
        server.close()
    assert time.monotonic() - started < 3


def test_text_is_split_at_line_breaks_within_the_limit():
    text = "\n".join(["一二三四五"] * 10)  # 15 bytes + newline each
    pieces = split_text(text, limit_bytes=40)
    assert all(len(p.encode()) <= 40 for p in pieces)
    assert "\n".join(pieces) == text
    assert split_text("长" * 100, limit_bytes=30) == ["长" * 10] * 10
    assert split_text("  \n ") == []


def test_cdata_never_closes_early():
    text = "a]]>b]]>"
    document = f"<xml><C>{cdata(text)}</C></xml>"
    assert xmltodict.parse(document)["xml"]["C"] == text


# -- the shared store ------------------------------------------------------------------


def test_a_claim_holds_until_it_expires(any_store):
    assert any_store.claim("k1", 0.5) is True
    assert any_store.claim("k1", 0.5) is False
    time.sleep(0.6)
    assert any_store.claim("k1", 0.5) is True


def test_a_lock_is_released_only_by_its_owner(any_store):
    assert any_store.claim("lock", 5, "owner-a")
    assert any_store.delete("lock", "owner-b") is False
    assert any_store.get("lock") == "owner-a"
    assert any_store.delete("lock", "owner-a") is True
    assert any_store.get("lock") is None


def test_many_processes_claiming_one_delivery_get_exactly_one_yes(tmp_path):
    path = tmp_path / "state.sqlite3"
    SQLiteStore(path)
    script = (
        "import sys; from channels.dedupe import SQLiteStore, Deduplicator; "
        "d = Deduplicator(SQLiteStore(sys.argv[1])); "
        "print(sum(d.claim(f'wechat:seen:gh:msg:{i}') for i in range(200)))"
    )
    python = Path(__file__).resolve().parents[2] / ".venv" / "bin" / "python"
    runs = [subprocess.Popen([str(python), "-c", script, str(path)], stdout=subprocess.PIPE,
                             cwd=Path(__file__).resolve().parents[2]) for _ in range(4)]
    claimed = [int(run.communicate(timeout=60)[0]) for run in runs]
    assert sum(claimed) == 200


@pytest.mark.redis
def test_with_xf_redis_url_the_state_lives_in_redis(monkeypatch, redis_store, tmp_path):
    from channels.dedupe import RedisStore, shared_store
    from tests.channels.conftest import REDIS_URL

    monkeypatch.setenv("XF_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("XF_REDIS_URL", REDIS_URL)
    assert isinstance(shared_store(), RedisStore)
    monkeypatch.delenv("XF_REDIS_URL")
    assert isinstance(shared_store(), SQLiteStore)


def test_a_broken_store_does_not_lose_the_message():
    class Broken:
        def claim(self, *args):
            raise ConnectionError("redis down")

    assert Deduplicator(Broken()).claim("wechat:seen:x") is True


# -- xinfang wechat menu -------------------------------------------------------------


def _menu_args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="xinfang")
    add_wechat_parser(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(["wechat", "menu", *argv])


def test_xinfang_wechat_menu_creates_the_three_entry_menu(wechat_env, fake_api, capsys):
    wechat_env()
    assert run_wechat(_menu_args()) == 0

    [call] = fake_api.menus
    assert [(b["name"], b["key"]) for b in call["body"]["button"]] == [
        ("我要信访", "FILE_PETITION"), ("查询进度", "QUERY_PROGRESS"), ("受理范围", "SCOPE"),
    ]
    assert "我要信访".encode() in call["raw"]  # real UTF-8, not \\u escapes
    assert "已创建" in capsys.readouterr().out


def test_xinfang_wechat_menu_without_credentials_says_what_is_missing(wechat_env, fake_api, capsys):
    wechat_env(XF_WECHAT_SECRET="")
    assert run_wechat(_menu_args()) == 1
    assert "XF_WECHAT_SECRET" in capsys.readouterr().err
    assert fake_api.menus == []


def test_xinfang_wechat_menu_dry_run_prints_the_menu(wechat_env, fake_api, capsys):
    wechat_env()
    assert run_wechat(_menu_args("--dry-run")) == 0
    assert json.loads(capsys.readouterr().out)["button"][0]["key"] == "FILE_PETITION"
    assert fake_api.menus == [] and fake_api.token_calls == []


# -- end to end: a whole case filed over WeChat ---------------------------------------

ZHOU = {
    "description": "我们小区旁边的工地每天晚上十一点以后还在施工，噪音很大，孩子和老人都睡不好",
    "respondent": "区住房和城乡建设局",
    "occurred": "上个月开始",
    "location": "朝阳路幸福里小区东侧工地",
    "demand": "要求工地夜间停止施工",
    "petitioner_name": "周敏",
    "phone": "13912345678",
    "address": "朝阳路幸福里小区3号楼",
    "id_number": "不提供",
}


@pytest.fixture(scope="module")
def wechat_stack(tmp_path_factory):
    """Backend + action server + ``rasa run`` with the WeChat channel, and the fake WeChat API."""
    from tests.support.stack import rasa_server, require_model, running_stack

    model = require_model()
    var = tmp_path_factory.mktemp("wechat-e2e")
    fake = FakeWeChatAPI(APPID, SECRET).start()
    aes_key = new_aes_key()
    env = {
        "XF_WECHAT_TOKEN": TOKEN, "XF_WECHAT_APPID": APPID, "XF_WECHAT_SECRET": SECRET,
        "XF_WECHAT_AES_KEY": aes_key, "XF_WECHAT_API_BASE": fake.base_url,
    }
    credentials = 'rest:\nchannels.wechat.WeChatInput:\n  token: ""\n  aes_key: ""\n'
    try:
        with running_stack(var / "stack") as stack, rasa_server(
            model, stack, var, credentials=credentials, ready_path="/webhooks/wechat/", env=env
        ) as server:
            yield {
                "url": f"{server.url}/webhooks/wechat/webhook", "backend": stack[0], "fake": fake,
                "callbacks": WeChatCallbacks(TOKEN, APPID, aes_key, mode="safe"),
            }
    finally:
        fake.stop()


class WeChatCitizen:
    """Someone typing into the official account; hears passive replies and customer-service messages."""

    def __init__(self, stack: dict, openid: str) -> None:
        self.url, self.fake, self.wechat = stack["url"], stack["fake"], stack["callbacks"]
        self.openid = openid
        self.heard: list[str] = []
        self._pushed = 0

    def sends(self, xml: str) -> str:
        callback = self.wechat.callback(xml)
        request = urllib.request.Request(
            self.url + "?" + urllib.parse.urlencode(callback.query), data=callback.body,
            headers={"Content-Type": "text/xml"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            reply = self.wechat.read_reply(response.read().decode("utf-8"))
        if reply is not None:
            answer = reply["Content"]
        else:  # "success": the answer comes as customer-service message(s)
            texts = self.fake.wait_for_texts(self.openid, self._pushed + 1, timeout_s=60)
            time.sleep(0.5)  # let the remaining pieces of a long answer arrive
            texts = self.fake.texts_to(self.openid)
            answer = "\n".join(texts[self._pushed:])
            self._pushed = len(texts)
        self.heard.append(answer)
        return answer

    def says(self, text: str) -> str:
        return self.sends(self.wechat.text(self.openid, text))


@pytest.mark.needs_model
def test_zhou_files_a_whole_case_through_the_official_account(wechat_stack):
    from tests.support.citizen import CASE_ID
    from tests.support.forms import QUESTION_CUES, SUMMARY_CUE

    zhou = WeChatCitizen(wechat_stack, "oZhouMin_e2e_0001")
    welcome = zhou.sends(zhou.wechat.event(zhou.openid, "subscribe"))
    assert "登记信访事项" in welcome and "回复1：" in welcome

    answer = zhou.says("1")  # the first button: 我要反映问题
    for _ in range(14):
        if SUMMARY_CUE in answer:
            break
        slot = next((slot for cue, slot in QUESTION_CUES.items() if cue in answer), None)
        assert slot is not None, f"unexpected answer: {answer!r}"
        if slot == "location":  # said aloud: WeChat sends the recognised text
            answer = zhou.sends(zhou.wechat.voice(zhou.openid, ZHOU[slot]))
        else:
            answer = zhou.says(ZHOU[slot])
    assert SUMMARY_CUE in answer and "回复1：确认提交" in answer

    filed = zhou.says("1")  # 确认提交
    case_id = CASE_ID.search(filed).group(0)
    case = wechat_stack["backend"].wait_for_case(case_id)
    assert case["channel"] == "wechat"
    assert case["channel_user"] == zhou.openid
    assert case["petitioner"]["name"] == "周敏" and case["petitioner"]["phone"] == "13912345678"
    assert "噪音" in case["description"]
