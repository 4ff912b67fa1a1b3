"""Case statuses, allowed transitions and the statutory clock (contract §6).

Pure functions, no I/O. Every statutory number lives in :data:`STATUTORY`.

Periods are counted in calendar days in China Standard Time: the day of the
triggering act is not counted, and the due date is the last day on which
the act is on time. The regulation says "日"; whether working days are meant
is not settled (see /work/shared/reference/regulations.md), so holidays are
not skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from enum import Enum

#: China Standard Time has no daylight saving: a fixed offset is exact.
OFFICE_TZ = timezone(timedelta(hours=8), "Asia/Shanghai")


class CaseStatus(str, Enum):
    """Where a case stands in the petition procedure."""

    #: 已登记: received and recorded
    REGISTERED = "registered"
    #: 已受理
    ACCEPTED = "accepted"
    #: 已导入其他法定途径 (诉访分离): not a petition matter, explained to the citizen
    ROUTED = "routed"
    #: 已转送/交办 to the competent organ
    FORWARDED = "forwarded"
    #: 办理中
    IN_PROGRESS = "in_progress"
    #: 已延期 (at most once, with a reason)
    EXTENDED = "extended"
    #: 已办结: 处理意见书 issued
    CONCLUDED = "concluded"
    #: 已申请复查
    REVIEW_REQUESTED = "review_requested"
    #: 已出具复查意见
    REVIEWED = "reviewed"
    #: 已申请复核
    RECHECK_REQUESTED = "recheck_requested"
    #: 已出具复核意见 (final)
    RECHECKED = "rechecked"
    #: 已撤回
    WITHDRAWN = "withdrawn"

    @property
    def label(self) -> str:
        """Chinese name shown to citizens and handlers."""
        return STATUS_LABELS[self]


STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.REGISTERED: "已登记",
    CaseStatus.ACCEPTED: "已受理",
    CaseStatus.ROUTED: "已导入其他法定途径",
    CaseStatus.FORWARDED: "已转送/交办",
    CaseStatus.IN_PROGRESS: "办理中",
    CaseStatus.EXTENDED: "已延期",
    CaseStatus.CONCLUDED: "已办结",
    CaseStatus.REVIEW_REQUESTED: "已申请复查",
    CaseStatus.REVIEWED: "已出具复查意见",
    CaseStatus.RECHECK_REQUESTED: "已申请复核",
    CaseStatus.RECHECKED: "已出具复核意见",
    CaseStatus.WITHDRAWN: "已撤回",
}

#: an organ still owes the citizen an act; the citizen may withdraw
OPEN_STATUSES = frozenset(
    {
        CaseStatus.REGISTERED,
        CaseStatus.ACCEPTED,
        CaseStatus.FORWARDED,
        CaseStatus.IN_PROGRESS,
        CaseStatus.EXTENDED,
        CaseStatus.REVIEW_REQUESTED,
        CaseStatus.RECHECK_REQUESTED,
    }
)
#: an answer was given; the citizen may ask for the next instance in time
ANSWERED_STATUSES = frozenset({CaseStatus.CONCLUDED, CaseStatus.REVIEWED})
#: nothing can follow
FINAL_STATUSES = frozenset({CaseStatus.ROUTED, CaseStatus.RECHECKED, CaseStatus.WITHDRAWN})
#: the organ answers in writing (处理/复查/复核意见书) and states an opinion (第32条)
ANSWERING_STATUSES = frozenset({CaseStatus.CONCLUDED, CaseStatus.REVIEWED, CaseStatus.RECHECKED})
#: the status an organ's written answer moves a case to, from the status it answers
ANSWER_FOR: dict[CaseStatus, CaseStatus] = {
    CaseStatus.IN_PROGRESS: CaseStatus.CONCLUDED,
    CaseStatus.EXTENDED: CaseStatus.CONCLUDED,
    CaseStatus.REVIEW_REQUESTED: CaseStatus.REVIEWED,
    CaseStatus.RECHECK_REQUESTED: CaseStatus.RECHECKED,
}
#: what a citizen may ask for after an answer (第35/36条)
CITIZEN_REQUESTS: dict[str, CaseStatus] = {
    "review": CaseStatus.REVIEW_REQUESTED,
    "recheck": CaseStatus.RECHECK_REQUESTED,
}


class Opinion(str, Enum):
    """The decision of a 处理/复查/复核意见书 (第32条)."""

    #: 予以支持
    SUPPORT = "support"
    #: 解释说明
    EXPLAIN = "explain"
    #: 不予支持
    REJECT = "reject"

    @property
    def label(self) -> str:
        """Chinese name shown to citizens and handlers."""
        return OPINION_LABELS[self]


OPINION_LABELS: dict[Opinion, str] = {
    Opinion.SUPPORT: "支持",
    Opinion.EXPLAIN: "解释说明",
    Opinion.REJECT: "不予支持",
}

#: satisfaction ratings (条例第21条第2款) and how they are stored
RATINGS: dict[str, int] = {"satisfied": 2, "basically_satisfied": 1, "unsatisfied": 0}
RATING_LABELS: dict[str, str] = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意"}

ALLOWED: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.REGISTERED: frozenset({CaseStatus.ACCEPTED, CaseStatus.ROUTED, CaseStatus.FORWARDED}),
    CaseStatus.FORWARDED: frozenset({CaseStatus.ACCEPTED}),
    CaseStatus.ACCEPTED: frozenset({CaseStatus.IN_PROGRESS}),
    CaseStatus.IN_PROGRESS: frozenset({CaseStatus.EXTENDED, CaseStatus.CONCLUDED}),
    CaseStatus.EXTENDED: frozenset({CaseStatus.CONCLUDED}),
    CaseStatus.CONCLUDED: frozenset({CaseStatus.REVIEW_REQUESTED}),
    CaseStatus.REVIEW_REQUESTED: frozenset({CaseStatus.REVIEWED}),
    CaseStatus.REVIEWED: frozenset({CaseStatus.RECHECK_REQUESTED}),
    CaseStatus.RECHECK_REQUESTED: frozenset({CaseStatus.RECHECKED}),
    CaseStatus.ROUTED: frozenset(),
    CaseStatus.RECHECKED: frozenset(),
    CaseStatus.WITHDRAWN: frozenset(),
}
for _status in OPEN_STATUSES:
    ALLOWED[_status] = ALLOWED[_status] | {CaseStatus.WITHDRAWN}


@dataclass(frozen=True)
class StatutoryLimit:
    """One period of the statutory clock."""

    days: int
    article: str
    label: str


#: 《信访工作条例》(2022): the only place statutory numbers are written down.
STATUTORY: dict[str, StatutoryLimit] = {
    "acceptance": StatutoryLimit(15, "《信访工作条例》第二十二条、第二十三条", "受理告知期限"),
    "conclusion": StatutoryLimit(60, "《信访工作条例》第三十四条", "办理期限"),
    "extension": StatutoryLimit(30, "《信访工作条例》第三十四条", "延长办理期限"),
    "review_request": StatutoryLimit(30, "《信访工作条例》第三十五条", "申请复查期限"),
    "review_decision": StatutoryLimit(30, "《信访工作条例》第三十五条", "复查期限"),
    "recheck_request": StatutoryLimit(30, "《信访工作条例》第三十六条", "申请复核期限"),
    "recheck_decision": StatutoryLimit(30, "《信访工作条例》第三十六条", "复核期限"),
}

#: deadline column -> the statutory period it is computed from
DEADLINE_LIMITS: dict[str, str] = {
    "acceptance_due": "acceptance",
    "conclusion_due": "conclusion",
    "review_request_due": "review_request",
    "review_due": "review_decision",
    "recheck_request_due": "recheck_request",
    "recheck_due": "recheck_decision",
}
DEADLINE_COLUMNS = tuple(DEADLINE_LIMITS)

#: the deadline that matters while a case is in a status
CURRENT_DEADLINE: dict[CaseStatus, str] = {
    CaseStatus.REGISTERED: "acceptance_due",
    CaseStatus.FORWARDED: "acceptance_due",
    CaseStatus.ACCEPTED: "conclusion_due",
    CaseStatus.IN_PROGRESS: "conclusion_due",
    CaseStatus.EXTENDED: "conclusion_due",
    CaseStatus.CONCLUDED: "review_request_due",
    CaseStatus.REVIEW_REQUESTED: "review_due",
    CaseStatus.REVIEWED: "recheck_request_due",
    CaseStatus.RECHECK_REQUESTED: "recheck_due",
}

#: articles cited when a repeat petition is linked to an earlier case
REPEAT_PENDING_ARTICLE = "《信访工作条例》第十九条第三款"
REPEAT_AFTER_RECHECK_ARTICLE = "《信访工作条例》第三十六条第三款"

NO_SUCH_TRANSITION = "信访事项当前状态为「{current}」，不能变更为「{target}」。"
FINAL_STATUS = "信访事项已处于「{current}」状态，程序已经终结，不能再变更。"
RECHECK_IS_FINAL = (
    "复核意见为最终处理意见；信访人仍以同一事实和理由提出投诉请求的，不再受理（{article}）。"
)
EXTENSION_NEEDS_REASON = "延长办理期限须写明延期理由并告知信访人（{article}）。"
WINDOW_PASSED = "{what}应在{days}日内提出（{article}），期限已于{due}届满，不能再申请。"


class IllegalTransition(ValueError):
    """A status change the procedure does not allow; the message says why."""


def to_status(value: CaseStatus | str) -> CaseStatus:
    """Coerce a stored status string to :class:`CaseStatus`."""
    return value if isinstance(value, CaseStatus) else CaseStatus(value)


def office_date(at: datetime) -> date:
    """The calendar date of *at* in China Standard Time (naive means UTC)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=timezone.utc)
    return at.astimezone(OFFICE_TZ).date()


