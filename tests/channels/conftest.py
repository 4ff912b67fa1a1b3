"""Fixtures for the WeChat channel: the fake WeChat API, shared stores, a served channel.

The channel runs in a real Sanic server on 127.0.0.1 (sanic_testing is not
installed) with a scripted bot in place of Rasa; WeChat's side is played by
``fake_wechat``. Redis tests skip when the server is unreachable, unless
``CI=true``.
"""
from __future__ import annotations

import asyncio
import os
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import aiohttp
import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from channels.dedupe import RedisStore, SQLiteStore
from channels.wechat import WeChatInput
from channels.wechat_api import WeChatAPI
from tests.support.stack import free_port
from tests.channels.fake_wechat import Callback, FakeWeChatAPI, WeChatCallbacks, new_aes_key

TOKEN = "xinfang-test-token"
APPID = "wx0123456789abcdef"
SECRET = "test-app-secret"
REDIS_URL = os.environ.get("XF_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def fake_api():
    api = FakeWeChatAPI(APPID, SECRET).start()
    yield api
    api.stop()


@pytest.fixture
def sqlite_store(tmp_path):
    return SQLiteStore(tmp_path / "wechat_state.sqlite3")


@pytest.fixture
def redis_store():
    """A Redis store with a key prefix of its own, emptied afterwards."""
    import redis

    prefix = f"xinfang-test:{uuid.uuid4().hex[:8]}:"
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.ping()
    except Exception as exc:  # noqa: BLE001
        reason = f"Redis at {REDIS_URL} is unreachable ({type(exc).__name__})"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    yield RedisStore(REDIS_URL, prefix=prefix)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)


@pytest.fixture(params=["sqlite", pytest.param("redis", marks=pytest.mark.redis)])
def any_store(request):
    """Each shared-store test runs on SQLite and on Redis."""
    return request.getfixturevalue(f"{request.param}_store")


@dataclass
class ScriptedBot:
    """Stands in for Rasa's agent: answers each message, records what it got.

    ``answers`` maps an incoming text to the bot messages to send (dicts as
    Rasa's output channels get them); anything else is echoed. ``delay_s``
    makes every turn slow.
    """

    answers: dict[str, list[dict]] = field(default_factory=dict)
    delay_s: float = 0.0
    fail: bool = False
    received: list[UserMessage] = field(default_factory=list)

    async def __call__(self, message: UserMessage) -> None:
        self.received.append(message)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if self.fail:
            raise RuntimeError("the bot broke")
        for answer in self.answers.get(message.text, [{"text": f"收到：{message.text}"}]):
            await message.output_channel.send_response(message.sender_id, dict(answer))

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.received]


@dataclass
class ServedChannel:
    """A WeChat channel behind a real HTTP server, and WeChat's side of it."""

    url: str
    channel: WeChatInput
    bot: ScriptedBot
    wechat: WeChatCallbacks
    session: aiohttp.ClientSession

    async def deliver(self, callback: Callback, *, query: Optional[dict] = None, body: Optional[bytes] = None) -> tuple[int, str]:
        """POSTs a callback (optionally with its query or body replaced)."""
        async with self.session.post(
            self.url, params=query if query is not None else callback.query,
            data=body if body is not None else callback.body,
            headers={"Content-Type": "text/xml"},
        ) as response:
            return response.status, await response.text()

    async def say(self, xml: str, **kwargs: Any) -> tuple[int, Optional[dict]]:
        """Delivers ``xml`` as WeChat would; returns status and the decoded passive reply."""
        status, body = await self.deliver(self.wechat.callback(xml, **kwargs))
        return status, (self.wechat.read_reply(body) if status == 200 else None)


@pytest.fixture
async def serve(fake_api, sqlite_store):
    """``await serve(mode="safe", bot=ScriptedBot(), **channel_kwargs)`` -> ServedChannel."""
    started: list[tuple[Any, aiohttp.ClientSession, WeChatInput]] = []
    # Sanic 21.12 rewrites its HTTP methods when an app starts; only in test
    # mode can several apps start in one process (the flag stays set).
    Sanic.test_mode = True

    async def start(
        *, mode: str = "safe", bot: Optional[ScriptedBot] = None, store=None,
        aes_key: Optional[str] = None, **kwargs: Any
    ) -> ServedChannel:
        store = store or sqlite_store
        aes_key = aes_key or (new_aes_key() if mode != "plain" else "")
        api = WeChatAPI(APPID, SECRET, base_url=fake_api.base_url, store=store, timeout_s=3)
        channel = WeChatInput(TOKEN, APPID, aes_key, SECRET, store=store, api=api, **kwargs)
        bot = bot or ScriptedBot()
        app = Sanic(f"wechat_test_{uuid.uuid4().hex[:12]}")
        app.config.ACCESS_LOG = False
        app.blueprint(channel.blueprint(bot), url_prefix="/webhooks/wechat")
        port = free_port()  # Sanic takes port 0 for "default" (8000)
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        await server.start_serving()
        session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))
        started.append((server, session, channel))
        callbacks = WeChatCallbacks(TOKEN, APPID, aes_key or None, mode=mode)
        return ServedChannel(f"http://127.0.0.1:{port}/webhooks/wechat/webhook", channel, bot, callbacks, session)

    yield start
    for server, session, channel in started:
        await channel.drain(5)
        await session.close()
        await channel.api.close()
        server.close()
        await server.wait_closed()


@pytest.fixture
def wechat_env(monkeypatch, fake_api, tmp_path) -> Callable[..., dict]:
    """Sets the XF_WECHAT_* variables for code that reads the environment."""

    def apply(**overrides: str) -> dict:
        values = {
            "XF_WECHAT_TOKEN": TOKEN, "XF_WECHAT_APPID": APPID, "XF_WECHAT_SECRET": SECRET,
            "XF_WECHAT_AES_KEY": new_aes_key(), "XF_WECHAT_API_BASE": fake_api.base_url,
            "XF_VAR_DIR": str(tmp_path / "var"), **overrides,
        }
        monkeypatch.delenv("XF_REDIS_URL", raising=False)
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        return values

    return apply
