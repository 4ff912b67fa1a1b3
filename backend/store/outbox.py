"""The notifications outbox: written with the status change, claimed and settled by the notifier.

A row is sent at most once by one dispatcher: :func:`claim_due` moves due
rows to ``sending`` under a named claim in one transaction (``FOR UPDATE
SKIP LOCKED`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), and
:func:`settle` records the outcome only if the claim is still the caller's.
A claim left by a dispatcher that died is taken over after its lease; that
is the one case where a message can go out twice (sent, then the process
died before it recorded so), as with any outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from backend.store.models import Case, Notification, utcnow

PENDING, SENDING, SENT, FAILED = "pending", "sending", "sent", "failed"
#: seconds to wait after the n-th failed attempt (the last value repeats)
BACKOFF_S = (60, 300, 1800, 7200, 21600)
#: attempts before a temporarily failing row is given up as failed
MAX_ATTEMPTS = 8
#: how long a claim holds before another dispatcher may take the row over
CLAIM_LEASE_S = 300.0
MAX_ERROR_CHARS = 1000


@dataclass(frozen=True)
class OutgoingNotification:
    """A claimed row, detached from its session (what a sender gets)."""

    id: int
    case_id: str
    channel: str
    channel_user: str | None
    kind: str
    message: str
    attempts: int


def add_notification(session: Session, case: Case, message: str, *, kind: str = "status_change") -> Notification:
    """Write an outbox row for *case*'s citizen in the caller's transaction."""
    row = Notification(
        case=case, case_id=case.case_id, channel=case.channel, channel_user=case.channel_user, kind=kind,
        message=message, status=PENDING,
    )
    session.add(row)
    return row


def backoff(attempts: int) -> timedelta:
    """Delay before the next attempt after *attempts* failed ones."""
    return timedelta(seconds=BACKOFF_S[min(max(attempts, 1), len(BACKOFF_S)) - 1])


def _due(now: datetime) -> Any:
    return or_(
        and_(Notification.status == PENDING,
             or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now)),
        and_(Notification.status == SENDING, Notification.claimed_until < now),
    )


def claim_due(
    session: Session, *, owner: str, now: datetime | None = None, limit: int = 50,
    lease_s: float = CLAIM_LEASE_S,
) -> list[OutgoingNotification]:
    """Claim up to *limit* due rows for *owner*; each claim counts as an attempt."""
    now = now or utcnow()
    rows = session.scalars(
        select(Notification).where(_due(now)).order_by(Notification.id).limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    claimed = []
    for row in rows:
        row.status, row.claimed_by = SENDING, owner
        row.claimed_until = now + timedelta(seconds=lease_s)
        row.attempts += 1
        claimed.append(OutgoingNotification(row.id, row.case_id, row.channel, row.channel_user, row.kind,
                                            row.message, row.attempts))
    session.flush()
    return claimed


def settle(
    session: Session, notification_id: int, *, owner: str, success: bool, permanent_error: str | None = None,
    temporary_error: str | None = None, now: datetime | None = None,
) -> str | None:
    """Record the outcome of a send if *owner* still holds the claim; returns the new status."""
    now = now or utcnow()
    row = session.scalar(
        select(Notification)
        .where(Notification.id == notification_id, Notification.status == SENDING,
               Notification.claimed_by == owner)
        .with_for_update()
    )
    if row is None:
        return None
    row.claimed_by, row.claimed_until = None, None
    if success:
        row.status, row.sent_at, row.last_error = SENT, now, None
    elif permanent_error is not None or row.attempts >= MAX_ATTEMPTS:
        row.status = FAILED
        row.last_error = (permanent_error or temporary_error or "")[:MAX_ERROR_CHARS]
    else:
        row.status, row.next_attempt_at = PENDING, now + backoff(row.attempts)
        row.last_error = (temporary_error or "")[:MAX_ERROR_CHARS]
    session.flush()
    return row.status


def take_for_page(
    session: Session, *, channel: str, user: str, now: datetime | None = None, limit: int = 50,
) -> list[dict[str, Any]]:
    """Notifications stored for a page (sent, not yet delivered), marked delivered as they are taken."""
    now = now or utcnow()
    rows = session.scalars(
        select(Notification)
        .where(Notification.channel == channel, Notification.channel_user == user,
               Notification.status == SENT, Notification.delivered_at.is_(None))
        .order_by(Notification.id).limit(limit).with_for_update(skip_locked=True)
    ).all()
    if rows:
        session.execute(
            update(Notification).where(Notification.id.in_([r.id for r in rows]))
            .values(delivered_at=now).execution_options(synchronize_session=False)
        )
    return [
        {"id": r.id, "case_id": r.case_id, "kind": r.kind, "text": r.message,
         "created_at": r.created_at.isoformat()}
        for r in rows
    ]
