"""Reading and writing cases. Functions take a Session; callers own the transaction."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from backend import lifecycle
from backend.lifecycle import CaseStatus, Opinion
from backend.notify.messages import status_change_message
from backend.security import keyed_hash, normalize_id_number, normalize_phone
from backend.store import outbox, repeats
from backend.store.db import PEPPER_KEY
from backend.store.models import Case, CaseEvent, Evaluation, Petitioner, SupervisionItem, utcnow

PETITION_ROUTE = "petition"
INTAKE_ACTOR = "system:intake"
CITIZEN_ACTOR = "citizen"
OPINION_ONLY_WITH_ANSWER = "处理意见只能在办结、出具复查意见或复核意见时记录，不能随「{target}」记录。"
REPEAT_LINK_NOTE = "重信重访：与此前信访事项{ids}内容相似，已关联。"
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
    note = f"经{CHANNEL_LABELS.get(data.channel, data.channel)}渠道登记"
    prior = repeats.find_prior_cases(
        session,
        phone_hash=petitioner.phone_hash if petitioner else None,
        id_hash=petitioner.id_hash if petitioner else None,
        text=repeats.matter_text(data.description, data.respondent),
        exclude_case_id=data.case_id,
    )
    notice = repeats.repeat_notice(prior, lifecycle.office_date(data.received_at)) if prior else None
    if prior:
        data.first_time = False
        data.prior_case_ids = list(dict.fromkeys([*data.prior_case_ids, *(m.case_id for m in prior)]))
        note = "；".join(
            [note, REPEAT_LINK_NOTE.format(ids="、".join(m.case_id for m in prior)), *([notice] if notice else [])]
        )
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
                note=note,
            )
        ],
    )
    session.add(case)
    if notice:
        outbox.add_notification(session, case, notice, kind="repeat_notice")
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
    case: Case, target: CaseStatus, *, actor: str, note: str | None, at: datetime,
    opinion: Opinion | None = None,
) -> CaseEvent:
    current = lifecycle.to_status(case.status)
    deadlines = _deadlines(case)
    lifecycle.check_transition(current, target, note=note, at=at, deadlines=deadlines)
    if opinion is not None and target not in lifecycle.ANSWERING_STATUSES:
        raise lifecycle.IllegalTransition(OPINION_ONLY_WITH_ANSWER.format(target=target.label))
    event = CaseEvent(case_id=case.case_id, at=at, actor=actor, from_status=current.value,
                      to_status=target.value, note=note, opinion=opinion.value if opinion else None)
    case.events.append(event)
    case.status = target.value
    _apply_deadlines(case, lifecycle.deadlines_after(target, at, current=deadlines))
    case.overdue = False
    session = object_session(case)
    if session is not None:
        _resolve_supervision(session, case.case_id, at)
        if actor != INTAKE_ACTOR:  # the conversation has just told the citizen
            message = status_change_message(
                case_id=case.case_id, status=target, on=lifecycle.office_date(at),
                deadline=lifecycle.current_deadline(target, _deadlines(case)), note=note, opinion=opinion,
            )
            outbox.add_notification(session, case, message)
    return event


def _resolve_supervision(session: Session, case_id: str, at: datetime) -> None:
    session.execute(
        update(SupervisionItem)
        .where(SupervisionItem.case_id == case_id, SupervisionItem.resolved_at.is_(None))
        .values(resolved_at=at)
        .execution_options(synchronize_session=False)
    )


def transition_case(
    session: Session,
    case_id: str,
    target: CaseStatus | str,
    *,
    actor: str,
    note: str | None = None,
    at: datetime | None = None,
    opinion: Opinion | str | None = None,
) -> dict[str, Any]:
    """Move a case to *target*, recording the event, new deadlines and the citizen's notification.

    :param opinion: the decision of the written answer (only with concluded/reviewed/rechecked).
    :raises LookupError: unknown case.
    :raises backend.lifecycle.IllegalTransition: the procedure does not allow it.
    """
    case = _lock_case(session, case_id)
    if case is None:
        raise LookupError(case_id)
    _record_transition(case, lifecycle.to_status(target), actor=actor, note=note, at=at or utcnow(),
                       opinion=Opinion(opinion) if opinion else None)
    session.flush()
    return case_to_dict(case)


def _lock_case(session: Session, case_id: str) -> Case | None:
    return session.scalar(select(Case).where(Case.case_id == case_id).with_for_update(of=Case))


def flag_overdue(session: Session, now: datetime | None = None) -> list[str]:
    """Flag open cases whose current deadline has passed and put them on the supervision list.

    Each crossing is recorded once: the conditional update decides, so two
    supervision jobs at once never flag a case twice. Returns the newly flagged ids.
    """
    now = now or utcnow()
    open_values = [s.value for s in lifecycle.OPEN_STATUSES]
    flagged: list[str] = []
    cases = session.scalars(
        select(Case).where(Case.status.in_(open_values), Case.overdue.is_(False)).order_by(Case.id)
    ).unique().all()
    for case in cases:
        deadlines = _deadlines(case)
        if not lifecycle.is_overdue(case.status, deadlines, now):
            continue
        claimed = session.execute(
            update(Case)
            .where(Case.id == case.id, Case.overdue.is_(False), Case.status == case.status)
            .values(overdue=True, overdue_since=now)
            .execution_options(synchronize_session=False)
        )
        if not claimed.rowcount:
            continue
        column, due = lifecycle.current_deadline(case.status, deadlines)  # type: ignore[misc]
        session.add(SupervisionItem(case_id=case.case_id, status=case.status, deadline=column, due=due,
                                    flagged_at=now))
        flagged.append(case.case_id)
    session.flush()
    return flagged


def supervision_list(session: Session, *, include_resolved: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """The supervision list (督办): overdue episodes, open ones first, oldest deadline first."""
    query = select(SupervisionItem, Case).join(Case, Case.case_id == SupervisionItem.case_id)
    if not include_resolved:
        query = query.where(SupervisionItem.resolved_at.is_(None))
    query = query.order_by(SupervisionItem.resolved_at.is_not(None), SupervisionItem.due, SupervisionItem.id)
    items = []
    for item, case in session.execute(query.limit(limit)).unique():
        limit_ = lifecycle.STATUTORY[lifecycle.DEADLINE_LIMITS[item.deadline]]
        end = lifecycle.office_date(item.resolved_at) if item.resolved_at else lifecycle.office_date(utcnow())
        items.append({
            "case_id": item.case_id,
            "status": case.status,
            "status_label": lifecycle.to_status(case.status).label,
            "status_when_flagged": item.status,
            "category": case.category,
            "deadline": item.deadline,
            "deadline_label": limit_.label,
            "article": limit_.article,
            "due": item.due.isoformat(),
            "days_overdue": max((end - item.due).days, 0),
            "flagged_at": _iso(item.flagged_at),
            "resolved_at": _iso(item.resolved_at),
        })
    return items


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
                "opinion": e.opinion,
            }
            for e in case.events
        ],
        "opinion": _latest_opinion(case),
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
                **({"opinion": e.opinion, "opinion_label": Opinion(e.opinion).label} if e.opinion else {}),
            }
            for e in case.events
        ],
        "next_deadline": next_deadline,
        "next_step": _next_step(status, case, stored),
        "may_evaluate": _answered_step(case) is not None,
        "may_request": _may_request(status, stored),
    }


def _latest_opinion(case: Case) -> str | None:
    answers = [e.opinion for e in case.events if e.opinion]
    return answers[-1] if answers else None


def _answered_step(case: Case) -> str | None:
    """The latest answering status of *case* (what an evaluation rates), if any."""
    answers = [e.to_status for e in case.events if lifecycle.to_status(e.to_status) in lifecycle.ANSWERING_STATUSES]
    return answers[-1] if answers else None


def _may_request(status: CaseStatus, stored: Mapping[str, date | None], now: datetime | None = None) -> str | None:
    """``review`` or ``recheck`` when the citizen may still ask for it today, else ``None``."""
    for kind, target in lifecycle.CITIZEN_REQUESTS.items():
        if target in lifecycle.ALLOWED[status]:
            column = lifecycle.CURRENT_DEADLINE[status]
            due = stored.get(column)
            if due is None or lifecycle.office_date(now or utcnow()) <= due:
                return kind
    return None


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


# -- handlers' list --------------------------------------------------------------

def mask_name(name: str | None) -> str | None:
    """``李秀英`` → ``李**``: enough for a handler to recognise a row, no more."""
    if not name:
        return None
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str | None) -> str | None:
    """``13800138000`` → ``138****8000``; short numbers keep only their last two digits."""
    if not phone:
        return None
    digits = normalize_phone(phone)
    if len(digits) >= 7:
        return f"{digits[:3]}****{digits[-4:]}"
    return "*" * max(len(digits) - 2, 1) + digits[-2:]


def case_row(case: Case) -> dict[str, Any]:
    """A case as a list row: status, clock and masked contact details, no full personal data."""
    status = lifecycle.to_status(case.status)
    current = lifecycle.current_deadline(status, _deadlines(case))
    p = case.petitioner
    return {
        "case_id": case.case_id,
        "status": status.value,
        "status_label": status.label,
        "channel": case.channel,
        "received_at": _iso(case.received_at),
        "kind": case.kind,
        "category": case.category,
        "legal_route": case.legal_route,
        "respondent": case.respondent,
        "petitioner": {"name": mask_name(p.name), "phone": mask_phone(p.phone)} if p else None,
        "first_time": case.first_time,
        "prior_case_ids": case.prior_case_ids,
        "current_deadline": {"deadline": current[0], "due": current[1].isoformat()} if current else None,
        "overdue": case.overdue,
        "needs_review": case.needs_review,
    }


def list_cases(
    session: Session,
    *,
    statuses: list[str] | None = None,
    legal_route: str | None = None,
    category: str | None = None,
    overdue: bool | None = None,
    limit: int = 50,
    after_id: int | None = None,
) -> tuple[list[dict[str, Any]], int | None]:
    """Cases newest first, filtered; returns the rows and the id to continue after (or ``None``)."""
    query = select(Case).order_by(Case.id.desc())
    if statuses:
        query = query.where(Case.status.in_(statuses))
    if legal_route:
        query = query.where(Case.legal_route == legal_route)
    if category:
        query = query.where(Case.category == category)
    if overdue is not None:
        query = query.where(Case.overdue.is_(overdue))
    if after_id is not None:
        query = query.where(Case.id < after_id)
    rows = session.scalars(query.limit(limit + 1)).unique().all()
    more = len(rows) > limit
    rows = rows[:limit]
    return [case_row(c) for c in rows], (rows[-1].id if more and rows else None)


def answer_case(
    session: Session, case_id: str, opinion: Opinion | str, *, actor: str, note: str | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """Record the written answer (处理/复查/复核意见) of the step a case awaits.

    :raises LookupError: unknown case.
    :raises backend.lifecycle.IllegalTransition: the case awaits no answer.
    """
    case = _lock_case(session, case_id)
    if case is None:
        raise LookupError(case_id)
    status = lifecycle.to_status(case.status)
    target = lifecycle.ANSWER_FOR.get(status)
    if target is None:
        raise lifecycle.IllegalTransition(NOTHING_TO_ANSWER.format(current=status.label))
    _record_transition(case, target, actor=actor, note=note, at=at or utcnow(), opinion=Opinion(opinion))
    session.flush()
    return case_to_dict(case)


NOTHING_TO_ANSWER = "信访事项当前状态为「{current}」，没有待出具的处理意见。"


# -- what citizens do after an answer ----------------------------------------------

class CitizenRefusal(ValueError):
    """A citizen's request the procedure does not allow; the message says why, in Chinese."""


