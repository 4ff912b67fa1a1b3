"""Queue consumer: each case is stored in one transaction, then acknowledged.

At-least-once delivery meets idempotent storage (``save_case`` by
``case_id``): a redelivered case never makes a second record. Logs name
cases by ``case_id`` only, never by anything a citizen said.

Failures fall in two kinds, handled differently:

- **Poison**: the case itself cannot be stored (a payload that fails
  validation, a constraint it breaks, any other error). The delivery is handed
  back with ``queue.fail``; after ``XF_QUEUE_MAX_ATTEMPTS`` deliveries it
  moves to the dead letters with an error text free of personal data.
- **Infrastructure**: the database cannot be reached (connection refused or
  dropped, server shutting down, too many connections, a locked or missing
  SQLite file; see :func:`is_infrastructure_error`). Then nothing is wrong
  with the case and it must not use up its attempts: ``fail`` is *not*
  called, the message stays pending in the queue, the loop keeps the
  unsettled rest of its batch, stops taking new messages and probes the
  database with exponential backoff (``XF_WORKER_BACKOFF_MAX_S`` caps the
  pause, default 30 s). Once the database answers, the held deliveries are
  stored and acknowledged. If the process dies meanwhile, the messages are
  reclaimed by another consumer after the visibility timeout
  (``XF_QUEUE_VISIBILITY_TIMEOUT_S``). A long outage therefore costs a
  message at most one extra delivery count, never the dead letters.

The worker also delivers the producer's local spool (cases the action server
accepted while the queue was unreachable; same ``XF_VAR_DIR``): at start and
every ``XF_WORKER_SPOOL_FLUSH_S`` seconds (default 10; ``0`` disables the
periodic flush), so spooled cases reach the queue even when no new case is
filed.

Several loops per process (``--concurrency``) and several processes on one
queue are safe: a message is claimed by one consumer at a time, and a case
stored twice after a crash or a reclaim is recognised by its ``case_id``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sqlite3
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

try:
    import psycopg
except ImportError:  # pragma: no cover - psycopg is a backend dependency
    psycopg = None  # type: ignore[assignment]
from sqlalchemy import exc as sa_exc
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from backend.queue.base import CaseQueue, Delivery, open_queue
from backend.queue.constants import ENV_QUEUE_PREFIX, ENV_REDIS_URL, ENV_VAR_DIR
from backend.queue.producer import flush_spool
from backend.settings import Settings
from backend.store import make_sessionmaker, migrate, save_case

log = logging.getLogger("xinfang.worker")

RECEIVE_BLOCK_MS = 1000
#: first pause after the queue or the database failed; doubles up to the cap
BACKOFF_START_S = 0.5
#: environment variable: longest pause between tries while the queue or database is down
ENV_BACKOFF_MAX = "XF_WORKER_BACKOFF_MAX_S"
DEFAULT_BACKOFF_MAX_S = 30.0
#: environment variable: seconds between flushes of the producer spool (0: only at start)
ENV_SPOOL_FLUSH = "XF_WORKER_SPOOL_FLUSH_S"
DEFAULT_SPOOL_FLUSH_S = 10.0

#: PostgreSQL SQLSTATE classes that say "the server or the connection", not "this case":
#: 08 connection exception, 53 insufficient resources, 57 operator intervention
#: (shutdown, cannot connect now, statement cancelled), 58 system error,
#: 40 transaction rollback (deadlock, serialization), 55 lock not available.
_INFRA_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58", "40", "55"})


class DatabaseUnavailable(Exception):
    """The database could not be reached while storing a case (an infrastructure error)."""


def _env_float(name: str, default: float, environ: Mapping[str, str] | None = None) -> float:
    env = os.environ if environ is None else environ
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return max(0.0, float(raw))
    except ValueError:
        log.warning("%s=%r is not a number; using %s", name, raw, default)
        return default


def open_settings_queue(settings: Settings) -> CaseQueue:
    """The queue the settings describe (Redis Stream or embedded SQLite)."""
    return open_queue(
        redis_url=settings.redis_url,
        sqlite_path=settings.queue_sqlite_path,
        visibility_timeout_s=settings.queue_visibility_timeout_s,
        max_attempts=settings.queue_max_attempts,
        prefix=settings.queue_prefix,
    )


def consumer_name(index: int = 0) -> str:
    """A consumer name unique to this process and loop."""
    return f"{socket.gethostname()}-{os.getpid()}-{index}"


def describe_error(exc: BaseException) -> str:
    """An error text for the dead letters that carries no personal data.

    Database errors echo the statement's parameters and validation errors the
    offending input, so only their kind and location are kept.
    """
    name = type(exc).__name__
    if isinstance(exc, ValidationError):
        fields = sorted({".".join(str(p) for p in e["loc"]) + ":" + e["type"] for e in exc.errors()})
        return f"{name}: invalid case payload ({', '.join(fields)})"
    if isinstance(exc, SQLAlchemyError):
        orig = getattr(exc, "orig", None)
        code = getattr(orig, "sqlstate", None) or getattr(orig, "sqlite_errorname", None)
        detail = f"{type(orig).__name__}" + (f" [{code}]" if code else "") if orig else ""
        return f"{name}: {detail}".rstrip(": ")
    return name


def _driver_error_is_infrastructure(orig: BaseException | None) -> bool:
    if orig is None:
        return False
    if isinstance(orig, sqlite3.OperationalError):
        # locked / busy, disk I/O, cannot open the file, read-only, schema missing
        return True
    if psycopg is not None:
        if isinstance(orig, psycopg.InterfaceError):
            return True
        if isinstance(orig, psycopg.OperationalError):
            sqlstate = getattr(orig, "sqlstate", None)
            # no SQLSTATE: raised on the client side (connect failed, connection lost)
            return sqlstate is None or sqlstate[:2] in _INFRA_SQLSTATE_CLASSES
    return isinstance(orig, (ConnectionError, TimeoutError, OSError))


def is_infrastructure_error(exc: BaseException) -> bool:
    """True when *exc* says the database is unreachable or overloaded, not that the case is bad.

    Infrastructure: a connection SQLAlchemy invalidated (disconnect), a pool
    timeout, an ``OperationalError`` / ``InterfaceError`` whose driver error is a
    psycopg connection-level error (client side, or SQLSTATE class 08, 53, 55,
    57, 58, 40) or a ``sqlite3.OperationalError``, and plain socket errors.
    Everything else (validation, integrity, data errors) is a poison payload.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (ValidationError, sa_exc.IntegrityError, sa_exc.DataError)):
            return False
        if isinstance(current, (sa_exc.TimeoutError, sa_exc.DisconnectionError)):
            return True
        if isinstance(current, sa_exc.DBAPIError):
            if current.connection_invalidated:
                return True
            if isinstance(current, (sa_exc.OperationalError, sa_exc.InterfaceError)):
                return _driver_error_is_infrastructure(current.orig)
            return False
        if _driver_error_is_infrastructure(current):
            return True
        current = current.__cause__
    return False


