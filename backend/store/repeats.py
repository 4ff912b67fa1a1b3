"""Repeat petitions (重信重访): the same person about a similar matter.

The person is matched by the keyed hashes of phone and ID number kept in
``petitioners`` (never by name); the matter by the Jaccard similarity of the
character bigrams of ``description`` + ``respondent``. Chinese needs no word
segmentation for this: two accounts of the same unpaid wages share most of
their bigrams ("拖欠", "工资", "建筑"), different matters share few.

:data:`SIMILARITY_THRESHOLD` (0.3) was chosen on the examples in
``tests/backend/test_repeat_petitions.py``: a retelling of the same matter in
other words scores 0.35–0.6, a different matter of the same person below 0.1.
A link only informs (first_time, prior_case_ids, a notice); it refuses
nothing, so a false link costs a handler a glance, a missed one costs the
citizen a notice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from backend import lifecycle
from backend.lifecycle import CaseStatus
from backend.store.models import Case, Petitioner

#: bigram Jaccard similarity from which two matters count as the same
SIMILARITY_THRESHOLD = 0.3
#: earlier cases of one person compared at most (newest first)
MAX_CANDIDATES = 50

_NOT_TEXT = re.compile(r"[\W_]+", re.UNICODE)

PENDING_NOTICE = (
    "您此前反映的同一事项（编号{prior}）正在办理期限内（{label}至{due}）。"
    "按照{article}，同一事项在规定期限内向上级机关提出的，上级机关不予受理。"
    "本次反映已与原事项关联登记，请等待原事项的处理结果。"
)
AFTER_RECHECK_NOTICE = (
    "您此前反映的同一事项（编号{prior}）已出具复核意见，复核意见为最终处理意见。"
    "按照{article}，以同一事实和理由再次提出投诉请求的，不再受理。"
    "如有新的事实和理由，请具体说明。"
)


@dataclass(frozen=True)
class PriorMatch:
    """An earlier case of the same petitioner about a similar matter."""

    case_id: str
    status: CaseStatus
    similarity: float
    deadline: tuple[str, date] | None


def bigrams(text: str) -> frozenset[str]:
    """Character bigrams of *text* without punctuation or spaces (one character: itself)."""
    chunks = [c for c in _NOT_TEXT.split(text.lower()) if c]
    grams: set[str] = set()
    for chunk in chunks:
        if len(chunk) == 1:
            grams.add(chunk)
        grams.update(chunk[i : i + 2] for i in range(len(chunk) - 1))
    return frozenset(grams)


def similarity(a: str, b: str) -> float:
    """Jaccard similarity of the bigram sets of *a* and *b* (0.0 when either is empty)."""
    x, y = bigrams(a), bigrams(b)
    if not x or not y:
        return 0.0
    return len(x & y) / len(x | y)


def matter_text(description: str | None, respondent: str | None) -> str:
    """The text a matter is compared by."""
    return f"{description or ''} {respondent or ''}".strip()


def find_prior_cases(
    session: Session,
    *,
    phone_hash: str | None,
    id_hash: str | None,
    text: str,
    exclude_case_id: str,
    threshold: float = SIMILARITY_THRESHOLD,
) -> list[PriorMatch]:
    """Earlier cases of the person with these hashes about a similar matter, oldest first."""
    same_person = [c for c in (
        Petitioner.phone_hash == phone_hash if phone_hash else None,
        Petitioner.id_hash == id_hash if id_hash else None,
    ) if c is not None]
    if not same_person or not text:
        return []
    rows = session.scalars(
        select(Case)
        .join(Petitioner, Case.petitioner_id == Petitioner.id)
        .where(or_(*same_person), Case.case_id != exclude_case_id)
        .order_by(Case.received_at.desc())
        .limit(MAX_CANDIDATES)
    ).unique()
    found = []
    for case in rows:
        score = similarity(text, matter_text(case.description, case.respondent))
        if score >= threshold:
            deadlines = {c: getattr(case, c) for c in lifecycle.DEADLINE_COLUMNS}
            status = lifecycle.to_status(case.status)
            found.append(PriorMatch(case.case_id, status, score, lifecycle.current_deadline(status, deadlines)))
    return sorted(found, key=lambda m: m.case_id)


def repeat_notice(prior: list[PriorMatch], at: date) -> str | None:
    """What the citizen is told about the earlier cases, or ``None`` when nothing applies.

    An earlier case finished after 复核 (第36条第3款) comes first; else an
    earlier case still open within its time limit (第19条第3款).
    """
    for match in prior:
        if match.status is CaseStatus.RECHECKED:
            return AFTER_RECHECK_NOTICE.format(
                prior=match.case_id, article=lifecycle.REPEAT_AFTER_RECHECK_ARTICLE
            )
    for match in prior:
        if match.status in lifecycle.OPEN_STATUSES and match.deadline and at <= match.deadline[1]:
            column, due = match.deadline
            limit = lifecycle.STATUTORY[lifecycle.DEADLINE_LIMITS[column]]
            return PENDING_NOTICE.format(
                prior=match.case_id, label=limit.label, due=f"{due.year}年{due.month}月{due.day}日",
                article=lifecycle.REPEAT_PENDING_ARTICLE,
            )
    return None
