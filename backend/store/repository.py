"""Reading and writing cases. Functions take a Session; callers own the transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from backend import lifecycle
from backend.lifecycle import CaseStatus
from backend.security import keyed_hash, normalize_id_number, normalize_phone
from backend.store.db import PEPPER_KEY
from backend.store.models import Case, CaseEvent, Petitioner, utcnow

PETITION_ROUTE = "petition"
INTAKE_ACTOR = "system:intake"
CHANNEL_LABELS = {"wechat": "微信公众号", "webchat": "网页", "hotline": "热线电话", "api": "接口"}


class PetitionerIn(BaseModel):
    """Personal details as given in the queue payload."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: str | None = None
    phone: str | None = None
    id_number: str | None = None
    address: str | None = None


class CaseIn(BaseModel):
    """The queue payload (contract §4); unknown keys are ignored, a clear query code never kept."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    schema_version: int = 1
    case_id: str = Field(pattern=r"^[A-Za-z0-9-]{1,32}$")
    channel: str = Field(min_length=1, max_length=20)
    channel_user: str | None = Field(default=None, max_length=128)
    received_at: AwareDatetime
    petitioner: PetitionerIn | None = None
    kind: str | None = None
    category: str | None = None
    legal_route: str = PETITION_ROUTE
    route_reason: str | None = None
    respondent: str | None = None
    occurred: str | None = None
    location: str | None = None
    description: str | None = None
    demand: str | None = None
    first_time: bool | None = None
    prior_case_ids: list[str] = Field(default_factory=list)
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    source: dict[str, Any] = Field(default_factory=dict)
    confidence: dict[str, float] = Field(default_factory=dict)
    needs_review: list[str] = Field(default_factory=list)
    query_code_hash: str | None = Field(default=None, max_length=200)


def save_case(session: Session, payload: Mapping[str, Any], *, pepper: bytes | None = None) -> bool:
    """Store a case from the queue; ``False`` (and no change) if *case_id* is already stored.

    Creates the petitioner, the ``registered`` event and the first deadline.
    Cases routed elsewhere (诉访分离) move to ``routed`` at once, with
    ``route_reason`` as the event note. Safe when two workers race: the
    unique ``case_id`` decides, the loser rolls back its savepoint.

    :param pepper: key for the phone / ID hashes; defaults to ``session.info["pepper"]``.
    :raises pydantic.ValidationError: the payload is not a case.
    """
    data = CaseIn.model_validate(dict(payload))
    if _case_exists(session, data.case_id):
        return False
    pepper = pepper if pepper is not None else session.info.get(PEPPER_KEY)
    if not pepper:
        raise RuntimeError("save_case needs a pepper: use backend.store.make_sessionmaker(settings)")
    try:
        with session.begin_nested():
            _insert_case(session, data, pepper)
    except IntegrityError:
        if _case_exists(session, data.case_id):
            return False
        raise
    return True


def _case_exists(session: Session, case_id: str) -> bool:
    return session.scalar(select(Case.id).where(Case.case_id == case_id)) is not None


def _insert_case(session: Session, data: CaseIn, pepper: bytes) -> None:
    petitioner = _petitioner(data.petitioner, pepper) if data.petitioner else None
    actor = INTAKE_ACTOR
    case = Case(
        case_id=data.case_id,
        schema_version=data.schema_version,
        channel=data.channel,
        channel_user=data.channel_user,
        received_at=data.received_at,
        kind=data.kind,
        category=data.category,
        legal_route=data.legal_route,
        route_reason=data.route_reason,
        respondent=data.respondent,
        occurred=data.occurred,
        location=data.location,
        description=data.description,
        demand=data.demand,
        first_time=data.first_time,
        prior_case_ids=data.prior_case_ids,
        attachments=data.attachments,
        source=data.source,
        confidence=data.confidence,
        needs_review=data.needs_review,
        query_code_hash=data.query_code_hash,
        status=CaseStatus.REGISTERED.value,
        petitioner=petitioner,
        events=[
            CaseEvent(
                at=data.received_at,
                actor=actor,
                from_status=None,
                to_status=CaseStatus.REGISTERED.value,
                note=f"经{CHANNEL_LABELS.get(data.channel, data.channel)}渠道登记",
            )
        ],
    )
    session.add(case)
    if data.legal_route == PETITION_ROUTE:
        _apply_deadlines(case, lifecycle.deadlines_after(CaseStatus.REGISTERED, data.received_at))
    else:
        _record_transition(case, CaseStatus.ROUTED, actor=actor, note=data.route_reason, at=data.received_at)
    session.flush()


def _petitioner(p: PetitionerIn, pepper: bytes) -> Petitioner:
    phone = normalize_phone(p.phone) if p.phone else None
    id_number = normalize_id_number(p.id_number) if p.id_number else None
    return Petitioner(
        name=p.name,
        phone=p.phone,
        id_number=p.id_number,
        address=p.address,
        phone_hash=keyed_hash(pepper, "phone:" + phone) if phone else None,
        id_hash=keyed_hash(pepper, "id:" + id_number) if id_number else None,
    )


def _deadlines(case: Case) -> dict[str, date | None]:
    return {column: getattr(case, column) for column in lifecycle.DEADLINE_COLUMNS}


def _apply_deadlines(case: Case, changes: Mapping[str, date | None]) -> None:
    for column, value in changes.items():
        setattr(case, column, value)


def _record_transition(
    case: Case, target: CaseStatus, *, actor: str, note: str | None, at: datetime
) -> CaseEvent:
    current = lifecycle.to_status(case.status)
    deadlines = _deadlines(case)
    lifecycle.check_transition(current, target, note=note, at=at, deadlines=deadlines)
    event = CaseEvent(case_id=case.case_id, at=at, actor=actor, from_status=current.value,
                      to_status=target.value, note=note)
    case.events.append(event)
    case.status = target.value
    _apply_deadlines(case, lifecycle.deadlines_after(target, at, current=deadlines))
    case.overdue = False
    return event


def transition_case(
    session: Session,
    case_id: str,
    target: CaseStatus | str,
    *,
    actor: str,
    note: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Move a case to *target*, recording the event and new deadlines.

    :raises LookupError: unknown case.
    :raises backend.lifecycle.IllegalTransition: the procedure does not allow it.
    """
    case = session.scalar(select(Case).where(Case.case_id == case_id).with_for_update(of=Case))
    if case is None:
        raise LookupError(case_id)
    _record_transition(case, lifecycle.to_status(target), actor=actor, note=note, at=at or utcnow())
    session.flush()
    return case_to_dict(case)


