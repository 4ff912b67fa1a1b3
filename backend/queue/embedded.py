"""The embedded case queue: one SQLite file, shared by producers and worker processes.

Claims are a single ``UPDATE ... RETURNING`` inside ``BEGIN IMMEDIATE``, so several
worker processes on one file never hold the same message at once. A claim expires
after the visibility timeout, which brings back the messages of a killed worker.
Stdlib only (the producer on the action server writes to the same file).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

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
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_PREFIX,
    DEFAULT_VISIBILITY_TIMEOUT_S,
    QUEUE_SCHEMA,
    SQLITE_BUSY_TIMEOUT_MS,
)

__all__ = ["EmbeddedCaseQueue", "connect_sqlite", "enqueue_message"]

logger = logging.getLogger("backend.queue.embedded")

T = TypeVar("T")


def connect_sqlite(path: Path, *, schema: str) -> sqlite3.Connection:
    """Open ``path`` in WAL mode with a busy timeout and create ``schema`` if missing.

    The connection is in autocommit mode; callers open ``BEGIN IMMEDIATE`` themselves.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(
        str(path),
        timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
        isolation_level=None,
        check_same_thread=False,
    )
    conn.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    # A case given a number must survive a power cut too: fsync every commit.
    conn.execute("PRAGMA synchronous = FULL")
    conn.executescript(schema)
    return conn


def enqueue_message(conn: sqlite3.Connection, *, queue: str, case_id: str, payload: str) -> str:
    """Append one encoded case to the embedded queue table; returns its message id."""
    cur = conn.execute(
        "INSERT INTO queue_messages (queue, case_id, payload, enqueued_at) VALUES (?, ?, ?, ?)",
        (queue, case_id, payload, time.time()),
    )
    return str(cur.lastrowid)


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds")