NOT_ANSWERED_YET = "该信访事项尚未办结，办结后可以进行评价。"
ALREADY_EVALUATED = "您已对本次处理意见作出评价，感谢您的反馈。"
UNKNOWN_RATING = "评价应为满意、基本满意或不满意。"
REASON_NEEDED = "请说明申请{what}的理由。"
REQUEST_WHAT = {"review": "复查", "recheck": "复核"}
NOT_YET = {
    "review": "该信访事项目前为「{current}」。复查应在收到处理意见书后申请；办结后才能申请复查（《信访工作条例》第三十五条）。",
    "recheck": "该信访事项目前为「{current}」。复核应在收到复查意见后申请（《信访工作条例》第三十六条）。",
}


def record_evaluation(
    session: Session, case: Case, rating: str, comment: str | None = None, *, at: datetime | None = None
) -> dict[str, Any]:
    """Store a satisfaction rating of the latest answer of *case*, once per answer.

    :raises CitizenRefusal: nothing answered yet, already rated, or an unknown rating.
    """
    if rating not in lifecycle.RATINGS:
        raise CitizenRefusal(UNKNOWN_RATING)
    step = _answered_step(case)
    if step is None:
        raise CitizenRefusal(NOT_ANSWERED_YET)
    exists = session.scalar(
        select(func.count()).select_from(Evaluation).where(Evaluation.case_id == case.case_id, Evaluation.step == step)
    )
    if exists:
        raise CitizenRefusal(ALREADY_EVALUATED)
    try:
        with session.begin_nested():
            session.add(Evaluation(case_id=case.case_id, rating=lifecycle.RATINGS[rating],
                                   comment=(comment or "").strip() or None, step=step, at=at or utcnow()))
    except IntegrityError as exc:  # a concurrent rating of the same answer won
        raise CitizenRefusal(ALREADY_EVALUATED) from exc
    return {"case_id": case.case_id, "step": step, "rating": rating,
            "rating_label": lifecycle.RATING_LABELS[rating]}


