"""A small asynchronous client for the WeChat official-account API (aiohttp).

wechatpy's client is synchronous and retries token errors without limit, so
the few calls the channel needs are made here:

* the access token is cached in the shared store (Redis with ``XF_REDIS_URL``,
  else SQLite under var/), refreshed by one process at a time under a lock;
* a call answered with 40001/40014/42001 (token invalid or expired) refreshes
  the token and is retried a bounded number of times;
* every HTTP call has a timeout.

The base URL comes from ``XF_WECHAT_API_BASE`` (tests point it at a fake).
Neither tokens nor message text are logged.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from typing import Any, Optional

import aiohttp

from channels.dedupe import SharedStore, shared_store

logger = logging.getLogger(__name__)

DEFAULT_API_BASE = "https://api.weixin.qq.com"
#: errcodes meaning "this access token is no good": refresh and retry
TOKEN_ERRORS = frozenset({40001, 40014, 42001})
#: one WeChat text message, in UTF-8 bytes. WeChat cuts text near 2048 bytes;
#: 1800 bytes is 600 Chinese characters and leaves room for the XML envelope.
TEXT_LIMIT_BYTES = 1800


class WeChatAPIError(Exception):
    """The WeChat API (or the way to it) failed; ``errcode`` is None for HTTP/network errors."""

    def __init__(self, errcode: Optional[int], errmsg: str) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg


def split_text(text: str, limit_bytes: int = TEXT_LIMIT_BYTES) -> list[str]:
    """``text`` in pieces of at most ``limit_bytes`` UTF-8 bytes, cut at
    paragraph or line breaks where possible, else between characters."""
    text = text.strip()
    if not text:
        return []
    pieces: list[str] = []
    current = ""
    for line in text.split("\n"):
        candidate = f"{current}\n{line}" if current else line
        if len(candidate.encode("utf-8")) <= limit_bytes:
            current = candidate
            continue
        if current:
            pieces.append(current)
            current = ""
        while len(line.encode("utf-8")) > limit_bytes:
            cut, size = 0, 0
            for index, char in enumerate(line):
                size += len(char.encode("utf-8"))
                if size > limit_bytes:
                    cut = index
                    break
            pieces.append(line[:cut])
            line = line[cut:]
        current = line
    if current.strip():
        pieces.append(current)
    return [piece.strip("\n") for piece in pieces if piece.strip()]


class WeChatAPI:
    """Access token handling plus the calls the channel needs."""

    def __init__(
        self,
        appid: str,
        secret: str,
        *,
        base_url: Optional[str] = None,
        store: Optional[SharedStore] = None,
        timeout_s: float = 5.0,
        max_token_retries: int = 2,
        lock_wait_s: float = 15.0,
    ) -> None:
        self.appid = appid
        self.secret = secret
        self.base_url = (base_url or os.environ.get("XF_WECHAT_API_BASE") or DEFAULT_API_BASE).rstrip("/")
        self._store = store
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)
        self.max_token_retries = max_token_retries
        self.lock_wait_s = lock_wait_s
        self._session: Optional[aiohttp.ClientSession] = None
        self._session_loop: Optional[asyncio.AbstractEventLoop] = None

    @classmethod
    def from_env(cls, **kwargs: Any) -> "WeChatAPI":
        """A client configured from ``XF_WECHAT_APPID`` / ``XF_WECHAT_SECRET``."""
        appid = os.environ.get("XF_WECHAT_APPID", "").strip()
        secret = os.environ.get("XF_WECHAT_SECRET", "").strip()
        if not appid or not secret:
            raise WeChatAPIError(None, "XF_WECHAT_APPID and XF_WECHAT_SECRET must be set")
        return cls(appid, secret, **kwargs)

    @property
    def store(self) -> SharedStore:
        if self._store is None:
            self._store = shared_store()
        return self._store

    @property
    def _token_key(self) -> str:
        return f"wechat:token:{self.appid}"

    @property
    def _lock_key(self) -> str:
        return f"wechat:token-lock:{self.appid}"

    # -- HTTP ---------------------------------------------------------------

    def _http(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(timeout=self.timeout)
            self._session_loop = loop
        return self._session

    async def close(self) -> None:
        """Closes the HTTP session (call before the event loop ends)."""
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def _request(
        self, method: str, path: str, *, params: dict, body: Optional[dict] = None
    ) -> dict:
        url = f"{self.base_url}/{path.lstrip('/')}"
        data = None
        headers = {}
        if body is not None:
            # WeChat shows \\u escapes literally: send real UTF-8.
            data = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json; charset=utf-8"
        try:
            async with self._http().request(method, url, params=params, data=data, headers=headers) as response:
                if response.status >= 400:
                    raise WeChatAPIError(None, f"HTTP {response.status} from {path}")
                payload = await response.json(content_type=None)
        except asyncio.TimeoutError as error:
            raise WeChatAPIError(None, f"timeout calling {path}") from error
        except aiohttp.ClientError as error:
            raise WeChatAPIError(None, f"{type(error).__name__} calling {path}") from error
        except ValueError as error:
            raise WeChatAPIError(None, f"invalid JSON from {path}") from error
        if not isinstance(payload, dict):
            raise WeChatAPIError(None, f"unexpected answer from {path}")
        return payload

    # -- access token -------------------------------------------------------

    async def _fetch_token(self) -> tuple[str, int]:
        payload = await self._request(
            "GET", "cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
        )
        if payload.get("errcode"):
            raise WeChatAPIError(payload["errcode"], str(payload.get("errmsg", "")))
        token = payload.get("access_token")
        if not token:
            raise WeChatAPIError(None, "no access_token in the answer")
        return str(token), int(payload.get("expires_in") or 7200)

    async def access_token(self, *, stale: Optional[str] = None) -> str:
        """A valid access token; ``stale`` is one WeChat just refused.

        Only the process holding the refresh lock asks WeChat for a new token
        (each fetch invalidates the previous token after a few minutes); the
        others wait for it to appear in the store.
        """
        cached = await asyncio.to_thread(self.store.get, self._token_key)
        if cached and cached != stale:
            return cached
        owner = uuid.uuid4().hex
        deadline = time.monotonic() + self.lock_wait_s
        while True:
            if await asyncio.to_thread(self.store.claim, self._lock_key, self.lock_wait_s, owner):
                try:
                    cached = await asyncio.to_thread(self.store.get, self._token_key)
                    if cached and cached != stale:
                        return cached
                    token, expires_in = await self._fetch_token()
                    # Refresh well before WeChat's expiry (7200 s).
                    ttl = max(60, expires_in - 300)
                    await asyncio.to_thread(self.store.put, self._token_key, token, ttl)
                    logger.info("WeChat access token refreshed for %s (valid %d s)", self.appid, ttl)
                    return token
                finally:
                    await asyncio.to_thread(self.store.delete, self._lock_key, owner)
            await asyncio.sleep(0.1)
            cached = await asyncio.to_thread(self.store.get, self._token_key)
            if cached and cached != stale:
                return cached
            if time.monotonic() > deadline:
                raise WeChatAPIError(None, "timed out waiting for another process to refresh the token")

    # -- calls --------------------------------------------------------------

    async def call(self, method: str, path: str, *, body: Optional[dict] = None, params: Optional[dict] = None) -> dict:
        """Calls an API endpoint with the access token; bounded retries on token errors."""
        stale: Optional[str] = None
        for attempt in range(self.max_token_retries + 1):
            token = await self.access_token(stale=stale)
            payload = await self._request(method, path, params={**(params or {}), "access_token": token}, body=body)
            errcode = payload.get("errcode") or 0
            if errcode in TOKEN_ERRORS and attempt < self.max_token_retries:
                logger.warning("WeChat refused the access token (%s); refreshing", errcode)
                stale = token
                continue
            if errcode:
                raise WeChatAPIError(errcode, str(payload.get("errmsg", "")))
            return payload
        raise AssertionError("unreachable")  # pragma: no cover

    async def send_text(self, openid: str, text: str) -> int:
        """Sends ``text`` as customer-service message(s) (``cgi-bin/message/custom/send``),
        split at WeChat's length limit; returns how many messages were sent."""
        pieces = split_text(text)
        for piece in pieces:
            await self.call(
                "POST", "cgi-bin/message/custom/send",
                body={"touser": openid, "msgtype": "text", "text": {"content": piece}},
            )
        return len(pieces)

    async def create_menu(self, menu: dict) -> dict:
        """Creates the custom menu (``cgi-bin/menu/create``)."""
        return await self.call("POST", "cgi-bin/menu/create", body=menu)
