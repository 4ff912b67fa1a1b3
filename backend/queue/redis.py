"""The case queue on a Redis Stream with one consumer group (redis-py 5+, asyncio).

Publish is ``XADD``; workers read with ``XREADGROUP``; a message is acknowledged with
``XACK`` + ``XDEL`` after the database commit; ``XAUTOCLAIM`` takes over messages whose
consumer has been quiet longer than the visibility timeout. Delivery counts come from
``XPENDING``; errors of messages being retried sit in a hash; buried messages go to a
dead-letter stream together with their error.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timezone
from typing import Any

from redis.asyncio import Redis
from redis.exceptions import RedisError, ResponseError

from backend.queue.base import (
    ABANDONED_ERROR,
    MAX_ERROR_CHARS,
    UNDECODABLE_ERROR,
    Delivery,
    decode_case,
    encode_case,
    error_kind,
)
from backend.queue.constants import (
    CASE_FIELD,
    CASE_ID_FIELD,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_PREFIX,
    DEFAULT_VISIBILITY_TIMEOUT_S,
    QueueNames,
)

__all__ = ["RedisCaseQueue"]

logger = logging.getLogger("backend.queue.redis")

_CURSOR_START = "0-0"


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class RedisCaseQueue:
    """Case queue on a Redis Stream (see module docstring).

    :param client: a ``redis.asyncio.Redis`` with ``decode_responses=True``
    :param visibility_timeout_s: min idle time before ``XAUTOCLAIM`` takes a message over;
        also the pause before a failed message is retried
    :param max_attempts: deliveries before a failing message moves to the dead letters
    :param prefix: prefix of the stream, group and key names
    """

    def __init__(
        self,
        client: Redis,
        *,
        visibility_timeout_s: float = DEFAULT_VISIBILITY_TIMEOUT_S,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        prefix: str = DEFAULT_PREFIX,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.client = client
        self.visibility_timeout_s = visibility_timeout_s
        self.max_attempts = max_attempts
        self.names = QueueNames.for_prefix(prefix)
        self._group_ready = False
        self._claim_cursor = _CURSOR_START

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        visibility_timeout_s: float = DEFAULT_VISIBILITY_TIMEOUT_S,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        prefix: str = DEFAULT_PREFIX,
    ) -> RedisCaseQueue:
        """Queue on the Redis at ``url`` (connections are made on first use)."""
        client = Redis.from_url(
            url, decode_responses=True, socket_connect_timeout=5, health_check_interval=30
        )
        return cls(
            client,
            visibility_timeout_s=visibility_timeout_s,
            max_attempts=max_attempts,
            prefix=prefix,
        )

    def __repr__(self) -> str:
        return (
            f"RedisCaseQueue(stream={self.names.stream!r}, group={self.names.group!r}, "
            f"visibility_timeout_s={self.visibility_timeout_s}, max_attempts={self.max_attempts})"
        )

    @property
    def _min_idle_ms(self) -> int:
        return max(1, int(self.visibility_timeout_s * 1000))

    async def _ensure_group(self) -> None:
        if self._group_ready:
            return
        try:
            await self.client.xgroup_create(
                self.names.stream, self.names.group, id="0", mkstream=True
            )
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def _bury(
        self, *, message_id: str, case_id: str, payload: str, error: str, attempts: int
    ) -> None:
        """Add the message to the dead-letter stream and drop it from the case stream."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xadd(
                self.names.dead_letters,
                {
                    "message_id": message_id,
                    CASE_ID_FIELD: case_id,
                    "error": error,
                    "attempts": str(attempts),
                    "failed_at": _now_iso(),
                    CASE_FIELD: payload,
                },
            )
            pipe.xack(self.names.stream, self.names.group, message_id)
            pipe.xdel(self.names.stream, message_id)
            pipe.hdel(self.names.errors, message_id)
            await pipe.execute()
        logger.warning(
            "case %s moved to dead letters after %d deliveries (%s)",
            case_id,
            attempts,
            error_kind(error),
        )

    async def _times_delivered(self, message_ids: list[str]) -> dict[str, int]:
        if not message_ids:
            return {}
        async with self.client.pipeline(transaction=False) as pipe:
            for message_id in message_ids:
                pipe.xpending_range(
                    self.names.stream, self.names.group, min=message_id, max=message_id, count=1
                )
            replies = await pipe.execute()
        counts: dict[str, int] = {}
        for message_id, reply in zip(message_ids, replies, strict=True):
            if reply:
                counts[message_id] = int(reply[0]["times_delivered"])
        return counts

    # -- CaseQueue --------------------------------------------------------------------

    async def publish(self, case: dict[str, Any]) -> str:
        """``XADD`` a case; returns the stream entry id."""
        case_id, payload = encode_case(case)
        message_id = await self.client.xadd(
            self.names.stream, {CASE_ID_FIELD: case_id, CASE_FIELD: payload}
        )
        return str(message_id)

    async def receive(
        self, *, consumer: str, count: int = 10, block_ms: int = 1000
    ) -> list[Delivery]:
        """Reclaimed messages first, then new ones; blocks up to ``block_ms`` only when
        nothing was reclaimed (``block_ms <= 0`` never blocks)."""
        try:
            return await self._receive(consumer=consumer, count=count, block_ms=block_ms)
        except ResponseError as exc:
            if "NOGROUP" not in str(exc):
                raise
            # The stream was deleted under us (e.g. FLUSHDB): recreate and read again.
            self._group_ready = False
            return await self._receive(consumer=consumer, count=count, block_ms=block_ms)

    async def _receive(self, *, consumer: str, count: int, block_ms: int) -> list[Delivery]:
        await self._ensure_group()
        deliveries = await self._reclaim(consumer, count)
        remaining = count - len(deliveries)
        if remaining <= 0:
            return deliveries
        block = None if deliveries or block_ms <= 0 else block_ms
        reply = await self.client.xreadgroup(
            self.names.group, consumer, {self.names.stream: ">"}, count=remaining, block=block
        )
        for message_id, fields in _stream_entries(reply):
            delivery = await self._to_delivery(message_id, fields, delivered=1)
            if delivery is not None:
                deliveries.append(delivery)
        return deliveries

    async def _reclaim(self, consumer: str, count: int) -> list[Delivery]:
        reply = await self.client.xautoclaim(
            self.names.stream,
            self.names.group,
            consumer,
            min_idle_time=self._min_idle_ms,
            start_id=self._claim_cursor,
            count=count,
        )
        self._claim_cursor = str(reply[0]) if reply and reply[0] else _CURSOR_START
        entries = [(_text(message_id), raw) for message_id, raw in (reply[1] if reply else [])]
        if not entries:
            return []
        counts = await self._times_delivered([message_id for message_id, _ in entries])
        deliveries: list[Delivery] = []
        for message_id, raw in entries:
            if not raw:  # entry deleted while pending (Redis < 7 reports it this way)
                await self.client.xack(self.names.stream, self.names.group, message_id)
                continue
            fields = _fields(raw)
            delivered = counts.get(message_id)
            if delivered is None:  # acknowledged between XAUTOCLAIM and XPENDING
                continue
            if delivered > self.max_attempts:
                error = _text(await self.client.hget(self.names.errors, message_id))
                await self._bury(
                    message_id=message_id,
                    case_id=fields.get(CASE_ID_FIELD, ""),
                    payload=fields.get(CASE_FIELD, ""),
                    error=error or ABANDONED_ERROR.format(n=delivered - 1),
                    attempts=delivered - 1,
                )
                continue
            delivery = await self._to_delivery(message_id, fields, delivered=delivered)
            if delivery is not None:
                deliveries.append(delivery)
        return deliveries

    async def _to_delivery(
        self, message_id: str, fields: dict[str, str], *, delivered: int
    ) -> Delivery | None:
        payload = fields.get(CASE_FIELD, "")
        try:
            case = decode_case(payload)
        except ValueError as exc:
            await self._bury(
                message_id=message_id,
                case_id=fields.get(CASE_ID_FIELD, ""),
                payload=payload,
                error=UNDECODABLE_ERROR.format(exc=exc),
                attempts=delivered,
            )
            return None
        return Delivery(message_id=message_id, case=case, attempts=delivered - 1)

    async def ack(self, delivery: Delivery) -> None:
        """``XACK`` + ``XDEL``; call only after the database commit."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.xack(self.names.stream, self.names.group, delivery.message_id)
            pipe.xdel(self.names.stream, delivery.message_id)
            pipe.hdel(self.names.errors, delivery.message_id)
            await pipe.execute()

    async def fail(self, delivery: Delivery, error: str) -> None:
        """Record ``error``; bury the message once it was delivered ``max_attempts`` times."""
        error = (error or "unknown error")[:MAX_ERROR_CHARS]
        delivered = (await self._times_delivered([delivery.message_id])).get(delivery.message_id)
        case_id = str(delivery.case.get(CASE_ID_FIELD, ""))
        if delivered is None:
            logger.info("message %s already acknowledged or buried", delivery.message_id)
            return
        if delivered >= self.max_attempts:
            entries = await self.client.xrange(
                self.names.stream, min=delivery.message_id, max=delivery.message_id, count=1
            )
            payload = _fields(entries[0][1]).get(CASE_FIELD) if entries else None
            if payload is None:
                payload = encode_case(delivery.case)[1]
            await self._bury(
                message_id=delivery.message_id,
                case_id=case_id,
                payload=payload,
                error=error,
                attempts=delivered,
            )
            return
        await self.client.hset(self.names.errors, delivery.message_id, error)
        logger.info(
            "case %s failed (%s, delivery %d of %d), retried after %.1fs",
            case_id,
            error_kind(error),
            delivered,
            self.max_attempts,
            self.visibility_timeout_s,
        )

    async def dead_letters(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """Buried messages, oldest first."""
        entries = await self.client.xrange(self.names.dead_letters, count=limit)
        letters: list[dict[str, Any]] = []
        for _entry_id, raw in entries or []:
            fields = _fields(raw)
            payload = fields.get(CASE_FIELD, "")
            try:
                case: Any = decode_case(payload)
            except ValueError:
                case = payload
            letters.append(
                {
                    "message_id": fields.get("message_id", ""),
                    "case_id": fields.get(CASE_ID_FIELD, ""),
                    "error": fields.get("error", ""),
                    "attempts": int(fields.get("attempts", 0)),
                    "failed_at": fields.get("failed_at", ""),
                    "case": case,
                }
            )
        return letters

    async def pending_count(self) -> int:
        """Messages not yet acknowledged (acknowledged ones are deleted from the stream)."""
        return int(await self.client.xlen(self.names.stream))

    async def ping(self) -> bool:
        """True when Redis answers within two seconds."""
        try:
            return bool(await asyncio.wait_for(self.client.ping(), timeout=2))
        except (RedisError, OSError, asyncio.TimeoutError):
            return False

    async def close(self) -> None:
        """Close the connection pool."""
        await self.client.aclose()


def _text(value: Any) -> str:
    """A reply value as text (``None`` -> ``""``)."""
    if value is None:
        return ""
    return value.decode() if isinstance(value, bytes) else str(value)


def _fields(raw: Any) -> dict[str, str]:
    """A stream entry's fields as ``str -> str`` (``None`` for a deleted entry -> ``{}``)."""
    return {_text(k): _text(v) for k, v in (raw or {}).items()}


def _stream_entries(reply: Any) -> list[tuple[str, dict[str, str]]]:
    """Entries of a one-stream ``XREADGROUP`` reply, RESP2 (list) or RESP3 (dict)."""
    if not reply:
        return []
    if isinstance(reply, dict):
        return [entry for entries in reply.values() for entry in _flatten(entries)]
    return [entry for _stream, entries in reply for entry in _flatten(entries)]


def _flatten(entries: Any) -> list[tuple[str, dict[str, str]]]:
    # RESP3 wraps the entries of each stream in one more list.
    if entries and isinstance(entries[0], list):
        entries = entries[0]
    return [(_text(message_id), _fields(fields)) for message_id, fields in entries]
