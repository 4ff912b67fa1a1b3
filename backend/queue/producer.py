"""Hand finished cases to the backend's queue; used by the Rasa action server and the backend.

Stdlib plus, only when ``XF_REDIS_URL`` is set, the synchronous ``redis`` client (4.x on
the action server, 5+ in the backend). Nothing here is asynchronous and nothing heavy is
imported: the action server on Python 3.10 imports this module.

A citizen who was given a case number has a case: when the queue cannot be reached the
case goes to a local spool (``<var>/spool.sqlite3``) and ``publish`` still returns
normally; the spool is flushed on the next ``publish`` and by :func:`flush_spool`, which
the worker calls at start and periodically.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from backend.queue.base import default_var_dir, encode_case, queue_prefix
from backend.queue.constants import (
    CASE_FIELD,
    CASE_ID_FIELD,
    DEFAULT_PREFIX,
    ENV_REDIS_URL,
    QUEUE_FILENAME,
    QUEUE_SCHEMA,
    SPOOL_FILENAME,
    QueueNames,
)
from backend.queue.embedded import connect_sqlite, enqueue_message
from backend.queue.spool import CaseSpool

__all__ = ["CaseProducer", "flush_spool"]

logger = logging.getLogger("backend.queue.producer")


class CaseProducer:
    """Publishes cases to the Redis stream, or to the embedded SQLite queue file.

    :param redis_url: ``redis://...``; ``None`` or empty writes to ``<var>/queue.sqlite3``
    :param var_dir: directory of the embedded queue file and of the spool
    :param prefix: queue name prefix (must match the workers')
    :param socket_timeout_s: connect and read timeout towards Redis; a citizen waits at
        most about this long before the case is spooled instead
    """

    def __init__(
        self,
        *,
        redis_url: str | None,
        var_dir: Path,
        prefix: str = DEFAULT_PREFIX,
        socket_timeout_s: float = 2.0,
    ) -> None:
        self.redis_url = redis_url or None
        self.var_dir = Path(var_dir)
        self.names = QueueNames.for_prefix(prefix)
        self.socket_timeout_s = socket_timeout_s
        self.spool = CaseSpool(self.var_dir / SPOOL_FILENAME, queue=prefix)
        self._redis: Any = None
        self._queue_conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> CaseProducer:
        """Configured by ``XF_REDIS_URL``, ``XF_VAR_DIR`` and ``XF_QUEUE_PREFIX``."""
        env = os.environ if environ is None else environ
        return cls(
            redis_url=env.get(ENV_REDIS_URL, "").strip() or None,
            var_dir=default_var_dir(env),
            prefix=queue_prefix(env),
        )

    def __repr__(self) -> str:
        target = "redis" if self.redis_url else str(self.var_dir / QUEUE_FILENAME)
        return f"CaseProducer(target={target!r}, prefix={self.names.prefix!r})"

    def publish(self, case: dict[str, Any]) -> None:
        """Queue one case; spools it when the queue cannot be reached.

        :raises ValueError: the case has no ``case_id`` or carries ``query_code`` in clear
        :raises sqlite3.Error: neither the queue nor the local spool could take the case
        """
        case_id, payload = encode_case(case)
        error: Exception | None = None
        if self.spool.count():
            _sent, error = self.spool.drain(self._send)
        if error is None:
            try:
                self._send(case_id, payload)
                return
            except Exception as exc:  # anything the queue raised: the case must not be lost
                error = exc
        self.spool.add(case_id=case_id, payload=payload, error=f"{type(error).__name__}: {error}")
        logger.warning(
            "queue unreachable (%s: %s); case %s kept in %s",
            type(error).__name__,
            error,
            case_id,
            self.spool.path,
        )

    def flush_spool(self) -> int:
        """Deliver spooled cases; returns how many were delivered. Never raises for an
        unreachable queue (the rest stays spooled)."""
        sent, error = self.spool.drain(self._send)
        if error is not None:
            logger.warning(
                "spool flush stopped after %d case(s): %s: %s", sent, type(error).__name__, error
            )
        elif sent:
            logger.info("spool flushed: %d case(s) delivered", sent)
        return sent

    def spooled_count(self) -> int:
        """Cases waiting in the local spool."""
        return self.spool.count()

    def close(self) -> None:
        """Release connections (idempotent)."""
        with self._lock:
            if self._redis is not None:
                self._redis.close()
                self._redis = None
            if self._queue_conn is not None:
                self._queue_conn.close()
                self._queue_conn = None
        self.spool.close()

    # -- sending ----------------------------------------------------------------------

    def _send(self, case_id: str, payload: str) -> None:
        if self.redis_url:
            self._redis_client().xadd(
                self.names.stream, {CASE_ID_FIELD: case_id, CASE_FIELD: payload}
            )
            return
        with self._lock:
            if self._queue_conn is None:
                self._queue_conn = connect_sqlite(
                    self.var_dir / QUEUE_FILENAME, schema=QUEUE_SCHEMA
                )
            enqueue_message(
                self._queue_conn, queue=self.names.prefix, case_id=case_id, payload=payload
            )

    def _redis_client(self) -> Any:
        url = self.redis_url
        if url is None:
            raise RuntimeError("no Redis URL configured")
        with self._lock:
            if self._redis is None:
                import redis
                from redis.backoff import NoBackoff
                from redis.retry import Retry

                self._redis = redis.Redis.from_url(
                    url,
                    decode_responses=True,
                    socket_timeout=self.socket_timeout_s,
                    socket_connect_timeout=self.socket_timeout_s,
                    # Fail fast: the spool is the retry.
                    retry=Retry(NoBackoff(), 0),
                )
            return self._redis


def flush_spool(*, environ: Mapping[str, str] | None = None) -> int:
    """Deliver the cases spooled under ``XF_VAR_DIR``; for the worker (start and periodic).

    Synchronous: call it through ``asyncio.to_thread`` from async code.
    """
    producer = CaseProducer.from_env(environ)
    try:
        return producer.flush_spool()
    finally:
        producer.close()
