"""The case queue interface shared by the embedded (SQLite) and Redis implementations.

Stdlib only, so that the producer on the Rasa action server can import it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from backend.queue.constants import (
    CLEAR_QUERY_CODE_KEY,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_PREFIX,
    DEFAULT_VISIBILITY_TIMEOUT_S,
    ENV_QUEUE_PREFIX,
    ENV_VAR_DIR,
)

__all__ = [
    "CaseQueue",
    "Delivery",
    "decode_case",
    "default_var_dir",
    "encode_case",
    "error_kind",
    "open_queue",
    "queue_prefix",
]

QUERY_CODE_IN_CLEAR = (
    "a case payload must not carry 'query_code' in clear; send its hash as 'query_code_hash'"
)
CASE_ID_MISSING = "a case payload needs a non-empty string 'case_id'"
#: Longest error text kept with a message or dead letter.
MAX_ERROR_CHARS = 4000
ABANDONED_ERROR = "delivered {n} times without acknowledgement (consumer died or hung)"
UNDECODABLE_ERROR = "payload is not a JSON object: {exc}"

_REPO_ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Delivery:
    """One case handed to a consumer.

    :param message_id: opaque id to pass back to ``ack`` / ``fail``
    :param case: the case payload (contract section 4 JSON)
    :param attempts: how many times this message was delivered before (0 on first)
    """

    message_id: str
    case: dict[str, Any]
    attempts: int


@runtime_checkable
class CaseQueue(Protocol):
    """At-least-once queue of cases; consumers are idempotent by ``case_id``."""

    async def publish(self, case: dict[str, Any]) -> str:
        """Append a case; returns its message id. Refuses a clear ``query_code``."""
        ...

    async def receive(
        self, *, consumer: str, count: int = 10, block_ms: int = 1000
    ) -> list[Delivery]:
        """New messages, plus messages whose consumer went quiet longer than the
        visibility timeout (reclaimed). Waits up to ``block_ms`` when there are none."""
        ...

    async def ack(self, delivery: Delivery) -> None:
        """Forget a message; call only after the database commit."""
        ...

    async def fail(self, delivery: Delivery, error: str) -> None:
        """Record a failed attempt. The message is delivered again after the visibility
        timeout; once it has been delivered ``max_attempts`` times it moves to the dead
        letters with ``error``."""
        ...

    async def dead_letters(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """Oldest first: ``{message_id, case_id, error, attempts, failed_at, case}``."""
        ...

    async def pending_count(self) -> int:
        """Messages not yet acknowledged (waiting or being worked on)."""
        ...

    async def ping(self) -> bool:
        """True when the queue can be reached (for ``/ready``)."""
        ...

    async def close(self) -> None:
        """Release connections."""
        ...


def encode_case(case: Mapping[str, Any]) -> tuple[str, str]:
    """Check a case payload and return ``(case_id, json_text)``.

    :raises ValueError: no ``case_id``, or ``query_code`` present in clear
    """
    if not isinstance(case, Mapping):
        raise TypeError(f"a case payload is a dict, got {type(case).__name__}")
    if CLEAR_QUERY_CODE_KEY in case:
        raise ValueError(QUERY_CODE_IN_CLEAR)
    case_id = case.get("case_id")
    if not isinstance(case_id, str) or not case_id:
        raise ValueError(CASE_ID_MISSING)
    return case_id, json.dumps(dict(case), ensure_ascii=False, separators=(",", ":"))


def error_kind(error: str) -> str:
    """What may be logged of an error text: its leading exception name, if any.

    Error texts can quote case data (names, phone numbers); they are stored with the
    message or dead letter, never logged in full.
    """
    head, sep, _rest = error.partition(":")
    head = head.strip()
    if sep and head and len(head) <= 80 and all(c.isalnum() or c in "._" for c in head):
        return head
    return "error"


def decode_case(payload: str | bytes) -> dict[str, Any]:
    """Parse a stored payload back into the case dict."""
    case = json.loads(payload)
    if not isinstance(case, dict):
        raise ValueError("stored case payload is not a JSON object")
    return case


def default_var_dir(environ: Mapping[str, str] | None = None) -> Path:
    """``$XF_VAR_DIR`` or ``<repo>/var``."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR_DIR, "").strip()
    return Path(value) if value else _REPO_ROOT / "var"


def queue_prefix(environ: Mapping[str, str] | None = None) -> str:
    """``$XF_QUEUE_PREFIX`` or ``xf``."""
    env = os.environ if environ is None else environ
    return env.get(ENV_QUEUE_PREFIX, "").strip() or DEFAULT_PREFIX


def open_queue(
    *,
    redis_url: str | None,
    sqlite_path: Path,
    visibility_timeout_s: float = DEFAULT_VISIBILITY_TIMEOUT_S,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    prefix: str | None = None,
) -> CaseQueue:
    """The Redis queue when ``redis_url`` is set, else the embedded SQLite queue.

    :param redis_url: ``redis://...``; ``None`` or empty selects the embedded queue
    :param sqlite_path: file of the embedded queue (normally ``<var>/queue.sqlite3``)
    :param visibility_timeout_s: a claimed message comes back after this long unacknowledged
    :param max_attempts: deliveries before a failing message moves to the dead letters
    :param prefix: name prefix (default ``$XF_QUEUE_PREFIX`` or ``xf``)
    """
    prefix = prefix or queue_prefix()
    if redis_url:
        from backend.queue.redis import RedisCaseQueue

        return RedisCaseQueue.from_url(
            redis_url,
            visibility_timeout_s=visibility_timeout_s,
            max_attempts=max_attempts,
            prefix=prefix,
        )
    from backend.queue.embedded import EmbeddedCaseQueue

    return EmbeddedCaseQueue(
        sqlite_path,
        visibility_timeout_s=visibility_timeout_s,
        max_attempts=max_attempts,
        prefix=prefix,
    )
