"""Delivers due outbox rows, one sender per channel; a round reads as a recipe.

``claim → pick sender → send → settle``: rows are claimed atomically (never
two dispatchers on one row), each goes to the sender its channel names
(unknown sender → logged and failed), and the outcome is recorded under the
claim: sent, failed (permanent error or too many attempts) or due again
after a backoff (temporary error).
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from backend.notify.base import Result, Sender
from backend.notify.config import NotifySettings
from backend.notify.log import LogSender
from backend.store import outbox
from backend.store.outbox import OutgoingNotification

log = logging.getLogger("xinfang.notify")

DEFAULT_SENDER = "log"
NO_SUCH_SENDER = "no such sender: {name}"


class Dispatcher:
    """Sends due notifications.

    :param session_factory: sessions on the case store.
    :param senders: sender by name (``log`` is added when missing).
    :param routes: channel → sender name; channels not listed use ``log``.
    :param staging: when true every notification goes to ``log`` only.
    :param batch: rows claimed per round.
    """

    def __init__(
        self,
        session_factory: sessionmaker[Session],
        senders: Mapping[str, Sender],
        *,
        routes: Mapping[str, str] | None = None,
        staging: bool = False,
        batch: int = 50,
        owner: str | None = None,
    ) -> None:
        self.session_factory = session_factory
        self.senders = {DEFAULT_SENDER: LogSender(), **senders}
        self.routes = dict(routes or {})
        self.staging = staging
        self.batch = batch
        self.owner = owner or f"notifier-{uuid.uuid4().hex[:12]}"

    async def run_once(self, now: datetime | None = None) -> Counter[str]:
        """One round: returns how many rows ended in each status."""
        outcome: Counter[str] = Counter()
        for notification in await asyncio.to_thread(self._claim, now):
            sender = self._pick(notification)
            result = await self._send(sender, notification)
            status = await asyncio.to_thread(self._settle, notification, result)
            outcome[status or "lost_claim"] += 1
        if outcome:
            log.info("notifications: %s", dict(outcome))
        return outcome

    def _claim(self, now: datetime | None) -> list[OutgoingNotification]:
        with self.session_factory.begin() as session:
            return outbox.claim_due(session, owner=self.owner, now=now, limit=self.batch)

    def _pick(self, notification: OutgoingNotification) -> Sender | None:
        name = DEFAULT_SENDER if self.staging else self.routes.get(notification.channel, DEFAULT_SENDER)
        sender = self.senders.get(name)
        if sender is None:
            log.error("notification %s: no such sender %r", notification.id, name)
        return sender

    async def _send(self, sender: Sender | None, notification: OutgoingNotification) -> Result:
        if sender is None:
            return Result.permanent(NO_SUCH_SENDER.format(name=self.routes.get(notification.channel)))
        try:
            return await sender.send(notification)
        except Exception as exc:  # noqa: BLE001 - a sender bug must not stop the round
            log.exception("sender %s raised on notification %s", sender.name, notification.id)
            return Result.temporary(f"{type(exc).__name__}")

    def _settle(self, notification: OutgoingNotification, result: Result) -> str | None:
        with self.session_factory.begin() as session:
            status = outbox.settle(
                session, notification.id, owner=self.owner, success=result.success,
                permanent_error=result.permanent_error, temporary_error=result.temporary_error,
            )
        if status == outbox.FAILED:
            log.warning("notification %s for case %s failed: %s", notification.id, notification.case_id,
                        (result.permanent_error or result.temporary_error or "")[:200])
        return status

    async def close(self) -> None:
        """Close every sender."""
        for sender in self.senders.values():
            await sender.close()


def default_senders(config: NotifySettings) -> dict[str, Sender]:
    """The senders of this deployment, by name."""
    from backend.notify.webchat import WebChatSender
    from backend.notify.wechat import WeChatSender

    return {
        "log": LogSender(),
        "webchat": WebChatSender(),
        "wechat": WeChatSender(appid=config.wechat_appid, secret=config.wechat_secret,
                               api_base=config.wechat_api_base),
    }


async def run_notifier(
    session_factory: sessionmaker[Session],
    config: NotifySettings,
    *,
    once: bool = False,
    interval_s: float | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Dispatch rounds every *interval_s* seconds until *stop* is set (or one round with *once*)."""
    dispatcher = Dispatcher(session_factory, default_senders(config), routes=config.routes(),
                            staging=config.notify_staging, batch=config.notify_batch)
    stop = stop or asyncio.Event()
    interval = interval_s if interval_s is not None else config.notify_interval_s
    try:
        while True:
            try:
                await dispatcher.run_once()
            except Exception:  # noqa: BLE001 - the database may be down for a while
                log.exception("notification round failed; retrying next round")
            if once:
                return
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
                return
            except asyncio.TimeoutError:
                pass
    finally:
        await dispatcher.close()
