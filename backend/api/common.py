"""What the API modules share: application keys, JSON responses, the failure limiter, texts."""

from __future__ import annotations

import json
import time
from collections import defaultdict, deque
from functools import partial

from aiohttp import web

from backend.queue.base import CaseQueue
from backend.settings import Settings

#: JSON with Chinese text as is
json_response = partial(web.json_response, dumps=partial(json.dumps, ensure_ascii=False))

SETTINGS_KEY = web.AppKey("settings", Settings)
QUEUE_KEY = web.AppKey("queue", CaseQueue)

NOT_FOUND = {"error": "not_found", "message": "未找到该信访事项。"}
PROGRESS_NOT_FOUND = {
    "error": "not_found",
    "message": "未查询到匹配的信访事项，请核对信访件编号和查询码。",
}
PROGRESS_BAD_REQUEST = {"error": "bad_request", "message": "请提供信访件编号和查询码。"}
TOO_MANY_ATTEMPTS = {"error": "too_many_attempts", "message": "查询失败次数过多，请稍后再试。"}


class FailureLimiter:
    """Counts failures per key in a sliding window (in memory, per process)."""

    def __init__(self, *, window_s: float) -> None:
        self.window_s = window_s
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def count(self, key: str, now: float | None = None) -> int:
        """Failures of *key* within the window."""
        now = time.monotonic() if now is None else now
        q = self._failures.get(key)
        if not q:
            return 0
        while q and q[0] <= now - self.window_s:
            q.popleft()
        if not q:
            del self._failures[key]
            return 0
        return len(q)

    def add(self, key: str, now: float | None = None) -> None:
        """Record one failure of *key*."""
        self._failures[key].append(time.monotonic() if now is None else now)


LIMITER_KEY = web.AppKey("limiter", FailureLimiter)
