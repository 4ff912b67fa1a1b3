"""Web chat: the page fetches its notifications from the API, so sending means storing.

A row sent by this sender stays in the outbox as ``sent`` until
``GET /api/v1/notifications?channel=webchat&user=<session_id>`` hands it to
the page and marks it delivered.
"""

from __future__ import annotations

from backend.notify.base import Result, Sender
from backend.store.outbox import OutgoingNotification

NO_SESSION = "no web chat session id"
PERMANENT_ERRORS = (NO_SESSION,)
TEMPORARY_ERRORS: tuple[str, ...] = ()


class WebChatSender(Sender):
    """Keeps the notification for the citizen's web chat page."""

    name = "webchat"

    async def send(self, notification: OutgoingNotification) -> Result:
        if not notification.channel_user:
            return Result.permanent(NO_SESSION)
        return Result.ok()
