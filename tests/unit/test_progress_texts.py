"""How a case's progress, and what the citizen may do next, are put into words."""
import pytest

from actions.backend_client import BackendReply
from actions.progress import (
    asks_how_to_query,
    describe_progress,
    follow_up_buttons,
    how_to_query_text,
    rating_in,
    refusal_text,
)

CONCLUDED = {
    "case_id": "XF20261126-7K3P9Q",
    "status": "concluded",
    "status_label": "已办结",
    "steps": [
        {"status": "registered", "status_label": "已登记", "date": "2026-11-26"},
        {"status": "accepted", "status_label": "已受理", "date": "2026-12-01"},
        {"status": "concluded", "status_label": "已办结", "date": "2027-01-10", "opinion_label": "不予支持"},
    ],
    "next_deadline": {"label": "申请复查期限", "due": "2027-02-09", "article": "《信访工作条例》第35条"},
    "next_step": "如对处理意见不服，可以在2027-02-09前申请复查。",
    "may_evaluate": True,
    "may_request": "review",
}


def test_the_progress_shows_every_step_the_opinion_and_the_next_deadline():
    text = describe_progress(CONCLUDED)
    assert "已受理" in text and "2026-12-01" in text
    assert "不予支持" in text
    assert "2027-02-09" in text and "第35条" in text


def test_an_answered_case_offers_evaluation_and_review():
    titles = [button["title"] for button in follow_up_buttons(CONCLUDED)]
    assert titles == ["满意", "基本满意", "不满意", "申请复查"]


def test_an_open_case_offers_nothing_to_do_yet():
    assert follow_up_buttons({"may_evaluate": False, "may_request": None}) == []


@pytest.mark.parametrize(
    "text,rating",
    [("不满意，拖了太久", "unsatisfied"), ("基本满意吧", "basically_satisfied"), ("非常满意", "satisfied"),
     ("差评", "unsatisfied"), ("给个好评", "satisfied"), ("我想评价一下", None)],
)
def test_the_rating_is_read_from_the_citizens_words(text, rating):
    assert rating_in(text, None) == rating


def test_a_button_rating_wins():
    assert rating_in("", "basically_satisfied") == "basically_satisfied"


@pytest.mark.parametrize(
    "reply,expected",
    [
        (BackendReply(error="URLError"), "暂时无法访问"),
        (BackendReply(status=429), "次数过多"),
        (BackendReply(status=404), "核对编号"),
        (BackendReply(status=409, body={"message": "已超过30日的复查申请期限"}), "已超过30日"),
    ],
)
def test_refusals_are_explained_in_plain_chinese(reply, expected):
    assert expected in refusal_text(reply)


@pytest.mark.parametrize("text", ["那我以后咋查进度？", "在哪里查办理结果", "怎么才能查到"])
def test_a_question_about_how_to_query_is_answered_not_turned_into_a_query(text):
    assert asks_how_to_query(text)


@pytest.mark.parametrize("text", ["查一下进度", "XF20261126-7K3P9Q 怎么查"])
def test_a_query_is_a_query(text):
    assert not asks_how_to_query(text)


def test_a_citizen_who_just_filed_is_reminded_of_her_case_number():
    text = how_to_query_text("XF20261126-7K3P9Q")
    assert "XF20261126-7K3P9Q" in text and "查询码" in text
    assert "第18条" in text