def flag_overdue(session: Session, now: datetime | None = None) -> list[str]:
    """Flag open cases whose current deadline has passed; returns the newly flagged ids."""
    now = now or utcnow()
    open_values = [s.value for s in lifecycle.OPEN_STATUSES]
    flagged: list[str] = []
    cases = session.scalars(select(Case).where(Case.status.in_(open_values), Case.overdue.is_(False)))
    for case in cases:
        if lifecycle.is_overdue(case.status, _deadlines(case), now):
            flagged.append(case.case_id)
    if flagged:
        session.execute(
            update(Case)
            .where(Case.case_id.in_(flagged))
            .values(overdue=True, overdue_since=now)
            .execution_options(synchronize_session=False)
        )
    return flagged


def get_case(session: Session, case_id: str) -> dict[str, Any] | None:
    """The full case for handlers (petitioner, events, deadlines), or ``None``."""
    case = session.scalar(select(Case).where(Case.case_id == case_id))
    return case_to_dict(case) if case else None


def get_case_row(session: Session, case_id: str) -> Case | None:
    """The ORM row of a case, or ``None``."""
    return session.scalar(select(Case).where(Case.case_id == case_id))


def deadlines_view(case: Case) -> dict[str, Any]:
    """Deadline columns with their statutory basis, plus the one that matters now."""
    stored = _deadlines(case)
    items = {}
    for column, key in lifecycle.DEADLINE_LIMITS.items():
        due = stored[column]
        if due is None:
            continue
        limit = lifecycle.STATUTORY[key]
        items[column] = {"due": due.isoformat(), "days": limit.days, "label": limit.label,
                         "article": limit.article}
    current = lifecycle.current_deadline(case.status, stored)
    return {"items": items, "current": current[0] if current else None}


