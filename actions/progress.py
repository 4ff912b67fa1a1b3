"""Where is my case, and what the citizen may do once it is answered.

A progress query needs the case number and the query code (contract §7);
on WeChat the openid that filed the case is enough. After a query the case
is remembered for the rest of the conversation, so that a satisfaction
evaluation or a 复查/复核 request can follow without asking again.
"""
from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.backend_client import (
    BackendReply,
    get_progress,
    get_progress_by_channel_user,
    post_evaluation,
    post_review_request,
)
from actions.forms import latest_text
from actions.ids import find_case_id
from actions.knowledge import load_knowledge

UNREACHABLE = "抱歉，查询系统暂时无法访问，请稍后再试，或拨打信访接待电话查询。"
LOCKED_OUT = "查询失败次数过多，为保护您的信息，暂时不能查询，请一小时后再试，或拨打信访接待电话。"
NOT_FOUND = "没有查到与这个编号和查询码对应的事项。请核对编号（XF开头）和6位查询码后再试。"
NEED_CASE = "请先告诉我事项编号和查询码，我查到您的事项后再帮您办理。"
RATINGS = (("不满意", "unsatisfied"), ("基本满意", "basically_satisfied"), ("满意", "satisfied"))
REQUEST_NAMES = {"review": "复查", "recheck": "复核"}


#: "以后咋查进度", "在哪里查": a question about how to query, not a query
_HOW_TO_QUERY = re.compile(r"(?:怎么|怎样|咋|如何|在哪|哪里|去哪)(?:样)?(?:才能|能|可以|去)?查")


def asks_how_to_query(text: str) -> bool:
    """Whether ``text`` asks how progress is queried (and gives no case number)."""
    return bool(_HOW_TO_QUERY.search(text or "")) and find_case_id(text) is None


def how_to_query_text(last_case_id: Optional[str]) -> str:
    """How to query progress (第18条), with the case this conversation just filed, if any."""
    lines = [load_knowledge().topic("query_progress").text]
    if last_case_id:
        lines.append(f"您刚才登记的事项编号是 {last_case_id}。以后任何时候把编号和查询码发给我，就能查到办理进度。")
    else:
        lines.append("如果现在就要查询，请把事项编号和查询码发给我。")
    return "\n".join(lines)


def describe_progress(view: dict[str, Any]) -> str:
    """The citizen-facing text of a progress view (contract §7)."""
    lines = [f"事项编号：{view.get('case_id')}", f"当前状态：{view.get('status_label') or view.get('status')}"]
    steps = view.get("steps") or []
    if steps:
        lines.append("办理经过：")
        for step in steps:
            opinion = f"（{step['opinion_label']}）" if step.get("opinion_label") else ""
            lines.append(f"  {step.get('date')}  {step.get('status_label')}{opinion}")
    deadline = view.get("next_deadline")
    if deadline:
        lines.append(f"下一个期限：{deadline.get('label')}，{deadline.get('due')}前（{deadline.get('article')}）")
    if view.get("next_step"):
        lines.append(view["next_step"])
    return "\n".join(lines)


def follow_up_buttons(view: dict[str, Any]) -> list[dict[str, str]]:
    """Buttons for what the citizen may do next with this case."""
    buttons = []
    if view.get("may_evaluate"):
        buttons += [{"title": label, "payload": f"/evaluate{{\"rating\":\"{value}\"}}"} for label, value in reversed(RATINGS)]
    if view.get("may_request"):
        buttons.append({"title": f"申请{REQUEST_NAMES[view['may_request']]}", "payload": "/request_review"})
    return buttons


def refusal_text(reply: BackendReply) -> str:
    """What to tell the citizen when the backend did not answer with success."""
    if reply.error:
        return UNREACHABLE
    if reply.status == 429:
        return LOCKED_OUT
    if reply.status == 404:
        return NOT_FOUND
    return reply.message or UNREACHABLE


