"""Web chat: a page served by the rasa server itself, and the JSON routes it calls.

Registered in the credentials file as ``channels.webchat.WebChatInput:``; the
routes live under ``/webhooks/webchat/``:

- ``GET  /``              the page (``index.html``; ``app.js`` and ``style.css`` beside it)
- ``POST /message``       ``{"session_id", "message", "display"?}`` -> the bot's answers,
                          ``[{"text", "buttons": [{"title", "payload"}]}]``
- ``GET  /history``       ``?session_id=`` -> the conversation kept in the tracker store
- ``GET  /notifications`` ``?session_id=`` -> status notifications for this browser,
                          proxied from the backend's
                          ``GET {XF_BACKEND_URL}/api/v1/notifications?channel=webchat&user=<id>``
                          (``[]`` when the backend has none or does not answer)

The session id is made in the browser (128 random bits, kept in localStorage)
and is the conversation's sender id, so the case's ``channel_user``.
Nothing here logs what the citizen typed.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

import aiohttp
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from rasa.core.channels.channel import CollectingOutputChannel, InputChannel, UserMessage

logger = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "webchat_static"
STATIC_FILES = {
    "index.html": "text/html; charset=utf-8",
    "app.js": "text/javascript; charset=utf-8",
    "style.css": "text/css; charset=utf-8",
}
#: what the browser makes: "wc-" + 32 hex digits; anything close to it is accepted
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
MAX_MESSAGE_CHARS = 2000
MAX_BODY_BYTES = 16 * 1024
BACKEND_TIMEOUT_S = 3.0
DEFAULT_BACKEND_URL = "http://127.0.0.1:8000"

#: sent with every response of this channel: the page loads nothing from elsewhere
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def _error(status: int, text: str) -> HTTPResponse:
    return response.json({"error": text}, status=status, headers=SECURITY_HEADERS)


def _json(body: Any) -> HTTPResponse:
    return response.json(body, headers=SECURITY_HEADERS)


def valid_session_id(value: Any) -> Optional[str]:
    """The session id if it has the shape the page makes, else None."""
    if isinstance(value, str) and SESSION_ID.match(value):
        return value
    return None


def bot_message(raw: Dict[Text, Any]) -> Optional[Dict[Text, Any]]:
    """One bot output as the page shows it: text and quick-reply buttons."""
    text = raw.get("text")
    buttons = [
        {"title": str(b.get("title", "")), "payload": str(b.get("payload", b.get("title", "")))}
        for b in (raw.get("buttons") or raw.get("quick_replies") or [])
        if isinstance(b, dict) and b.get("title")
    ]
    if not text and not buttons:
        return None
    return {"text": str(text or ""), "buttons": buttons}


def transcript(events: List[Dict[Text, Any]]) -> List[Dict[Text, Any]]:
    """The visible conversation in tracker events (``Event.as_dict()`` form).

    A citizen's click on a quick reply is stored with the button's title in
    ``metadata.display`` and shown as that title rather than its payload.
    """
    shown: List[Dict[Text, Any]] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            display = (event.get("metadata") or {}).get("display")
            text = display if isinstance(display, str) and display else event.get("text")
            if text:
                shown.append({"from": "user", "text": str(text)})
        elif kind == "bot":
            message = bot_message({"text": event.get("text"), **(event.get("data") or {})})
            if message:
                shown.append({"from": "bot", **message})
    return shown


def notifications_from(body: Any) -> List[Dict[Text, Any]]:
    """The backend's notifications reduced to what the page may show."""
    items = body.get("notifications", []) if isinstance(body, dict) else body
    if not isinstance(items, list):
        return []
    kept = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            continue
        kept.append(
            {
                "id": str(item.get("id") or item.get("created_at") or item["text"])[:128],
                "text": item["text"][:MAX_MESSAGE_CHARS],
                "case_id": str(item.get("case_id") or ""),
                "created_at": str(item.get("created_at") or ""),
            }
        )
    return kept


