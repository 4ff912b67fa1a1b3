"""WeChat official account: a customer-service text message to the openid that filed the case.

The backend's own minimal client (the bot side has its own). The access token
comes from ``cgi-bin/stable_token`` without ``force_refresh``, which hands
every caller of one appid the same valid token and never invalidates the
bot's; it is cached until shortly before it expires.

WeChat only accepts customer-service messages within 48 hours of the user's
last message (errcode 45015): such a notification is failed permanently and
the citizen still finds the status through the progress query.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import aiohttp

from backend.notify.base import Result, Sender
from backend.store.outbox import OutgoingNotification

log = logging.getLogger("xinfang.notify.wechat")

DEFAULT_API_BASE = "https://api.weixin.qq.com"
#: WeChat refuses a text message longer than this many bytes
TEXT_LIMIT_BYTES = 2000
TIMEOUT_S = 10.0
#: errcodes meaning the access token is no longer good: fetch a new one and retry once
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
#: the recipient or the message can never be accepted
PERMANENT_ERRORS = (
    40003,  # invalid openid
    43004,  # the user does not follow the account
    45015,  # more than 48 hours since the user's last message
    45047,  # too many messages without a reply from the user
    48001,  # api unauthorized for this account
    "no openid",
    "not configured",
)
#: may go through later
TEMPORARY_ERRORS = (
    -1,  # system busy
    45009,  # api daily limit reached
    "timeout",
    "network",
    "http 5xx",
    "access token",
)


class WeChatSender(Sender):
    """Sends ``cgi-bin/message/custom/send`` text messages with aiohttp.

    :param appid: official account appid (``XF_WECHAT_APPID``)
    :param secret: its secret (``XF_WECHAT_SECRET``)
    :param api_base: API base URL (``XF_WECHAT_API_BASE``; tests point it at a fake)
    :param timeout_s: total timeout of each HTTP call
    """

    name = "wechat"

    def __init__(self, *, appid: str | None, secret: str | None, api_base: str | None = None,
                 timeout_s: float = TIMEOUT_S) -> None:
        self.appid, self.secret = appid or "", secret or ""
        self.api_base = (api_base or DEFAULT_API_BASE).rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._session: aiohttp.ClientSession | None = None
        self._token: tuple[str, float] | None = None
        self._lock = asyncio.Lock()

    async def send(self, notification: OutgoingNotification) -> Result:
        if not (self.appid and self.secret):
            return Result.permanent("not configured: XF_WECHAT_APPID / XF_WECHAT_SECRET")
        if not notification.channel_user:
            return Result.permanent("no openid")
        body = {"touser": notification.channel_user, "msgtype": "text",
                "text": {"content": truncate(notification.message)}}
        try:
            token = await self._access_token(refresh=False)
            answer = await self._post("cgi-bin/message/custom/send", body, params={"access_token": token})
            if int(answer.get("errcode") or 0) in TOKEN_ERRORS:
                token = await self._access_token(refresh=True)
                answer = await self._post("cgi-bin/message/custom/send", body, params={"access_token": token})
        except asyncio.TimeoutError:
            return Result.temporary("timeout calling WeChat")
        except aiohttp.ClientResponseError as exc:
            if exc.status >= 500 or exc.status == 429:
                return Result.temporary(f"http 5xx: {exc.status}")
            return Result.permanent(f"http {exc.status}")
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            return Result.temporary(f"network: {type(exc).__name__}")
        except WeChatTokenError as exc:
            return Result.temporary(f"access token: {exc}")
        return self._result(int(answer.get("errcode") or 0), answer)

    @staticmethod
    def _result(errcode: int, answer: dict[str, Any]) -> Result:
        if errcode == 0:
            return Result.ok()
        error = f"errcode {errcode}: {str(answer.get('errmsg', ''))[:200]}"
        if errcode in PERMANENT_ERRORS:
            return Result.permanent(error)
        return Result.temporary(error)

    async def _access_token(self, *, refresh: bool) -> str:
        async with self._lock:
            if self._token and not refresh and self._token[1] > time.monotonic():
                return self._token[0]
            answer = await self._post("cgi-bin/stable_token", {
                "grant_type": "client_credential", "appid": self.appid, "secret": self.secret,
                "force_refresh": False,
            })
            token = answer.get("access_token")
            if not token:
                raise WeChatTokenError(f"errcode {answer.get('errcode')}")
            expires_in = int(answer.get("expires_in") or 7200)
            self._token = (str(token), time.monotonic() + max(60, expires_in - 300))
            return self._token[0]

    async def _post(self, path: str, body: dict[str, Any], *, params: dict[str, str] | None = None) -> dict[str, Any]:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
        data = json.dumps(body, ensure_ascii=False).encode("utf-8")  # WeChat shows \\u escapes literally
        async with self._session.post(f"{self.api_base}/{path}", params=params, data=data,
                                      headers={"Content-Type": "application/json; charset=utf-8"}) as response:
            response.raise_for_status()
            answer = await response.json(content_type=None)
        if not isinstance(answer, dict):
            raise ValueError("unexpected answer")
        return answer

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()


class WeChatTokenError(RuntimeError):
    """No access token could be obtained."""


def truncate(text: str, limit_bytes: int = TEXT_LIMIT_BYTES) -> str:
    """*text* cut to WeChat's byte limit on a character boundary, with an ellipsis when cut."""
    if len(text.encode("utf-8")) <= limit_bytes:
        return text
    cut = text.encode("utf-8")[: limit_bytes - 3].decode("utf-8", errors="ignore")
    return cut + "…"