class Backoff:
    """Exponential pauses: ``start``, ``2*start``, ... capped at ``cap``; ``reset`` starts over."""

    def __init__(self, *, start: float | None = None, cap: float = DEFAULT_BACKOFF_MAX_S) -> None:
        self.start = BACKOFF_START_S if start is None else start
        self.cap = max(cap, 0.0)
        self.failures = 0

    def next(self) -> float:
        """The pause before the next try (and count one more failure)."""
        pause = min(self.cap, self.start * (2 ** min(self.failures, 30)))
        self.failures += 1
        return pause

    def reset(self) -> None:
        """Back to the first, shortest pause."""
        self.failures = 0


def store_case(session_factory: sessionmaker[Session], case: Mapping[str, Any]) -> bool:
    """Save one case and commit; ``False`` when it was already stored."""
    with session_factory.begin() as session:
        return save_case(session, case)


def database_answers(session_factory: sessionmaker[Session]) -> bool:
    """True when the database runs ``SELECT 1`` (quietly: this is polled during outages)."""
    try:
        with session_factory() as session:
            session.execute(text("SELECT 1"))
    except Exception as exc:  # noqa: BLE001 - any failure means: not yet
        log.debug("database probe failed: %s", describe_error(exc))
        return False
    return True


async def handle_delivery(
    queue: CaseQueue, session_factory: sessionmaker[Session], delivery: Delivery
) -> bool:
    """Store a delivered case, then acknowledge it; a poison case goes back with ``fail``.

    Returns ``True`` when the delivery was acknowledged, ``False`` when it was failed.

    :raises DatabaseUnavailable: the database could not be reached; the delivery was
        neither acknowledged nor failed (it stays pending, its attempts untouched).
    """
    case_id = delivery.case.get("case_id") if isinstance(delivery.case, dict) else None
    try:
        created = await asyncio.to_thread(store_case, session_factory, delivery.case)
    except Exception as exc:  # noqa: BLE001 - sorted below: infrastructure or poison
        error = describe_error(exc)
        if is_infrastructure_error(exc):
            raise DatabaseUnavailable(error) from exc
        log.warning("case %s not stored (delivery %d): %s", case_id, delivery.attempts + 1, error)
        await queue.fail(delivery, error)
        return False
    await queue.ack(delivery)
    if created:
        log.info("case %s stored", case_id)
    else:
        log.info("case %s already stored; duplicate delivery acknowledged", case_id)
    return True