class WebChatInput(InputChannel):
    """The web chat page and its JSON routes (``channels.webchat.WebChatInput``)."""

    @classmethod
    def name(cls) -> Text:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "WebChatInput":
        credentials = credentials or {}
        return cls(
            backend_url=credentials.get("backend_url"),
            backend_token=credentials.get("backend_token"),
        )

    def __init__(
        self, backend_url: Optional[str] = None, backend_token: Optional[str] = None
    ) -> None:
        backend_url = backend_url or os.environ.get("XF_BACKEND_URL") or DEFAULT_BACKEND_URL
        self.backend_url = backend_url.rstrip("/")
        self.backend_token = backend_token or os.environ.get("XF_BOT_TOKEN")
        self.static = {name: (STATIC_DIR / name).read_bytes() for name in STATIC_FILES}

    def _static(self, name: str) -> HTTPResponse:
        return response.raw(
            self.static[name], content_type=STATIC_FILES[name], headers=SECURITY_HEADERS
        )

    async def _notifications(self, session_id: str) -> List[Dict[Text, Any]]:
        url = f"{self.backend_url}/api/v1/notifications"
        headers = {"Authorization": f"Bearer {self.backend_token}"} if self.backend_token else {}
        params = {"channel": "webchat", "user": session_id}
        try:
            timeout = aiohttp.ClientTimeout(total=BACKEND_TIMEOUT_S)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                async with session.get(url, params=params, headers=headers) as answer:
                    if answer.status == 404:
                        return []
                    if answer.status != 200:
                        logger.warning("backend notifications answered %s", answer.status)
                        return []
                    return notifications_from(await answer.json(content_type=None))
        except (aiohttp.ClientError, OSError, ValueError, asyncio.TimeoutError) as error:
            logger.warning("backend notifications unavailable: %s", type(error).__name__)
            return []

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        """Routes under ``/webhooks/webchat/``."""
        webchat = Blueprint("webchat_webhook", __name__)

        @webchat.route("/", methods=["GET"])
        async def page(request: Request) -> HTTPResponse:
            if not request.path.endswith("/"):
                # relative links to app.js and the JSON routes need the slash
                return response.redirect(request.path + "/")
            return self._static("index.html")

        @webchat.route("/app.js", methods=["GET"])
        async def script(request: Request) -> HTTPResponse:
            return self._static("app.js")

        @webchat.route("/style.css", methods=["GET"])
        async def style(request: Request) -> HTTPResponse:
            return self._static("style.css")

        @webchat.route("/message", methods=["POST"])
        async def message(request: Request) -> HTTPResponse:
            if len(request.body or b"") > MAX_BODY_BYTES:
                return _error(413, "消息太长")
            try:
                body = request.json
            except Exception:  # noqa: BLE001 - any unreadable body is the client's error
                body = None
            if not isinstance(body, dict):
                return _error(400, "请求格式不正确")
            session_id = valid_session_id(body.get("session_id"))
            text = body.get("message")
            if session_id is None:
                return _error(400, "会话编号不正确")
            if not isinstance(text, str) or not text.strip():
                return _error(400, "消息不能为空")
            if len(text) > MAX_MESSAGE_CHARS:
                return _error(413, "消息太长，请分几次发送")
            display = body.get("display")
            metadata = {"display": display[:200]} if isinstance(display, str) and display else None
            collector = CollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text.strip(),
                        collector,
                        session_id,
                        input_channel=self.name(),
                        metadata=metadata,
                    )
                )
            except Exception as error:  # noqa: BLE001 - the page gets a polite error, not a trace
                logger.error("webchat message not handled: %s", type(error).__name__)
                return _error(503, "系统暂时繁忙，请稍后再试")
            return _json([m for m in map(bot_message, collector.messages) if m])

        @webchat.route("/history", methods=["GET"])
        async def history(request: Request) -> HTTPResponse:
            session_id = valid_session_id(request.args.get("session_id"))
            if session_id is None:
                return _error(400, "会话编号不正确")
            agent = getattr(request.app.ctx, "agent", None)
            store = getattr(agent, "tracker_store", None)
            if store is None:
                return _json([])
            tracker = await store.retrieve(session_id)
            if tracker is None:
                return _json([])
            return _json(transcript([event.as_dict() for event in tracker.events]))

        @webchat.route("/notifications", methods=["GET"])
        async def notifications(request: Request) -> HTTPResponse:
            session_id = valid_session_id(request.args.get("session_id"))
            if session_id is None:
                return _error(400, "会话编号不正确")
            return _json(await self._notifications(session_id))

        return webchat
