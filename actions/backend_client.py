"""The backend's HTTP API as the action server sees it.

Like helpdesk-assistant's API client it never raises into a dialogue: every
call returns a :class:`BackendReply` whose ``error`` says what prevented it.
Only the standard library is used, so it works in the bot environment.
"""
from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from typing import Any, Optional

DEFAULT_BACKEND_URL = "http://127.0.0.1:8000"
TIMEOUT_S = 5.0


@dataclass(frozen=True)
class BackendReply:
    """Status code and JSON body of a call, or the error that prevented it."""

    status: int = 0
    body: dict[str, Any] = field(default_factory=dict)
    error: Optional[str] = None
    retry_after: Optional[str] = None

    @property
    def message(self) -> Optional[str]:
        """The backend's Chinese explanation of a refusal, if it gave one."""
        return self.body.get("message") if isinstance(self.body, dict) else None


def backend_url() -> str:
    """Where the backend API listens (``XF_BACKEND_URL``)."""
    return os.environ.get("XF_BACKEND_URL", DEFAULT_BACKEND_URL).rstrip("/")


def _call(method: str, path: str, *, payload: Optional[dict] = None, token: Optional[str] = None) -> BackendReply:
    headers = {"Accept": "application/json"}
    data = None
    if payload is not None:
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        headers["Content-Type"] = "application/json; charset=utf-8"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    request = urllib.request.Request(backend_url() + path, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return BackendReply(status=response.status, body=json.loads(response.read() or b"{}"))
    except urllib.error.HTTPError as error:
        try:
            body = json.loads(error.read() or b"{}")
        except ValueError:
            body = {}
        return BackendReply(status=error.code, body=body, retry_after=error.headers.get("Retry-After"))
    except (urllib.error.URLError, OSError, ValueError) as error:
        return BackendReply(error=type(error).__name__)


def get_progress(case_id: str, code: str) -> BackendReply:
    """The public progress view of a case, by case number and query code."""
    return _call("GET", "/api/v1/progress?" + urllib.parse.urlencode({"case_id": case_id, "code": code}))


def get_progress_by_channel_user(channel: str, user: str) -> BackendReply:
    """Progress views of every case filed from one WeChat identity (bot token)."""
    query = urllib.parse.urlencode({"channel": channel, "user": user})
    return _call("GET", f"/api/v1/progress/by-channel-user?{query}", token=os.environ.get("XF_BOT_TOKEN"))


def post_evaluation(case_id: str, code: str, rating: str, comment: str) -> BackendReply:
    """Records the citizen's satisfaction with an answered step."""
    payload = {"case_id": case_id, "code": code, "rating": rating, "comment": comment}
    return _call("POST", "/api/v1/progress/evaluation", payload=payload)


def post_review_request(case_id: str, code: str, kind: str, reason: str) -> BackendReply:
    """Asks for 复查 (``kind="review"``) or 复核 (``kind="recheck"``)."""
    payload = {"case_id": case_id, "code": code, "kind": kind, "reason": reason}
    return _call("POST", "/api/v1/progress/review-request", payload=payload)
