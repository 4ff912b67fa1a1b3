"""The one interface every sender implements (FixMyStreet's SendReport is the model)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from backend.store.outbox import OutgoingNotification


@dataclass(frozen=True)
class Result:
    """The outcome of one send: success, or a permanent or temporary error."""

    success: bool
    permanent_error: str | None = None
    temporary_error: str | None = None

    @classmethod
    def ok(cls) -> Result:
        """Delivered."""
        return cls(True)

    @classmethod
    def permanent(cls, error: str) -> Result:
        """Will never succeed (unknown user, refused by the platform): mark failed."""
        return cls(False, permanent_error=error)

    @classmethod
    def temporary(cls, error: str) -> Result:
        """May succeed later (network, rate limit): retry with backoff."""
        return cls(False, temporary_error=error)


class Sender:
    """Delivers a notification to one kind of destination.

    Subclasses set :attr:`name` and implement :meth:`send`; they never raise
    for a delivery problem, they return a :class:`Result`. Each sender module
    lists its ``PERMANENT_ERRORS`` and ``TEMPORARY_ERRORS``.
    """

    name: ClassVar[str] = ""

    async def send(self, notification: OutgoingNotification) -> Result:
        """Deliver *notification*."""
        raise NotImplementedError

    async def close(self) -> None:
        """Release connections."""
        return None
