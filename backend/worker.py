"""Queue consumer: each case is stored in one transaction, then acknowledged.

At-least-once delivery meets idempotent storage (``save_case`` by
``case_id``): a redelivered case never makes a second record. Logs name
cases by ``case_id`` only, never by anything a citizen said.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from backend.queue.base import CaseQueue, Delivery, open_queue
from backend.settings import Settings
from backend.store import make_sessionmaker, migrate, save_case

log = logging.getLogger("xinfang.worker")

RECEIVE_BLOCK_MS = 1000
#: pause after the queue itself failed, before trying again
QUEUE_ERROR_PAUSE_S = 1.0


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


def store_case(session_factory: sessionmaker[Session], case: Mapping[str, Any]) -> bool:
    """Save one case and commit; ``False`` when it was already stored."""
    with session_factory.begin() as session:
        return save_case(session, case)


async def handle_delivery(
    queue: CaseQueue, session_factory: sessionmaker[Session], delivery: Delivery
) -> bool:
    """Store a delivered case, then acknowledge it; on error hand it back with ``fail``.

    Returns ``True`` when the delivery was acknowledged.
    """
    case_id = delivery.case.get("case_id") if isinstance(delivery.case, dict) else None
    try:
        created = await asyncio.to_thread(store_case, session_factory, delivery.case)
    except Exception as exc:  # noqa: BLE001 - every failure goes back to the queue
        error = describe_error(exc)
        log.warning("case %s not stored (delivery %d): %s", case_id, delivery.attempts + 1, error)
        await queue.fail(delivery, error)
        return False
    await queue.ack(delivery)
    if created:
        log.info("case %s stored", case_id)
    else:
        log.info("case %s already stored; duplicate delivery acknowledged", case_id)
    return True


async def run_worker(
    settings: Settings,
    *,
    consumer: str,
    stop: asyncio.Event,
    batch: int = 10,
    queue: CaseQueue | None = None,
    session_factory: sessionmaker[Session] | None = None,
) -> None:
    """Consume cases until *stop* is set.

    :param consumer: name of this consumer in the queue's group.
    :param batch: most deliveries taken at once.
    :param queue: a shared queue (default: opened from *settings*, closed at the end).
    :param session_factory: a shared session factory (default: from *settings*).
    """
    own_queue = queue is None
    queue = queue or open_settings_queue(settings)
    session_factory = session_factory or make_sessionmaker(settings)
    log.info("consumer %s started", consumer)
    try:
        while not stop.is_set():
            try:
                deliveries = await queue.receive(consumer=consumer, count=batch, block_ms=RECEIVE_BLOCK_MS)
            except Exception:  # noqa: BLE001 - keep consuming once the queue is back
                log.exception("consumer %s could not read the queue", consumer)
                await _sleep_or_stop(stop, QUEUE_ERROR_PAUSE_S)
                continue
            for delivery in deliveries:
                try:
                    await handle_delivery(queue, session_factory, delivery)
                except Exception:  # noqa: BLE001 - ack/fail failed: the queue redelivers later
                    log.exception("consumer %s could not settle a delivery", consumer)
                    await _sleep_or_stop(stop, QUEUE_ERROR_PAUSE_S)
    finally:
        if own_queue:
            await queue.close()
        log.info("consumer %s stopped", consumer)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass


async def run_workers(settings: Settings, *, concurrency: int = 1, stop: asyncio.Event | None = None) -> None:
    """Migrate, then run *concurrency* consumer loops sharing one queue and engine.

    SIGTERM and SIGINT set *stop*; loops finish the delivery in hand and exit.
    """
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):  # not the main thread / platform
            pass
    await asyncio.to_thread(migrate, settings.database_url)
    if stop.is_set():
        return
    queue = open_settings_queue(settings)
    session_factory = make_sessionmaker(settings)
    try:
        await asyncio.gather(
            *(
                run_worker(settings, consumer=consumer_name(i), stop=stop, queue=queue,
                           session_factory=session_factory)
                for i in range(max(1, concurrency))
            )
        )
    finally:
        await queue.close()
        session_factory.kw["bind"].dispose()
