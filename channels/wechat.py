"""The WeChat official-account channel (contract §9): ``/webhooks/wechat/webhook``.

WeChat calls the webhook for every message and event a citizen sends. This
channel checks where the call comes from (signature, ``msg_signature`` in the
encrypted modes, a replay window on the timestamp), refuses anything odd with
a plain 4xx, claims each delivery once across processes (WeChat retries three
times when it hears nothing within 5 s), and answers:

* passively, in the HTTP response, when the bot has answered within the
  budget (``XF_WECHAT_REPLY_BUDGET_S``, 4 s) and the answer fits one message;
* otherwise with ``success``, and the answer follows as customer-service
  message(s) sent by a background task on the server's event loop.

Buttons become numbered lines ("回复1：确认提交"); a reply "1" is turned back
into that button's payload. The openid is the Rasa sender id.

Credentials: ``XF_WECHAT_TOKEN``, ``XF_WECHAT_APPID``, ``XF_WECHAT_AES_KEY``
(absent: plaintext mode only), ``XF_WECHAT_SECRET``; environment variables win
over values in credentials.yml.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import time
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import xmltodict
from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.exceptions import PayloadTooLarge, SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.dedupe import DEFAULT_DEDUPE_TTL_S, Deduplicator, SharedStore, shared_store
from channels.wechat_api import WeChatAPI, WeChatAPIError, split_text

logger = logging.getLogger(__name__)

REPLAY_WINDOW_S = 300
MAX_BODY_BYTES = 64 * 1024
DEFAULT_REPLY_BUDGET_S = 4.0
#: a passive reply is kept this long so that a retry can be answered with it
REPLY_CACHE_TTL_S = 120
#: the buttons last shown to a citizen stay answerable by number this long
BUTTONS_TTL_S = 24 * 3600

#: menu CLICK keys (``xinfang wechat menu``) -> what the citizen "says"
MENU_KEYS = {
    "FILE_PETITION": "/file_petition",
    "QUERY_PROGRESS": "/query_progress",
    "SCOPE": "信访受理范围是什么",
}
IMAGE_TEXT = "（图片）"
VOICE_NOT_RECOGNISED = "抱歉，没能识别您的语音内容。请您直接输入文字，我会继续为您办理。"
UNSUPPORTED_TYPE = "目前可以接收文字、语音和图片消息。请您用文字描述需要反映的问题。"
BOT_FAILED = "抱歉，系统暂时繁忙，请稍后再发送一次。如情况紧急，请拨打110、119、120。"

_DTD = re.compile(rb"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)
_XML_INVALID_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_DIGITS = str.maketrans("０１２３４５６７８９", "0123456789")

OnNewMessage = Callable[[UserMessage], Awaitable[Any]]


class BadRequest(Exception):
    """A callback refused with ``status``; ``reason`` goes to the log, never the body."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


# -- signatures and XML --------------------------------------------------------


def sign(*parts: str) -> str:
    """WeChat's signature: sha1 over the sorted parts, concatenated."""
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def signature_matches(expected: str, given: Optional[str]) -> bool:
    """Constant-time comparison (wechatpy compares with ``!=``)."""
    return bool(given) and hmac.compare_digest(expected.encode(), str(given).lower().encode())


def cdata(text: str) -> str:
    """``text`` as CDATA content: ``]]>`` is split across two sections and
    characters XML forbids are dropped, so no reply text can break the XML."""
    text = _XML_INVALID_CHARS.sub("", text)
    return "<![CDATA[" + text.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_text_reply(to_user: str, from_user: str, content: str, *, now: Optional[int] = None) -> str:
    """The XML of a passive text reply."""
    return (
        "<xml>"
        f"<ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(now if now is not None else time.time())}</CreateTime>"
        "<MsgType><![CDATA[text]]></MsgType>"
        f"<Content>{cdata(content)}</Content>"
        "</xml>"
    )