def case_to_dict(case: Case) -> dict[str, Any]:
    """Serialize a case for the handler API (includes personal data)."""
    status = lifecycle.to_status(case.status)
    p = case.petitioner
    return {
        "case_id": case.case_id,
        "schema_version": case.schema_version,
        "status": status.value,
        "status_label": status.label,
        "channel": case.channel,
        "channel_user": case.channel_user,
        "received_at": _iso(case.received_at),
        "petitioner": (
            {"name": p.name, "phone": p.phone, "id_number": p.id_number, "address": p.address}
            if p else None
        ),
        "kind": case.kind,
        "category": case.category,
        "legal_route": case.legal_route,
        "route_reason": case.route_reason,
        "respondent": case.respondent,
        "occurred": case.occurred,
        "location": case.location,
        "description": case.description,
        "demand": case.demand,
        "first_time": case.first_time,
        "prior_case_ids": case.prior_case_ids,
        "attachments": case.attachments,
        "source": case.source,
        "confidence": case.confidence,
        "needs_review": case.needs_review,
        "deadlines": deadlines_view(case),
        "overdue": case.overdue,
        "overdue_since": _iso(case.overdue_since),
        "events": [
            {
                "at": _iso(e.at),
                "actor": e.actor,
                "from_status": e.from_status,
                "to_status": e.to_status,
                "note": e.note,
            }
            for e in case.events
        ],
        "created_at": _iso(case.created_at),
        "updated_at": _iso(case.updated_at),
    }


def _iso(at: datetime | None) -> str | None:
    """ISO 8601 in China Standard Time, as handlers read it."""
    return at.astimezone(lifecycle.OFFICE_TZ).isoformat() if at else None


NEXT_STEP_OPEN = "您的信访事项正在依法办理中，请留意办理期限和后续告知。"
NEXT_STEP_ROUTED = "您反映的事项应通过其他法定途径解决：{reason}"
NEXT_STEP_CONCLUDED = (
    "如对处理意见不服，可自收到书面答复之日起{days}日内（{due}前）请求原办理机关的上一级机关复查（{article}）。"
)
NEXT_STEP_REVIEWED = (
    "如对复查意见不服，可自收到书面答复之日起{days}日内（{due}前）向复查机关的上一级机关请求复核（{article}）。"
)
NEXT_STEP_RECHECKED = "复核意见为最终处理意见；以同一事实和理由再次提出的，不再受理（{article}）。"
NEXT_STEP_WITHDRAWN = "您已撤回该信访事项。"


def progress_view(case: Case) -> dict[str, Any]:
    """What a citizen may see of a case (contract §7): no personal data, no staff notes."""
    status = lifecycle.to_status(case.status)
    stored = _deadlines(case)
    current = lifecycle.current_deadline(status, stored)
    next_deadline = None
    if current:
        limit = lifecycle.STATUTORY[lifecycle.DEADLINE_LIMITS[current[0]]]
        next_deadline = {"label": limit.label, "due": current[1].isoformat(), "article": limit.article}
    return {
        "case_id": case.case_id,
        "status": status.value,
        "status_label": status.label,
        "steps": [
            {
                "status": e.to_status,
                "status_label": lifecycle.to_status(e.to_status).label,
                "date": lifecycle.office_date(e.at).isoformat(),
            }
            for e in case.events
        ],
        "next_deadline": next_deadline,
        "next_step": _next_step(status, case, stored),
    }


def _next_step(status: CaseStatus, case: Case, stored: Mapping[str, date | None]) -> str:
    def window(template: str, column: str) -> str:
        limit = lifecycle.STATUTORY[lifecycle.DEADLINE_LIMITS[column]]
        due = stored.get(column)
        return template.format(days=limit.days, due=due.isoformat() if due else "", article=limit.article)

    if status is CaseStatus.ROUTED:
        return NEXT_STEP_ROUTED.format(reason=case.route_reason or "请向有权处理的机关提出。")
    if status is CaseStatus.CONCLUDED:
        return window(NEXT_STEP_CONCLUDED, "review_request_due")
    if status is CaseStatus.REVIEWED:
        return window(NEXT_STEP_REVIEWED, "recheck_request_due")
    if status is CaseStatus.RECHECKED:
        return NEXT_STEP_RECHECKED.format(article=lifecycle.STATUTORY["recheck_decision"].article)
    if status is CaseStatus.WITHDRAWN:
        return NEXT_STEP_WITHDRAWN
    return NEXT_STEP_OPEN
