"""Reading the petition back, filing it, correcting it and cancelling it."""
from __future__ import annotations

import logging
from functools import lru_cache
from typing import Any, Dict, List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.case_record import build_case, route_for
from actions.forms import latest_text
from actions.intake import FORM_SLOTS, SLOT_LABELS, check_slot, facts_from_turn
from actions.routing import load_routes

logger = logging.getLogger("xinfang.actions.petition")

ROUTING_SLOTS = ("kind", "category", "legal_route", "route_reason")
KIND_LABELS = {"suggestion": "建议意见类", "accusation": "检举控告类", "appeal": "申诉求决类"}


@lru_cache(maxsize=1)
def case_producer():
    """The queue producer, built on first use (never at import time)."""
    from backend.queue.producer import CaseProducer

    return CaseProducer.from_env()


def _form_values(tracker: Tracker) -> Dict[str, Any]:
    return {slot: tracker.get_slot(slot) for slot in FORM_SLOTS}


def _clear_petition() -> List[EventType]:
    return [SlotSet(slot, None) for slot in FORM_SLOTS + ROUTING_SLOTS + ("attachments",)] + [
        SlotSet("awaiting_confirmation", False)
    ]


def _count_user_turns(tracker: Tracker) -> int:
    return sum(1 for event in tracker.events if event.get("event") == "user")


class ActionSummarizePetition(Action):
    """Reads the collected petition back and asks the citizen to confirm it."""

    def name(self) -> Text:
        return "action_summarize_petition"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        values = _form_values(tracker)
        routing = route_for(values)
        lines = ["请核对您要登记的信访事项："]
        lines += [f"{SLOT_LABELS[slot]}：{values[slot]}" for slot in FORM_SLOTS]
        lines.append(f"事项类型：{KIND_LABELS.get(routing.kind, routing.kind)}")
        if routing.legal_route != "petition":
            lines.append("")
            lines.append(routing.explanation)
            lines.append("确认后，我们仍会把您反映的情况完整记录在案。")
        lines.append("")
        lines.append("信息无误请回复“确认”；需要修改请直接告诉我，例如“电话说错了，是……”。")
        dispatcher.utter_message(
            text="\n".join(lines),
            buttons=[
                {"title": "确认提交", "payload": "/affirm"},
                {"title": "需要修改", "payload": "/deny"},
                {"title": "取消登记", "payload": "/cancel"},
            ],
        )
        return [
            SlotSet("kind", routing.kind),
            SlotSet("category", routing.category),
            SlotSet("legal_route", routing.legal_route),
            SlotSet("route_reason", routing.route_reason),
            SlotSet("awaiting_confirmation", True),
        ]


class ActionSubmitPetition(Action):
    """Files the confirmed case and gives the citizen its number and query code."""

    def name(self) -> Text:
        return "action_submit_petition"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        case, query_code = build_case(
            {**_form_values(tracker), "attachments": tracker.get_slot("attachments")},
            input_channel=tracker.get_latest_input_channel(),
            channel_user=tracker.sender_id,
            turns=_count_user_turns(tracker),
        )
        try:
            case_producer().publish(case)
        except Exception:  # the producer spools; this is a last resort
            logger.exception("could not hand case %s to the queue", case["case_id"])
            dispatcher.utter_message(response="utter_submit_failed")
            return []
        logger.info("case %s filed via %s", case["case_id"], case["channel"])
        if case["legal_route"] == "petition":
            dispatcher.utter_message(
                response="utter_case_filed", case_id=case["case_id"], query_code=query_code
            )
        else:
            dispatcher.utter_message(
                response="utter_case_recorded_for_route",
                case_id=case["case_id"],
                query_code=query_code,
                explanation=load_routes().explanation(case["legal_route"]),
            )
        return _clear_petition() + [SlotSet("last_case_id", case["case_id"])]


class ActionApplyCorrection(Action):
    """Applies a correction or new facts, then lets the form ask what is missing.

    The form is run next in every case: it asks again for a slot the
    correction cleared, or completes at once and the summary is read back.
    """

    def name(self) -> Text:
        return "action_apply_correction"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        found = facts_from_turn(
            latest_text(tracker), requested_slot=None, filled=_form_values(tracker)
        )
        events: List[EventType] = [SlotSet("awaiting_confirmation", False)]
        changed = []
        for slot, value in found.items():
            result = check_slot(slot, value)
            if result.problem:
                dispatcher.utter_message(text=result.problem)
            events.append(SlotSet(slot, result.value))
            if result.value:
                changed.append(SLOT_LABELS[slot])
        if changed:
            dispatcher.utter_message(text=f"好的，已更新{'、'.join(changed)}。")
        elif not found:
            dispatcher.utter_message(response="utter_ask_what_to_change")
            return events + [FollowupAction("action_listen")]
        return events + [FollowupAction("petition_form")]


class ActionCancelPetition(Action):
    """Drops the petition in progress at the citizen's request."""

    def name(self) -> Text:
        return "action_cancel_petition"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        dispatcher.utter_message(response="utter_petition_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None)] + _clear_petition()