async def wait_for_database(
    session_factory: sessionmaker[Session], stop: asyncio.Event, backoff: Backoff, *, consumer: str
) -> bool:
    """Probe the database with growing pauses until it answers; ``False`` if *stop* was set."""
    while not stop.is_set():
        await _sleep_or_stop(stop, backoff.next())
        if stop.is_set():
            return False
        if await asyncio.to_thread(database_answers, session_factory):
            log.info("consumer %s: database reachable again", consumer)
            return True
    return False


async def run_worker(
    settings: Settings,
    *,
    consumer: str,
    stop: asyncio.Event,
    batch: int = 10,
    queue: CaseQueue | None = None,
    session_factory: sessionmaker[Session] | None = None,
    backoff_max_s: float | None = None,
) -> None:
    """Consume cases until *stop* is set (see the module docstring for failures).

    :param consumer: name of this consumer in the queue's group.
    :param batch: most deliveries taken at once.
    :param queue: a shared queue (default: opened from *settings*, closed at the end).
    :param session_factory: a shared session factory (default: from *settings*).
    :param backoff_max_s: longest pause while the queue or database is down
        (default ``$XF_WORKER_BACKOFF_MAX_S`` or 30 s).
    """
    own_queue = queue is None
    queue = queue or open_settings_queue(settings)
    session_factory = session_factory or make_sessionmaker(settings)
    cap = _env_float(ENV_BACKOFF_MAX, DEFAULT_BACKOFF_MAX_S) if backoff_max_s is None else backoff_max_s
    queue_backoff = Backoff(cap=cap)
    db_backoff = Backoff(cap=cap)
    held: list[Delivery] = []
    log.info("consumer %s started", consumer)
    try:
        while not stop.is_set():
            if held:
                deliveries, held = held, []
            else:
                try:
                    deliveries = await queue.receive(consumer=consumer, count=batch, block_ms=RECEIVE_BLOCK_MS)
                except Exception as exc:  # noqa: BLE001 - keep consuming once the queue is back
                    pause = queue_backoff.next()
                    log.warning("consumer %s could not read the queue (%s); next try in %.1fs",
                                consumer, type(exc).__name__, pause)
                    await _sleep_or_stop(stop, pause)
                    continue
                queue_backoff.reset()
            for index, delivery in enumerate(deliveries):
                try:
                    await handle_delivery(queue, session_factory, delivery)
                except DatabaseUnavailable as exc:
                    held = list(deliveries[index:])
                    if db_backoff.failures == 0:
                        log.warning(
                            "consumer %s: database unreachable (%s); %d deliveries stay pending,"
                            " not counted as failures", consumer, exc, len(held))
                    if not await wait_for_database(session_factory, stop, db_backoff, consumer=consumer):
                        held = []  # stopping: the queue redelivers them after the visibility timeout
                    break
                except Exception as exc:  # noqa: BLE001 - ack/fail failed: the queue redelivers later
                    pause = queue_backoff.next()
                    log.warning("consumer %s could not settle a delivery (%s); next try in %.1fs",
                                consumer, type(exc).__name__, pause)
                    await _sleep_or_stop(stop, pause)
                else:
                    db_backoff.reset()
    finally:
        if own_queue:
            await queue.close()
        log.info("consumer %s stopped", consumer)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