class EmbeddedCaseQueue:
    """Durable case queue in a SQLite file (see module docstring).

    :param path: the SQLite file (normally ``<var>/queue.sqlite3``)
    :param visibility_timeout_s: a claimed, unacknowledged message is handed out again
        after this long; also the pause before a failed message is retried
    :param max_attempts: deliveries before a failing message moves to the dead letters
    :param prefix: queue name inside the file (several queues may share one file)
    :param poll_interval_s: longest pause between looks at the table while blocking
    """

    def __init__(
        self,
        path: Path,
        *,
        visibility_timeout_s: float = DEFAULT_VISIBILITY_TIMEOUT_S,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        prefix: str = DEFAULT_PREFIX,
        poll_interval_s: float = 0.2,
    ) -> None:
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        self.path = Path(path)
        self.visibility_timeout_s = visibility_timeout_s
        self.max_attempts = max_attempts
        self.prefix = prefix
        self.poll_interval_s = poll_interval_s
        self._conn: sqlite3.Connection | None = connect_sqlite(self.path, schema=QUEUE_SCHEMA)
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"EmbeddedCaseQueue(path={str(self.path)!r}, prefix={self.prefix!r}, "
            f"visibility_timeout_s={self.visibility_timeout_s}, max_attempts={self.max_attempts})"
        )

    # -- plumbing ---------------------------------------------------------------------

    async def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.to_thread(self._locked, fn)

    def _locked(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._lock:
            if self._conn is None:
                raise RuntimeError(f"{self!r} is closed")
            return fn(self._conn)

    @staticmethod
    def _transaction(conn: sqlite3.Connection, fn: Callable[[], T]) -> T:
        conn.execute("BEGIN IMMEDIATE")
        try:
            result = fn()
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        return result

    def _bury(
        self,
        conn: sqlite3.Connection,
        *,
        message_id: int,
        case_id: str,
        payload: str,
        error: str,
        attempts: int,
    ) -> None:
        """Move one message to the dead letters (inside the caller's transaction)."""
        conn.execute(
            "INSERT INTO queue_dead_letters"
            " (queue, message_id, case_id, payload, error, attempts, failed_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (self.prefix, str(message_id), case_id, payload, error, attempts, _now_iso()),
        )
        conn.execute("DELETE FROM queue_messages WHERE id = ?", (message_id,))
        logger.warning(
            "case %s moved to dead letters after %d deliveries (%s)",
            case_id,
            attempts,
            error_kind(error),
        )

    # -- CaseQueue --------------------------------------------------------------------

    async def publish(self, case: dict[str, Any]) -> str:
        """Append a case; returns its message id."""
        case_id, payload = encode_case(case)
        return await self._run(
            lambda conn: enqueue_message(conn, queue=self.prefix, case_id=case_id, payload=payload)
        )

    async def receive(
        self, *, consumer: str, count: int = 10, block_ms: int = 1000
    ) -> list[Delivery]:
        """Claim up to ``count`` messages (new or expired claims), waiting up to ``block_ms``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max(block_ms, 0) / 1000
        pause = min(0.02, self.poll_interval_s)
        while True:
            got = await self._run(lambda conn: self._claim(conn, consumer, count))
            remaining = deadline - loop.time()
            if got or remaining <= 0:
                return got
            await asyncio.sleep(min(pause, remaining))
            pause = min(pause * 2, self.poll_interval_s)

    def _claim(self, conn: sqlite3.Connection, consumer: str, count: int) -> list[Delivery]:
        now = time.time()

        def claim() -> list[Delivery]:
            rows = conn.execute(
                "UPDATE queue_messages"
                " SET claimed_at = :now, consumer = :consumer, deliveries = deliveries + 1"
                " WHERE id IN ("
                "   SELECT id FROM queue_messages"
                "   WHERE queue = :queue AND (claimed_at IS NULL OR claimed_at < :expired)"
                "   ORDER BY id LIMIT :count)"
                " RETURNING id, case_id, payload, deliveries, last_error",
                {
                    "now": now,
                    "consumer": consumer,
                    "queue": self.prefix,
                    "expired": now - self.visibility_timeout_s,
                    "count": count,
                },
            ).fetchall()
            out: list[Delivery] = []
            for message_id, case_id, payload, deliveries, last_error in sorted(rows):
                if deliveries > self.max_attempts:
                    error = last_error or ABANDONED_ERROR.format(n=deliveries - 1)
                    self._bury(
                        conn,
                        message_id=message_id,
                        case_id=case_id,
                        payload=payload,
                        error=error,
                        attempts=deliveries - 1,
                    )
                    continue
                try:
                    case = decode_case(payload)
                except ValueError as exc:  # json.JSONDecodeError is a ValueError
                    self._bury(
                        conn,
                        message_id=message_id,
                        case_id=case_id,
                        payload=payload,
                        error=UNDECODABLE_ERROR.format(exc=exc),
                        attempts=deliveries,
                    )
                    continue
                out.append(Delivery(message_id=str(message_id), case=case, attempts=deliveries - 1))
            return out

        return self._transaction(conn, claim)

    async def ack(self, delivery: Delivery) -> None:
        """Delete the message; call only after the database commit."""
        message_id = int(delivery.message_id)
        await self._run(
            lambda conn: conn.execute(
                "DELETE FROM queue_messages WHERE id = ? AND queue = ?", (message_id, self.prefix)
            )
        )

    async def fail(self, delivery: Delivery, error: str) -> None:
        """Record ``error``; bury the message once it was delivered ``max_attempts`` times."""
        message_id = int(delivery.message_id)
        error = (error or "unknown error")[:MAX_ERROR_CHARS]

        def fail(conn: sqlite3.Connection) -> None:
            def record() -> None:
                row = conn.execute(
                    "SELECT case_id, payload, deliveries FROM queue_messages"
                    " WHERE id = ? AND queue = ?",
                    (message_id, self.prefix),
                ).fetchone()
                if row is None:
                    logger.info("message %s already acknowledged or buried", message_id)
                    return
                case_id, payload, deliveries = row
                if deliveries >= self.max_attempts:
                    self._bury(
                        conn,
                        message_id=message_id,
                        case_id=case_id,
                        payload=payload,
                        error=error,
                        attempts=deliveries,
                    )
                else:
                    conn.execute(
                        "UPDATE queue_messages SET last_error = ? WHERE id = ?",
                        (error, message_id),
                    )
                    logger.info(
                        "case %s failed (%s, delivery %d of %d), retried after %.1fs",
                        case_id,
                        error_kind(error),
                        deliveries,
                        self.max_attempts,
                        self.visibility_timeout_s,
                    )

            self._transaction(conn, record)

        await self._run(fail)

    async def dead_letters(self, *, limit: int = 100) -> list[dict[str, Any]]:
        """Buried messages, oldest first."""

        def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            rows = conn.execute(
                "SELECT message_id, case_id, error, attempts, failed_at, payload"
                " FROM queue_dead_letters WHERE queue = ? ORDER BY id LIMIT ?",
                (self.prefix, limit),
            ).fetchall()
            return [
                {
                    "message_id": message_id,
                    "case_id": case_id,
                    "error": error,
                    "attempts": attempts,
                    "failed_at": failed_at,
                    "case": _decode_or_raw(payload),
                }
                for message_id, case_id, error, attempts, failed_at, payload in rows
            ]

        return await self._run(read)

    async def pending_count(self) -> int:
        """Messages not yet acknowledged (waiting or claimed)."""
        return await self._run(
            lambda conn: int(
                conn.execute(
                    "SELECT COUNT(*) FROM queue_messages WHERE queue = ?", (self.prefix,)
                ).fetchone()[0]
            )
        )

    async def ping(self) -> bool:
        """True when the file can be read."""
        try:
            await self._run(lambda conn: conn.execute("SELECT 1").fetchone())
        except (sqlite3.Error, RuntimeError):
            return False
        return True

    async def close(self) -> None:
        """Close the connection (idempotent)."""

        def close() -> None:
            with self._lock:
                if self._conn is not None:
                    self._conn.close()
                    self._conn = None

        await asyncio.to_thread(close)


def _decode_or_raw(payload: str) -> Any:
    try:
        return decode_case(payload)
    except ValueError:
        return payload