def rating_in(text: str, entity_value: Optional[str]) -> Optional[str]:
    """The rating a citizen gave, from a button entity or from the words."""
    values = {value for _label, value in RATINGS}
    if entity_value in values:
        return entity_value
    for label, value in RATINGS:  # longest labels first: 不满意 before 满意
        if label in text:
            return value
    if "差评" in text:
        return "unsatisfied"
    if "好评" in text:
        return "satisfied"
    return None


def checked_case(tracker: Tracker) -> Optional[tuple[str, str]]:
    """The case number and code of the case this conversation last looked up."""
    case_id, code = tracker.get_slot("checked_case_id"), tracker.get_slot("checked_code")
    return (case_id, code) if case_id and code else None


def ask_for_case(dispatcher: CollectingDispatcher) -> List[EventType]:
    """Asks for the case number and code first, through the progress form."""
    dispatcher.utter_message(text=NEED_CASE)
    return [FollowupAction("progress_form")]


class ActionQueryProgress(Action):
    """Tells the citizen where their case stands."""

    def name(self) -> Text:
        return "action_query_progress"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        case_id, code = tracker.get_slot("progress_case_id"), tracker.get_slot("progress_code")
        if not (case_id and code):
            if tracker.get_latest_input_channel() == "wechat" and self._answer_by_openid(dispatcher, tracker):
                return []
            if asks_how_to_query(latest_text(tracker)):
                dispatcher.utter_message(text=how_to_query_text(tracker.get_slot("last_case_id")))
                return []
            return [FollowupAction("progress_form")]
        reply = get_progress(case_id, code)
        cleared = [SlotSet("progress_case_id", None), SlotSet("progress_code", None)]
        if reply.status != 200:
            dispatcher.utter_message(text=refusal_text(reply))
            return cleared
        dispatcher.utter_message(text=describe_progress(reply.body), buttons=follow_up_buttons(reply.body))
        return cleared + [SlotSet("checked_case_id", case_id), SlotSet("checked_code", code)]

    @staticmethod
    def _answer_by_openid(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
        reply = get_progress_by_channel_user("wechat", tracker.sender_id)
        cases = reply.body.get("cases") if reply.status == 200 else None
        if not cases:
            return False
        dispatcher.utter_message(text="\n\n".join(describe_progress(view) for view in cases))
        return True


class CheckedCaseAction(Action, ABC):
    """An action on the case this conversation last looked up; asks for it first if none."""

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        checked = checked_case(tracker)
        if checked is None:
            return ask_for_case(dispatcher)
        self.act(dispatcher, tracker, *checked)
        return []

    @abstractmethod
    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, case_id: str, code: str) -> None:
        """Does the work on the checked case."""


class ActionSubmitEvaluation(CheckedCaseAction):
    """Records 满意 / 基本满意 / 不满意 on the case the citizen just checked."""

    def name(self) -> Text:
        return "action_submit_evaluation"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, case_id: str, code: str) -> None:
        text = latest_text(tracker)
        rating = rating_in(text, next(tracker.get_latest_entity_values("rating"), None))
        if rating is None:
            dispatcher.utter_message(
                text="请问您对办理结果的评价是？",
                buttons=follow_up_buttons({"may_evaluate": True}),
            )
            return
        reply = post_evaluation(case_id, code, rating, text)
        if reply.status in (200, 201):
            dispatcher.utter_message(text="感谢您的评价，我们已记录。您的意见会帮助有关机关改进工作。")
        else:
            dispatcher.utter_message(text=refusal_text(reply))


class ActionRequestReview(CheckedCaseAction):
    """Files a 复查 or 复核 request within its statutory window."""

    def name(self) -> Text:
        return "action_request_review"

    def act(self, dispatcher: CollectingDispatcher, tracker: Tracker, case_id: str, code: str) -> None:
        kind = "recheck" if "复核" in latest_text(tracker) else "review"
        reason = latest_text(tracker) or "对处理意见不服"
        reply = post_review_request(case_id, code, kind, reason)
        if reply.status == 200:
            dispatcher.utter_message(
                text=f"您的{REQUEST_NAMES[kind]}申请已提交。\n" + describe_progress(reply.body)
            )
        else:
            dispatcher.utter_message(text=refusal_text(reply))