def spool_environment(settings: Settings) -> dict[str, str]:
    """The ``XF_*`` variables :func:`flush_spool` reads, taken from *settings*."""
    return {
        ENV_REDIS_URL: settings.redis_url or "",
        ENV_VAR_DIR: str(settings.var_dir),
        ENV_QUEUE_PREFIX: settings.queue_prefix,
    }


async def flush_spool_once(settings: Settings) -> int:
    """Hand the producer spool under ``settings.var_dir`` to the queue; never raises."""
    try:
        sent = await asyncio.to_thread(flush_spool, environ=spool_environment(settings))
    except Exception as exc:  # noqa: BLE001 - the spool keeps its cases; try again later
        log.warning("could not flush the producer spool (%s)", type(exc).__name__)
        return 0
    if sent:
        log.info("%d spooled case(s) handed to the queue", sent)
    return sent


async def flush_spool_periodically(settings: Settings, stop: asyncio.Event, interval_s: float) -> None:
    """Flush the spool now, then every *interval_s* seconds until *stop* (``0``: once)."""
    await flush_spool_once(settings)
    if interval_s <= 0:
        return
    while not stop.is_set():
        await _sleep_or_stop(stop, interval_s)
        if not stop.is_set():
            await flush_spool_once(settings)


async def _migrate_when_reachable(settings: Settings, stop: asyncio.Event) -> bool:
    """Migrate the schema, waiting (with backoff) while the database is unreachable.

    Returns ``False`` when *stop* was set first. Other migration errors propagate.
    """
    backoff = Backoff(cap=_env_float(ENV_BACKOFF_MAX, DEFAULT_BACKOFF_MAX_S))
    while not stop.is_set():
        try:
            await asyncio.to_thread(migrate, settings.database_url)
            return not stop.is_set()
        except Exception as exc:
            if not is_infrastructure_error(exc):
                raise
            pause = backoff.next()
            log.warning("database unreachable at start (%s); next try in %.1fs", describe_error(exc), pause)
            await _sleep_or_stop(stop, pause)
    return False


async def run_workers(
    settings: Settings,
    *,
    concurrency: int = 1,
    stop: asyncio.Event | None = None,
    spool_flush_s: float | None = None,
) -> None:
    """Migrate, then run *concurrency* consumer loops sharing one queue and engine,
    plus the spool flusher.

    SIGTERM and SIGINT set *stop*; loops finish the batch in hand and exit
    (a batch held during a database outage is left pending in the queue).

    :param spool_flush_s: seconds between spool flushes (default
        ``$XF_WORKER_SPOOL_FLUSH_S`` or 10; ``0``: only at start).
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform
            pass
    if not await _migrate_when_reachable(settings, stop):
        return
    interval = _env_float(ENV_SPOOL_FLUSH, DEFAULT_SPOOL_FLUSH_S) if spool_flush_s is None else spool_flush_s
    queue = open_settings_queue(settings)
    session_factory = make_sessionmaker(settings)
    try:
        await asyncio.gather(
            flush_spool_periodically(settings, stop, interval),
            *(
                run_worker(settings, consumer=consumer_name(i), stop=stop, queue=queue,
                           session_factory=session_factory)
                for i in range(max(1, concurrency))
            ),
        )
    finally:
        await queue.close()
        session_factory.kw["bind"].dispose()