def render_messages(messages: List[Dict[Text, Any]]) -> tuple[str, list[dict]]:
    """One text for a turn's bot messages, and the buttons it offers (numbered
    through the whole turn, shown as "回复1：标题")."""
    blocks: list[str] = []
    buttons: list[dict] = []
    for message in messages:
        lines: list[str] = []
        if message.get("text"):
            lines.append(str(message["text"]))
        for button in message.get("buttons") or []:
            buttons.append({"title": str(button.get("title", "")), "payload": str(button.get("payload", ""))})
            lines.append(f"回复{len(buttons)}：{buttons[-1]['title']}")
        if message.get("image"):
            lines.append(str(message["image"]))
        if message.get("attachment"):
            lines.append(str(message["attachment"]))
        custom = message.get("custom")
        if isinstance(custom, dict) and isinstance(custom.get("text"), str):
            lines.append(custom["text"])
        if lines:
            blocks.append("\n".join(lines))
    return "\n\n".join(blocks).strip(), buttons


class WeChatCollector(CollectingOutputChannel):
    """Collects the bot's messages of one turn (rendered after the turn)."""

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        # Keep a message whole (the base class splits at blank lines).
        await self._persist_message(self._message(recipient_id, text=text))


class WeChatPushOutput(OutputChannel):
    """Sends bot messages at once as customer-service messages (for messages
    Rasa sends outside a citizen's turn, e.g. ``trigger_intent``)."""

    def __init__(self, channel: "WeChatInput") -> None:
        self.channel = channel

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        text, buttons = render_messages([message])
        await self.channel.remember_buttons(recipient_id, buttons)
        await self.channel.push(recipient_id, text)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.channel.push(recipient_id, text)


# -- the input channel -----------------------------------------------------------