def request_next_instance(
    session: Session, case_id: str, kind: str, reason: str, *, at: datetime | None = None
) -> dict[str, Any]:
    """A citizen asks for 复查 (``review``) or 复核 (``recheck``) within the statutory window.

    :raises LookupError: unknown case.
    :raises CitizenRefusal: no reason given or an unknown kind.
    :raises backend.lifecycle.IllegalTransition: out of order, too late, or after 复核 (第36条).
    """
    target = lifecycle.CITIZEN_REQUESTS.get(kind)
    if target is None:
        raise CitizenRefusal("申请类型应为复查或复核。")
    if not (reason or "").strip():
        raise CitizenRefusal(REASON_NEEDED.format(what=REQUEST_WHAT[kind]))
    case = get_case_row(session, case_id)
    if case is None:
        raise LookupError(case_id)
    status = lifecycle.to_status(case.status)
    if status not in lifecycle.FINAL_STATUSES and target not in lifecycle.ALLOWED[status]:
        raise CitizenRefusal(NOT_YET[kind].format(current=status.label))
    transition_case(session, case_id, target, actor=CITIZEN_ACTOR, note=reason.strip(), at=at)
    case = get_case_row(session, case_id)
    assert case is not None
    return progress_view(case)


def progress_for_channel_user(session: Session, channel: str, user: str, *, limit: int = 20) -> list[dict[str, Any]]:
    """Progress views of the cases filed from one channel identity (WeChat openid), newest first."""
    rows = session.scalars(
        select(Case).where(Case.channel == channel, Case.channel_user == user)
        .order_by(Case.received_at.desc(), Case.id.desc()).limit(limit)
    ).unique().all()
    return [progress_view(c) for c in rows]
