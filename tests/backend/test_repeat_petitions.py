"""重信重访: the same person about the same matter is linked to the earlier case and told plainly."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend.store import get_case, transition_case
from backend.store.models import Notification
from backend.store.repeats import SIMILARITY_THRESHOLD, similarity

CST = timezone(timedelta(hours=8))
Stored = Callable[..., dict[str, Any]]
WAGES = "工地拖欠三个月工资，多次催要未果。"
WAGES_AGAIN = "某建筑公司到现在还拖欠我三个月工资，催要多次都没有结果。"
STREETLIGHT = "小区门口的路灯坏了一个多月，晚上出行很不方便。"


def test_a_retelling_of_the_same_matter_is_similar_and_another_matter_is_not() -> None:
    assert similarity(WAGES + " 某建筑公司", WAGES_AGAIN + " 某建筑公司") >= SIMILARITY_THRESHOLD
    assert similarity(WAGES + " 某建筑公司", STREETLIGHT + " 街道办") < 0.1


def notices(session_factory: sessionmaker[Session], case_id: str) -> list[str]:
    with session_factory() as session:
        return list(session.scalars(
            select(Notification.message).where(Notification.case_id == case_id,
                                                Notification.kind == "repeat_notice")))


def test_a_repeat_while_the_first_is_within_its_time_limit_is_linked_and_explained(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    first = stored(received_at="2026-01-20T09:00:00+08:00")
    again = stored(received_at="2026-01-25T09:00:00+08:00", description=WAGES_AGAIN,
                   petitioner={"name": "李秀英", "phone": "+86 138 0013 8000"}, first_time=True)
    with session_factory() as session:
        case = get_case(session, again["case_id"])
    assert case["first_time"] is False
    assert case["prior_case_ids"] == [first["case_id"]]
    assert first["case_id"] in case["events"][0]["note"] and "第十九条第三款" in case["events"][0]["note"]
    [notice] = notices(session_factory, again["case_id"])
    assert first["case_id"] in notice and "2026年2月4日" in notice and "第十九条第三款" in notice


def test_the_id_number_alone_is_enough_to_recognise_the_person(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    first = stored()
    again = stored(description=WAGES_AGAIN,
                   petitioner={"name": "李秀英", "phone": "13912345678", "id_number": "11010519491231002x"})
    with session_factory() as session:
        assert get_case(session, again["case_id"])["prior_case_ids"] == [first["case_id"]]


def test_after_recheck_the_citizen_is_told_the_matter_is_not_accepted_again(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    first = stored(received_at="2026-01-02T09:00:00+08:00")
    at = datetime(2026, 1, 5, 9, 0, tzinfo=CST)
    with session_factory.begin() as session:
        for target, opinion in [("accepted", None), ("in_progress", None), ("concluded", "reject"),
                                ("review_requested", None), ("reviewed", "reject"),
                                ("recheck_requested", None), ("rechecked", "reject")]:
            transition_case(session, first["case_id"], target, actor="handler:1", at=at, opinion=opinion)
    again = stored(received_at="2026-02-01T09:00:00+08:00", description=WAGES_AGAIN)
    [notice] = notices(session_factory, again["case_id"])
    assert "复核意见为最终处理意见" in notice and "第三十六条第三款" in notice and "不再受理" in notice


def test_an_earlier_case_past_its_time_limit_is_linked_without_a_notice(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    first = stored(received_at="2026-01-01T09:00:00+08:00")
    again = stored(received_at="2026-03-01T09:00:00+08:00", description=WAGES_AGAIN)
    with session_factory() as session:
        assert get_case(session, again["case_id"])["prior_case_ids"] == [first["case_id"]]
    assert notices(session_factory, again["case_id"]) == []


def test_another_person_or_another_matter_is_not_a_repeat(
    session_factory: sessionmaker[Session], stored: Stored
) -> None:
    stored()
    stranger = stored(petitioner={"name": "赵敏", "phone": "13900139000"})
    other_matter = stored(description=STREETLIGHT, respondent="街道办")
    with session_factory() as session:
        for case in (stranger, other_matter):
            stored_case = get_case(session, case["case_id"])
            assert (stored_case["first_time"], stored_case["prior_case_ids"]) == (True, [])
    assert notices(session_factory, stranger["case_id"]) == notices(session_factory, other_matter["case_id"]) == []