class WeChatInput(InputChannel):
    """Rasa input channel for a WeChat official account."""

    @classmethod
    def name(cls) -> Text:
        return "wechat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}

        def setting(env: str, key: str, default: str = "") -> str:
            value = os.environ.get(env)
            if value is None or not value.strip():
                value = credentials.get(key)
            return str(value).strip() if value not in (None, "") else default

        return cls(
            token=setting("XF_WECHAT_TOKEN", "token"),
            appid=setting("XF_WECHAT_APPID", "appid"),
            aes_key=setting("XF_WECHAT_AES_KEY", "aes_key"),
            secret=setting("XF_WECHAT_SECRET", "secret"),
            reply_budget_s=float(setting("XF_WECHAT_REPLY_BUDGET_S", "reply_budget_s", str(DEFAULT_REPLY_BUDGET_S))),
        )

    def __init__(
        self,
        token: str,
        appid: str = "",
        aes_key: str = "",
        secret: str = "",
        *,
        reply_budget_s: float = DEFAULT_REPLY_BUDGET_S,
        store: Optional[SharedStore] = None,
        api: Optional[WeChatAPI] = None,
        replay_window_s: int = REPLAY_WINDOW_S,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self.token = token
        self.appid = appid
        self.secret = secret
        self.reply_budget_s = reply_budget_s
        self.replay_window_s = replay_window_s
        self.max_body_bytes = max_body_bytes
        self._store = store
        self._api = api
        self._tasks: set[asyncio.Task] = set()
        self.crypto = None
        if aes_key:
            from wechatpy.crypto import WeChatCrypto

            try:
                self.crypto = WeChatCrypto(token, aes_key, appid)
            except Exception as error:  # AssertionError for a key of the wrong length
                raise ValueError("XF_WECHAT_AES_KEY must be the 43-character EncodingAESKey") from error
        if not token:
            logger.warning("WeChat channel has no token (XF_WECHAT_TOKEN); its webhook answers 503")

    # -- shared state ----------------------------------------------------------

    @property
    def store(self) -> SharedStore:
        if self._store is None:
            self._store = shared_store()
        return self._store

    @property
    def api(self) -> WeChatAPI:
        if self._api is None:
            self._api = WeChatAPI(self.appid, self.secret, store=self.store)
        return self._api

    async def _store_call(self, method: str, *args: Any) -> Any:
        """A store operation off the event loop; None (logged) if the store fails."""
        try:
            return await asyncio.to_thread(getattr(self.store, method), *args)
        except Exception as error:  # noqa: BLE001
            logger.warning("WeChat state store %s failed: %s", method, type(error).__name__)
            return None

    async def remember_buttons(self, openid: str, buttons: list[dict]) -> None:
        """Keeps the buttons just shown (or forgets old ones when none were shown)."""
        key = f"wechat:buttons:{openid}"
        if buttons:
            await self._store_call("put", key, json.dumps(buttons, ensure_ascii=False), BUTTONS_TTL_S)
        else:
            await self._store_call("delete", key)

    async def _button_payload(self, openid: str, text: str) -> Optional[str]:
        """The payload of the button the citizen chose by number (or exact title)."""
        stored = await self._store_call("get", f"wechat:buttons:{openid}")
        if not stored:
            return None
        try:
            buttons = json.loads(stored)
        except ValueError:
            return None
        choice = text.strip().translate(_DIGITS)
        choice = re.sub(r"^回复\s*", "", choice).rstrip("。.")
        if choice.isdigit() and 1 <= int(choice) <= len(buttons):
            return buttons[int(choice) - 1]["payload"]
        for button in buttons:
            if choice == button["title"]:
                return button["payload"]
        return None

    async def push(self, openid: str, text: str) -> None:
        """Sends ``text`` as customer-service message(s); failures are logged."""
        if not text:
            return
        try:
            await self.api.send_text(openid, text)
        except WeChatAPIError as error:
            # 45015: the 48-hour window passed; 45047: too many messages.
            logger.error("could not send a WeChat customer-service message: %s", error)

    def _spawn(self, coroutine: Awaitable[Any]) -> asyncio.Task:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def drain(self, timeout_s: float = 30) -> None:
        """Waits for background sends (tests, shutdown)."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout_s)

    def get_output_channel(self) -> Optional[OutputChannel]:
        return WeChatPushOutput(self)

    # -- request checks --------------------------------------------------------

    def _check_query(self, request: Request) -> tuple[str, str]:
        """Signature and replay window of a callback; returns (timestamp, nonce)."""
        args = request.args
        signature, timestamp, nonce = args.get("signature"), args.get("timestamp"), args.get("nonce")
        if not signature or not timestamp or not nonce:
            raise BadRequest(400, "signature, timestamp or nonce missing")
        try:
            sent_at = int(timestamp)
        except ValueError:
            raise BadRequest(400, "timestamp is not a number") from None
        if abs(time.time() - sent_at) > self.replay_window_s:
            raise BadRequest(403, "timestamp outside the replay window")
        if not signature_matches(sign(self.token, timestamp, nonce), signature):
            raise BadRequest(403, "signature mismatch")
        return timestamp, nonce

    async def _read_body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared is not None:
            try:
                if int(declared) > self.max_body_bytes:
                    raise BadRequest(413, "body too large")
            except ValueError:
                raise BadRequest(400, "bad content-length") from None
        if request.stream is None:  # non-streaming route (tests with a plain app)
            body = request.body or b""
        else:
            request.stream.request_max_size = self.max_body_bytes
            chunks, size = [], 0
            try:
                async for chunk in request.stream:
                    size += len(chunk)
                    if size > self.max_body_bytes:
                        raise BadRequest(413, "body too large")
                    chunks.append(chunk)
            except PayloadTooLarge:
                raise BadRequest(413, "body too large") from None
            body = b"".join(chunks)
        if len(body) > self.max_body_bytes:
            raise BadRequest(413, "body too large")
        return body

    def _decode(self, request: Request, body: bytes, timestamp: str, nonce: str) -> tuple[str, bool]:
        """The plaintext message XML and whether the call came encrypted."""
        if _DTD.search(body):
            raise BadRequest(400, "DTD or entity declaration")
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(400, "body is not UTF-8") from None
        encrypted = (request.args.get("encrypt_type") or "raw").lower() == "aes"
        if not encrypted:
            if self.crypto is not None:
                # With an AES key configured the account is in compatible or safe
                # mode; a plaintext call (whose signature does not cover the body)
                # is not from WeChat.
                raise BadRequest(403, "plaintext call while an AES key is configured")
            return text, False
        if self.crypto is None:
            raise BadRequest(400, "encrypted call but no XF_WECHAT_AES_KEY configured")
        from wechatpy.exceptions import InvalidAppIdException, InvalidSignatureException

        try:
            envelope = xmltodict.parse(text)["xml"]
            encrypt = envelope["Encrypt"]
        except Exception:  # noqa: BLE001 - any parse problem is the caller's
            raise BadRequest(400, "encrypted envelope unreadable") from None
        if not isinstance(encrypt, str):
            raise BadRequest(400, "encrypted envelope unreadable")
        if not signature_matches(sign(self.token, timestamp, nonce, encrypt), request.args.get("msg_signature")):
            raise BadRequest(403, "msg_signature mismatch")
        try:
            plain = self.crypto.decrypt_message(
                {"Encrypt": encrypt}, request.args.get("msg_signature"), timestamp, nonce
            )
        except (InvalidSignatureException, InvalidAppIdException):
            raise BadRequest(403, "message not for this account") from None
        except Exception:  # noqa: BLE001
            raise BadRequest(400, "message could not be decrypted") from None
        if _DTD.search(plain.encode("utf-8")):
            raise BadRequest(400, "DTD or entity declaration")
        return plain, True

    # -- the turn --------------------------------------------------------------

    def _reply(self, message: Any, text: str, nonce: str, encrypted: bool) -> HTTPResponse:
        xml = render_text_reply(message.source, message.target, text)
        if encrypted:
            xml = self.crypto.encrypt_message(xml, nonce)
        return response.text(xml, content_type="application/xml; charset=utf-8")

    @staticmethod
    def _success() -> HTTPResponse:
        return response.text("success")

    async def _turn_for(self, message: Any) -> Optional[tuple[str, Optional[str], Optional[dict]]]:
        """What a WeChat message means: (kind, text, metadata) where kind is
        "bot" (send text to Rasa) or "direct" (answer text without the bot);
        None when nothing is to be answered."""
        kind = message.type
        if kind == "text":
            text = (message.content or "").strip()
            if not text:
                return None
            payload = await self._button_payload(message.source, text)
            return "bot", payload or text, None
        if kind == "voice":
            recognised = (getattr(message, "recognition", None) or "").strip()
            if not recognised:
                return "direct", VOICE_NOT_RECOGNISED, None
            payload = await self._button_payload(message.source, recognised)
            metadata = {"attachments": [{"kind": "voice", "ref": message.media_id}]} if message.media_id else None
            return "bot", payload or recognised, metadata
        if kind == "image":
            ref = message.media_id or message.image
            metadata = {"attachments": [{"kind": "image", "ref": ref}]} if ref else None
            return "bot", IMAGE_TEXT, metadata
        raw_type = str(getattr(message, "_data", {}).get("MsgType", "")).lower()
        if kind == "event" or raw_type == "event":
            event = (getattr(message, "event", "") or "").lower()
            if event in ("subscribe", "subscribe_scan"):
                return "bot", "/greet", None
            if event == "click":
                text = MENU_KEYS.get(getattr(message, "key", "") or "")
                return ("bot", text, None) if text else None
            return None  # unsubscribe, VIEW, LOCATION, TEMPLATESENDJOBFINISH, ...
        return "direct", UNSUPPORTED_TYPE, None

    async def _run_bot(
        self, on_new_message: OnNewMessage, message: Any, text: str, metadata: Optional[dict]
    ) -> str:
        """Runs one bot turn; returns its rendered answer (buttons remembered)."""
        collector = WeChatCollector()
        user_message = UserMessage(
            text,
            collector,
            message.source,
            input_channel=self.name(),
            message_id=str(message.id) if message.id else None,
            metadata=metadata,
        )
        try:
            await on_new_message(user_message)
        except Exception:  # noqa: BLE001
            logger.exception("the bot failed on a WeChat message")
            return BOT_FAILED
        answer, buttons = render_messages(collector.messages)
        await self.remember_buttons(message.source, buttons)
        return answer

    async def _deliver_later(self, key: str, openid: str, pending: Awaitable[str]) -> None:
        """Marks the delivery as answered asynchronously (a retry then gets
        ``success`` at once); the answer is sent in the background when ready."""
        await self._store_call("put", f"wechat:reply:{key}", json.dumps({"async": True}), REPLY_CACHE_TTL_S)

        async def send() -> None:
            await self.push(openid, await pending)

        self._spawn(send())

    async def _cached_reply(self, key: str, wait_s: float) -> Optional[str]:
        """For a retry: the passive reply the first delivery gave, waiting a
        little for it; None when it went (or is going) the asynchronous way."""
        deadline = time.monotonic() + wait_s
        while True:
            stored = await self._store_call("get", f"wechat:reply:{key}")
            if stored:
                try:
                    return json.loads(stored).get("text")
                except ValueError:
                    return None
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.2)

    async def _handle_message(self, message: Any, on_new_message: OnNewMessage, nonce: str, encrypted: bool) -> HTTPResponse:
        account = message.target or self.appid
        if message.type == "event" or not getattr(message, "id", 0):
            key = Deduplicator.event_key(account, message.source, message.time)
        else:
            key = Deduplicator.message_key(account, message.id)
        claimed = await asyncio.to_thread(Deduplicator(self.store, ttl_s=DEFAULT_DEDUPE_TTL_S).claim, key)
        if not claimed:
            logger.info("WeChat delivery retried; not handled again")
            cached = await self._cached_reply(key, wait_s=min(self.reply_budget_s, 4.0))
            return self._reply(message, cached, nonce, encrypted) if cached else self._success()

        turn = await self._turn_for(message)
        if turn is None:
            return self._success()
        kind, text, metadata = turn
        if kind == "direct":
            answer = text or ""
        else:
            pending = self._spawn(self._run_bot(on_new_message, message, text or "", metadata))
            done, _ = await asyncio.wait({pending}, timeout=self.reply_budget_s)
            if pending not in done:
                logger.info("WeChat answer not ready within %.1f s; sending it later", self.reply_budget_s)
                await self._deliver_later(key, message.source, pending)
                return self._success()
            answer = pending.result()
        pieces = split_text(answer)
        if not pieces:
            return self._success()
        if len(pieces) > 1:
            # One passive reply cannot carry it; customer-service messages keep the order.
            await self._deliver_later(key, message.source, _ready(answer))
            return self._success()
        await self._store_call("put", f"wechat:reply:{key}", json.dumps({"text": pieces[0]}, ensure_ascii=False), REPLY_CACHE_TTL_S)
        return self._reply(message, pieces[0], nonce, encrypted)

    # -- routes ----------------------------------------------------------------

    def blueprint(self, on_new_message: OnNewMessage) -> Blueprint:
        wechat_webhook = Blueprint(f"wechat_webhook_{type(self).__name__}", __name__)

        @wechat_webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @wechat_webhook.route("/webhook", methods=["GET"], name="wechat_verify")
        async def verify(request: Request) -> HTTPResponse:
            if not self.token:
                return response.text("not configured", status=503)
            try:
                self._check_query(request)
            except BadRequest as refused:
                logger.warning("WeChat verification refused: %s", refused.reason)
                return response.text("forbidden" if refused.status == 403 else "bad request", status=refused.status)
            return response.text(request.args.get("echostr") or "")

        @wechat_webhook.route("/webhook", methods=["POST"], name="wechat_receive", stream=True)
        async def receive(request: Request) -> HTTPResponse:
            if request.stream is not None:
                request.stream.request_max_size = self.max_body_bytes
            if not self.token:
                return response.text("not configured", status=503)
            try:
                timestamp, nonce = self._check_query(request)
                body = await self._read_body(request)
                xml, encrypted = self._decode(request, body, timestamp, nonce)
                from wechatpy import parse_message

                try:
                    message = parse_message(xml)
                except Exception:  # noqa: BLE001 - TypeError, ExpatError, KeyError, ValueError ...
                    raise BadRequest(400, "message XML unreadable") from None
                if message is None or not message.source or not message.target:
                    raise BadRequest(400, "message without FromUserName or ToUserName")
            except BadRequest as refused:
                logger.warning("WeChat callback refused (%d): %s", refused.status, refused.reason)
                text = {403: "forbidden", 413: "payload too large"}.get(refused.status, "bad request")
                return response.text(text, status=refused.status)
            except SanicException as error:
                return response.text("bad request", status=getattr(error, "status_code", 400) or 400)
            return await self._handle_message(message, on_new_message, nonce, encrypted)

        return wechat_webhook


async def _ready(value: str) -> str:
    return value
