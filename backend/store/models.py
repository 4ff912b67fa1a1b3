"""Tables of the case store (SQLAlchemy 2 typed ORM).

Personal data (name, phone, ID number, address) lives only in
:class:`Petitioner`; cases point to it. The schema is created by Alembic
(``backend/migrations``), never by ``create_all`` at run time.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes stored as UTC (SQLite keeps no offset)."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        return dialect.type_descriptor(DateTime(timezone=dialect.name != "sqlite"))

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    """Now, timezone-aware, in UTC."""
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


class Petitioner(Base):
    """The person behind a case: the one place personal data is kept."""

    __tablename__ = "petitioners"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    id_number: Mapped[str | None] = mapped_column(String(40))
    address: Mapped[str | None] = mapped_column(String(500))
    #: keyed HMAC of the normalized phone number, to find repeat petitions
    phone_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    #: keyed HMAC of the normalized ID number
    id_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Case(Base):
    """A structured case as received from the queue (contract §4) and its state."""

    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(String(32), unique=True)
    schema_version: Mapped[int] = mapped_column(Integer, default=1)
    channel: Mapped[str] = mapped_column(String(20))
    #: WeChat openid / web session / call id: lets a citizen ask about their cases
    channel_user: Mapped[str | None] = mapped_column(String(128), index=True)
    received_at: Mapped[datetime]
    kind: Mapped[str | None] = mapped_column(String(20))
    category: Mapped[str | None] = mapped_column(String(40))
    legal_route: Mapped[str] = mapped_column(String(40), default="petition")
    route_reason: Mapped[str | None] = mapped_column(Text)
    respondent: Mapped[str | None] = mapped_column(String(500))
    occurred: Mapped[str | None] = mapped_column(String(200))
    location: Mapped[str | None] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    demand: Mapped[str | None] = mapped_column(Text)
    first_time: Mapped[bool | None]
    prior_case_ids: Mapped[list[Any]] = mapped_column(default=list)
    attachments: Mapped[list[Any]] = mapped_column(default=list)
    source: Mapped[dict[str, Any]] = mapped_column(default=dict)
    confidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    needs_review: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[str] = mapped_column(String(30), index=True)
    #: ``pbkdf2_sha256$...`` string made by the bot; the code itself is never stored
    query_code_hash: Mapped[str | None] = mapped_column(String(200))
    petitioner_id: Mapped[int | None] = mapped_column(ForeignKey("petitioners.id"), index=True)

    acceptance_due: Mapped[date | None]
    conclusion_due: Mapped[date | None]
    review_request_due: Mapped[date | None]
    review_due: Mapped[date | None]
    recheck_request_due: Mapped[date | None]
    recheck_due: Mapped[date | None]
    overdue: Mapped[bool] = mapped_column(default=False)
    #: when the case was first found overdue (recorded once)
    overdue_since: Mapped[datetime | None]

    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    petitioner: Mapped[Petitioner | None] = relationship(lazy="joined")
    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.id", lazy="selectin"
    )


class CaseEvent(Base):
    """One step in a case's history; rows are only ever added."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor: Mapped[str] = mapped_column(String(100))
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    #: 处理/复查/复核意见 given with an answering step: support | explain | reject
    opinion: Mapped[str | None] = mapped_column(String(20))

    case: Mapped[Case] = relationship(back_populates="events")


class ApiToken(Base):
    """A bearer token for the handler API, kept as its SHA-256 hash."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class Notification(Base):
    """Outbox of messages to citizens, sent by ``backend/notify``.

    ``status``: ``pending`` (due at ``next_attempt_at``, or now when empty) →
    ``sending`` (claimed by ``claimed_by`` until ``claimed_until``) → ``sent``
    or ``failed``. Web chat rows are ``sent`` when stored for the page and
    ``delivered_at`` is set when the page fetched them.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_status_created_at", "status", "created_at"),
        Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notifications_channel_channel_user", "channel", "channel_user"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    channel: Mapped[str] = mapped_column(String(20))
    channel_user: Mapped[str | None] = mapped_column(String(128))
    #: ``status_change`` or ``repeat_notice``
    kind: Mapped[str] = mapped_column(String(30), default="status_change")
    message: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_until: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]

    case: Mapped[Case] = relationship(lazy="raise_on_sql")


class Evaluation(Base):
    """A citizen's rating of how a case was handled (条例第21条第2款), once per answer."""

    __tablename__ = "evaluations"
    __table_args__ = (UniqueConstraint("case_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    #: see ``backend.lifecycle.RATINGS``: 2 满意, 1 基本满意, 0 不满意
    rating: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    #: the answering status rated: concluded | reviewed | rechecked
    step: Mapped[str | None] = mapped_column(String(30))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class SupervisionItem(Base):
    """A case found past one of its deadlines: the supervision list (督办), kept forever.

    One row per crossed deadline (``deadline`` column and its ``due`` date),
    recorded once; ``resolved_at`` is set when the case moves on.
    """

    __tablename__ = "supervision_items"
    __table_args__ = (UniqueConstraint("case_id", "deadline", "due"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.case_id"), index=True)
    status: Mapped[str] = mapped_column(String(30))
    deadline: Mapped[str] = mapped_column(String(30))
    due: Mapped[date]
    flagged_at: Mapped[datetime] = mapped_column(default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(index=True)
