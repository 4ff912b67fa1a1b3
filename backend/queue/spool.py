"""The producer's local spool: cases accepted while the queue could not be reached.

A SQLite file (``<var>/spool.sqlite3``). Draining holds the file's write lock for one
case at a time and deletes the row only after the send succeeded, so two processes
draining the same spool never send a case twice; a crash between send and delete can
resend one case, which consumers absorb by ``case_id``. Stdlib only.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path

from backend.queue.constants import SPOOL_SCHEMA
from backend.queue.embedded import connect_sqlite

__all__ = ["CaseSpool"]

logger = logging.getLogger("backend.queue.spool")

#: ``send(case_id, payload)``: deliver one encoded case or raise.
Send = Callable[[str, str], object]


class CaseSpool:
    """Durable FIFO of encoded cases for one queue prefix.

    :param path: the spool file (created on first ``add``)
    :param queue: the queue prefix the spooled cases belong to
    """

    def __init__(self, path: Path, *, queue: str) -> None:
        self.path = Path(path)
        self.queue = queue
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"CaseSpool(path={str(self.path)!r}, queue={self.queue!r})"

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = connect_sqlite(self.path, schema=SPOOL_SCHEMA)
        return self._conn

    def add(self, *, case_id: str, payload: str, error: str = "") -> None:
        """Keep one encoded case until it can be sent."""
        with self._lock:
            self._connection().execute(
                "INSERT INTO spooled_cases (queue, case_id, payload, spooled_at, last_error)"
                " VALUES (?, ?, ?, ?, ?)",
                (self.queue, case_id, payload, time.time(), error or None),
            )

    def count(self) -> int:
        """Cases waiting in the spool (0 when the file does not exist yet)."""
        with self._lock:
            if self._conn is None and not self.path.exists():
                return 0
            row = (
                self._connection()
                .execute("SELECT COUNT(*) FROM spooled_cases WHERE queue = ?", (self.queue,))
                .fetchone()
            )
            return int(row[0])

    def drain(self, send: Send) -> tuple[int, Exception | None]:
        """Send spooled cases oldest first; returns ``(sent, error)``.

        Stops at the first exception from ``send`` and returns it; that case stays in
        the spool with the error noted, to be tried again by a later drain.
        """
        sent = 0
        with self._lock:
            if self._conn is None and not self.path.exists():
                return 0, None
            conn = self._connection()
            while True:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    row = conn.execute(
                        "SELECT id, case_id, payload FROM spooled_cases"
                        " WHERE queue = ? ORDER BY id LIMIT 1",
                        (self.queue,),
                    ).fetchone()
                    if row is None:
                        conn.execute("COMMIT")
                        return sent, None
                    row_id, case_id, payload = row
                    try:
                        send(case_id, payload)
                    except Exception as exc:
                        conn.execute(
                            "UPDATE spooled_cases SET last_error = ? WHERE id = ?",
                            (f"{type(exc).__name__}: {exc}"[:1000], row_id),
                        )
                        conn.execute("COMMIT")
                        return sent, exc
                    conn.execute("DELETE FROM spooled_cases WHERE id = ?", (row_id,))
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                sent += 1
                logger.info("spooled case %s delivered to the queue", case_id)

    def close(self) -> None:
        """Close the file (idempotent)."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
