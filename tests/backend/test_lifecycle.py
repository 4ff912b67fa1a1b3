"""The procedure of 《信访工作条例》 as pure rules: who may move where, and by when."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from backend.lifecycle import (
    ALLOWED,
    FINAL_STATUSES,
    OPEN_STATUSES,
    STATUTORY,
    CaseStatus,
    IllegalTransition,
    check_transition,
    current_deadline,
    deadlines_after,
    is_overdue,
)

CST = timezone(timedelta(hours=8))
LEGAL = [(a, b) for a, targets in ALLOWED.items() for b in sorted(targets, key=lambda s: s.value)]


@pytest.mark.parametrize(("current", "target"), LEGAL, ids=[f"{a.value}->{b.value}" for a, b in LEGAL])
def test_every_transition_of_the_procedure_is_allowed(current: CaseStatus, target: CaseStatus) -> None:
    check_transition(current, target, note="经负责人批准延期：需现场核查")


def test_the_procedure_in_contract_order_is_walkable() -> None:
    path = [
        CaseStatus.REGISTERED, CaseStatus.ACCEPTED, CaseStatus.IN_PROGRESS, CaseStatus.EXTENDED,
        CaseStatus.CONCLUDED, CaseStatus.REVIEW_REQUESTED, CaseStatus.REVIEWED,
        CaseStatus.RECHECK_REQUESTED, CaseStatus.RECHECKED,
    ]
    for current, target in zip(path, path[1:]):
        assert target in ALLOWED[current]


@pytest.mark.parametrize(
    ("current", "target"),
    [
        (CaseStatus.REGISTERED, CaseStatus.CONCLUDED),
        (CaseStatus.REGISTERED, CaseStatus.IN_PROGRESS),
        (CaseStatus.ACCEPTED, CaseStatus.REGISTERED),
        (CaseStatus.IN_PROGRESS, CaseStatus.REVIEWED),
        (CaseStatus.EXTENDED, CaseStatus.EXTENDED),
        (CaseStatus.CONCLUDED, CaseStatus.RECHECK_REQUESTED),
        (CaseStatus.CONCLUDED, CaseStatus.WITHDRAWN),
        (CaseStatus.ROUTED, CaseStatus.ACCEPTED),
        (CaseStatus.WITHDRAWN, CaseStatus.REGISTERED),
    ],
)
def test_steps_outside_the_procedure_are_refused(current: CaseStatus, target: CaseStatus) -> None:
    with pytest.raises(IllegalTransition):
        check_transition(current, target, note="理由")


def test_refusal_names_both_statuses_in_chinese() -> None:
    with pytest.raises(IllegalTransition, match="已登记.*已办结"):
        check_transition("registered", "concluded")


def test_any_open_case_can_be_withdrawn_and_nothing_follows_a_final_status() -> None:
    for status in OPEN_STATUSES:
        check_transition(status, CaseStatus.WITHDRAWN)
    for status in FINAL_STATUSES:
        assert ALLOWED[status] == frozenset()


def test_recheck_opinion_is_final() -> None:
    with pytest.raises(IllegalTransition, match="最终.*不再受理.*第三十六条"):
        check_transition(CaseStatus.RECHECKED, CaseStatus.RECHECK_REQUESTED)


@pytest.mark.parametrize("note", [None, "", "   "])
def test_an_extension_needs_a_reason(note: str | None) -> None:
    with pytest.raises(IllegalTransition, match="延期理由.*第三十四条"):
        check_transition(CaseStatus.IN_PROGRESS, CaseStatus.EXTENDED, note=note)


def test_an_extension_with_a_reason_is_allowed() -> None:
    check_transition(CaseStatus.IN_PROGRESS, CaseStatus.EXTENDED, note="涉及多个部门，需联合调查")


def test_review_may_be_requested_on_the_last_day_of_the_window() -> None:
    concluded_at = datetime(2026, 1, 31, 10, 0, tzinfo=CST)
    deadlines = deadlines_after(CaseStatus.CONCLUDED, concluded_at)
    assert deadlines == {"review_request_due": date(2026, 3, 2)}
    last_day = datetime(2026, 3, 2, 23, 0, tzinfo=CST)
    check_transition(CaseStatus.CONCLUDED, CaseStatus.REVIEW_REQUESTED, at=last_day, deadlines=deadlines)


def test_review_requested_after_thirty_days_is_refused_with_the_reason() -> None:
    deadlines = deadlines_after(CaseStatus.CONCLUDED, datetime(2026, 1, 31, 10, 0, tzinfo=CST))
    too_late = datetime(2026, 3, 3, 9, 0, tzinfo=CST)
    with pytest.raises(IllegalTransition, match="复查申请应在30日内.*第三十五条.*2026-03-02"):
        check_transition(CaseStatus.CONCLUDED, CaseStatus.REVIEW_REQUESTED, at=too_late, deadlines=deadlines)


def test_recheck_requested_after_thirty_days_is_refused() -> None:
    deadlines = deadlines_after(CaseStatus.REVIEWED, datetime(2026, 5, 1, 10, 0, tzinfo=CST))
    with pytest.raises(IllegalTransition, match="复核申请.*第三十六条"):
        check_transition(
            CaseStatus.REVIEWED, CaseStatus.RECHECK_REQUESTED,
            at=datetime(2026, 6, 1, 9, 0, tzinfo=CST), deadlines=deadlines,
        )


@pytest.mark.parametrize(
    ("registered_at", "due"),
    [
        (datetime(2026, 1, 20, 9, 0, tzinfo=CST), date(2026, 2, 4)),
        (datetime(2026, 2, 20, 9, 0, tzinfo=CST), date(2026, 3, 7)),  # February has 28 days
        (datetime(2028, 2, 20, 9, 0, tzinfo=CST), date(2028, 3, 6)),  # leap year
        (datetime(2026, 12, 25, 9, 0, tzinfo=CST), date(2027, 1, 9)),
        # 01:00 on 1 February in Beijing is still 31 January in UTC: the office date counts
        (datetime(2026, 1, 31, 17, 0, tzinfo=timezone.utc), date(2026, 2, 16)),
    ],
)
def test_acceptance_notice_is_due_fifteen_days_after_registration(registered_at: datetime, due: date) -> None:
    assert deadlines_after(CaseStatus.REGISTERED, registered_at) == {"acceptance_due": due}


def test_conclusion_due_sixty_days_after_acceptance_and_thirty_more_when_extended() -> None:
    accepted = deadlines_after(CaseStatus.ACCEPTED, datetime(2026, 1, 1, 9, 0, tzinfo=CST))
    assert accepted == {"conclusion_due": date(2026, 3, 2)}
    extended = deadlines_after(CaseStatus.EXTENDED, datetime(2026, 2, 20, 9, 0, tzinfo=CST), current=accepted)
    assert extended == {"conclusion_due": date(2026, 4, 1)}


def test_statutory_table_cites_an_article_for_every_period() -> None:
    assert {k: v.days for k, v in STATUTORY.items()} == {
        "acceptance": 15, "conclusion": 60, "extension": 30, "review_request": 30,
        "review_decision": 30, "recheck_request": 30, "recheck_decision": 30,
    }
    assert all(limit.article.startswith("《信访工作条例》第") for limit in STATUTORY.values())


def test_an_open_case_past_its_deadline_is_overdue_but_a_citizens_window_is_not() -> None:
    deadlines = {"acceptance_due": date(2026, 2, 4), "review_request_due": date(2026, 2, 4)}
    on_time = datetime(2026, 2, 4, 23, 0, tzinfo=CST)
    late = datetime(2026, 2, 5, 0, 30, tzinfo=CST)
    assert not is_overdue(CaseStatus.REGISTERED, deadlines, on_time)
    assert is_overdue(CaseStatus.REGISTERED, deadlines, late)
    assert not is_overdue(CaseStatus.CONCLUDED, deadlines, late)
    assert current_deadline(CaseStatus.CONCLUDED, deadlines) == ("review_request_due", date(2026, 2, 4))