def add_period(start: date, key: str) -> date:
    """The due date of statutory period *key* starting on *start*."""
    return start + timedelta(days=STATUTORY[key].days)


def check_transition(
    current: CaseStatus | str,
    target: CaseStatus | str,
    *,
    note: str | None = None,
    at: datetime | None = None,
    deadlines: Mapping[str, date | None] | None = None,
) -> None:
    """Raise :class:`IllegalTransition` unless *current* may become *target*.

    :param note: the reason recorded with the event (required for an extension).
    :param at: when the change happens (checked against request windows).
    :param deadlines: the case's stored deadline columns.
    """
    current, target = to_status(current), to_status(target)
    if current is CaseStatus.RECHECKED:
        raise IllegalTransition(RECHECK_IS_FINAL.format(article=STATUTORY["recheck_decision"].article))
    if current in FINAL_STATUSES:
        raise IllegalTransition(FINAL_STATUS.format(current=current.label))
    if target not in ALLOWED[current]:
        raise IllegalTransition(NO_SUCH_TRANSITION.format(current=current.label, target=target.label))
    if target is CaseStatus.EXTENDED and not (note or "").strip():
        raise IllegalTransition(EXTENSION_NEEDS_REASON.format(article=STATUTORY["extension"].article))
    windows = {
        CaseStatus.REVIEW_REQUESTED: ("复查申请", "review_request_due", "review_request"),
        CaseStatus.RECHECK_REQUESTED: ("复核申请", "recheck_request_due", "recheck_request"),
    }
    if target in windows and at is not None and deadlines:
        what, column, key = windows[target]
        due = deadlines.get(column)
        if due is not None and office_date(at) > due:
            limit = STATUTORY[key]
            raise IllegalTransition(
                WINDOW_PASSED.format(what=what, days=limit.days, article=limit.article, due=due.isoformat())
            )


