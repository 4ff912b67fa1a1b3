"""A sender that only logs, without personal data: the default, and the staging switch."""

from __future__ import annotations

import logging

from backend.notify.base import Result, Sender
from backend.store.outbox import OutgoingNotification

log = logging.getLogger("xinfang.notify.log")

PERMANENT_ERRORS: tuple[str, ...] = ()
TEMPORARY_ERRORS: tuple[str, ...] = ()


class LogSender(Sender):
    """Logs the notification id, case and channel (never the text or the recipient) and succeeds."""

    name = "log"

    async def send(self, notification: OutgoingNotification) -> Result:
        log.info(
            "notification %s for case %s (%s, %s) logged instead of sent",
            notification.id, notification.case_id, notification.channel, notification.kind,
        )
        return Result.ok()
