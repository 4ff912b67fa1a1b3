"""Every name the case queue uses: environment variables, files, streams, keys, tables.

Nothing else in ``backend.queue`` spells a Redis key or a table name; change it here.
Stdlib only: the Rasa action server (Python 3.10) imports this through the producer.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CASE_FIELD",
    "CASE_ID_FIELD",
    "CLEAR_QUERY_CODE_KEY",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_PREFIX",
    "DEFAULT_VISIBILITY_TIMEOUT_S",
    "ENV_QUEUE_PREFIX",
    "ENV_REDIS_URL",
    "ENV_VAR_DIR",
    "QUEUE_FILENAME",
    "QUEUE_SCHEMA",
    "QueueNames",
    "SPOOL_FILENAME",
    "SPOOL_SCHEMA",
    "SQLITE_BUSY_TIMEOUT_MS",
]

#: Redis URL; unset or empty means the embedded SQLite queue.
ENV_REDIS_URL = "XF_REDIS_URL"
#: Directory for local state (SQLite queue file, producer spool); default ``<repo>/var``.
ENV_VAR_DIR = "XF_VAR_DIR"
#: Prefix of every stream, group and key name (tests and multi-tenant setups).
ENV_QUEUE_PREFIX = "XF_QUEUE_PREFIX"

DEFAULT_PREFIX = "xf"
DEFAULT_VISIBILITY_TIMEOUT_S = 30.0
DEFAULT_MAX_ATTEMPTS = 5

#: The embedded queue's file inside the var directory (shared by producer and workers).
QUEUE_FILENAME = "queue.sqlite3"
#: Where a producer keeps cases it could not hand to Redis.
SPOOL_FILENAME = "spool.sqlite3"
SQLITE_BUSY_TIMEOUT_MS = 10_000

#: Stream entry fields: the case JSON, and its case_id beside it for tools.
CASE_FIELD = "case"
CASE_ID_FIELD = "case_id"
#: A payload key that must never travel: the query code goes hashed as ``query_code_hash``.
CLEAR_QUERY_CODE_KEY = "query_code"


@dataclass(frozen=True)
class QueueNames:
    """Stream, group and key names for one prefix.

    :param prefix: leading part of every name (``xf`` by default)
    :param stream: Redis stream holding the cases
    :param group: consumer group of the backend workers
    :param dead_letters: Redis stream of cases that failed too often, with the error
    :param errors: Redis hash ``message_id -> last error`` for messages being retried
    """

    prefix: str
    stream: str
    group: str
    dead_letters: str
    errors: str

    @classmethod
    def for_prefix(cls, prefix: str = DEFAULT_PREFIX) -> QueueNames:
        """Names for ``prefix`` (``xf`` -> ``xf:cases``, ``xf:cases:dead``, ...)."""
        if not prefix or any(c.isspace() for c in prefix):
            raise ValueError(f"queue prefix must be a non-empty word, got {prefix!r}")
        return cls(
            prefix=prefix,
            stream=f"{prefix}:cases",
            group=f"{prefix}:case-workers",
            dead_letters=f"{prefix}:cases:dead",
            errors=f"{prefix}:cases:errors",
        )


#: Tables of the embedded queue. ``queue`` holds the prefix, so one file can
#: carry several queues. Times are Unix seconds (wall clock: several processes).
QUEUE_SCHEMA = """
CREATE TABLE IF NOT EXISTS queue_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    queue       TEXT    NOT NULL,
    case_id     TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    enqueued_at REAL    NOT NULL,
    deliveries  INTEGER NOT NULL DEFAULT 0,
    consumer    TEXT,
    claimed_at  REAL,
    last_error  TEXT
);
CREATE INDEX IF NOT EXISTS queue_messages_claimable
    ON queue_messages (queue, claimed_at, id);
CREATE TABLE IF NOT EXISTS queue_dead_letters (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    queue       TEXT    NOT NULL,
    message_id  TEXT    NOT NULL,
    case_id     TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    error       TEXT    NOT NULL,
    attempts    INTEGER NOT NULL,
    failed_at   TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_dead_letters_queue
    ON queue_dead_letters (queue, id);
"""

#: The producer's spool: cases accepted while Redis was unreachable.
SPOOL_SCHEMA = """
CREATE TABLE IF NOT EXISTS spooled_cases (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    queue       TEXT    NOT NULL,
    case_id     TEXT    NOT NULL,
    payload     TEXT    NOT NULL,
    spooled_at  REAL    NOT NULL,
    last_error  TEXT
);
"""