def deadlines_after(
    status: CaseStatus | str,
    at: datetime,
    *,
    current: Mapping[str, date | None] | None = None,
) -> dict[str, date | None]:
    """Deadline columns that change when a case enters *status* at *at*.

    An extension adds its period to the running conclusion deadline.
    """
    status = to_status(status)
    start = office_date(at)
    if status is CaseStatus.REGISTERED:
        return {"acceptance_due": add_period(start, "acceptance")}
    if status is CaseStatus.ACCEPTED:
        return {"conclusion_due": add_period(start, "conclusion")}
    if status is CaseStatus.EXTENDED:
        running = (current or {}).get("conclusion_due") or add_period(start, "conclusion")
        return {"conclusion_due": add_period(running, "extension")}
    if status is CaseStatus.CONCLUDED:
        return {"review_request_due": add_period(start, "review_request")}
    if status is CaseStatus.REVIEW_REQUESTED:
        return {"review_due": add_period(start, "review_decision")}
    if status is CaseStatus.REVIEWED:
        return {"recheck_request_due": add_period(start, "recheck_request")}
    if status is CaseStatus.RECHECK_REQUESTED:
        return {"recheck_due": add_period(start, "recheck_decision")}
    return {}


def current_deadline(
    status: CaseStatus | str, deadlines: Mapping[str, date | None]
) -> tuple[str, date] | None:
    """The deadline column that matters in *status* and its date, if any."""
    column = CURRENT_DEADLINE.get(to_status(status))
    due = deadlines.get(column) if column else None
    return (column, due) if column and due else None


def is_overdue(status: CaseStatus | str, deadlines: Mapping[str, date | None], now: datetime) -> bool:
    """True when an organ's deadline for an open case has passed."""
    status = to_status(status)
    if status not in OPEN_STATUSES:
        return False
    found = current_deadline(status, deadlines)
    return found is not None and office_date(now) > found[1]
