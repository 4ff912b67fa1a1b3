"""Validation of the petition and progress forms.

Each user turn inside a form, the facts of the message are extracted once
(``actions.intake.facts_from_turn``) and every value is checked with the
same rules a correction at the summary uses. A message that gives nothing
usable gets a specific re-ask; questions, cancellation, a wish for a person
and emergencies are left to the rules (the form rejects), and the form then
resumes where it stopped.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.ids import find_case_id, find_query_code
from actions.intake import FORM_SLOTS, SLOT_LABELS, check_slot, facts_from_turn
from actions.knowledge import load_knowledge
from actions.normalize import normalize_text
from actions.routing import detect_emergency
from actions.utterance import carries_intent_words, gives_a_number, looks_like_question

#: an emergency only the classifier sees (no crisis words) must be this sure to stop a form
EMERGENCY_CONFIDENCE = 0.9

#: intents the rules answer; the form lets them through instead of reading them as answers
INTERRUPTING_INTENTS = frozenset(
    {"ask_question", "cancel", "request_human", "emergency", "query_progress", "goodbye", "out_of_scope"}
)


#: what a channel writes as the text of a message that is only a picture or a file
ATTACHMENT_PLACEHOLDERS = frozenset({"（图片）", "（文件）", "（语音）"})


def latest_text(tracker: Tracker) -> str:
    """The citizen's latest words: '' for a button payload ('/affirm') or a bare picture."""
    text = (tracker.latest_message or {}).get("text") or ""
    return "" if text.startswith("/") or text.strip() in ATTACHMENT_PLACEHOLDERS else text


def latest_attachments(tracker: Tracker) -> List[Dict[str, Any]]:
    """Attachments (pictures, voice, files) the channel passed with the latest message."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return [item for item in metadata.get("attachments") or [] if isinstance(item, dict)]


def latest_intent(tracker: Tracker) -> Optional[str]:
    """The intent of the latest message."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


_BARE_NUMBER = re.compile(r"[\d\s+\-()（）转xX]{5,}")


#: below this confidence an interrupting intent inside a form is read as an answer
INTERRUPTION_CONFIDENCE = 0.8


def latest_intent_confidence(tracker: Tracker) -> float:
    """The classifier's confidence in the latest intent."""
    return float(((tracker.latest_message or {}).get("intent") or {}).get("confidence") or 0.0)


def is_interruption(tracker: Tracker) -> bool:
    """Whether the latest message is for the rules (a question, 算了 …) rather than an answer.

    Inside a form a wrong guess is costly: "请帮我解决" read as 算了 would throw
    the petition away. So an interruption needs a confident classifier, a bare
    number is always an answer, and an emergency the crisis detector does not
    confirm interrupts only when the classifier is nearly certain. The message
    that opens the form (for instance a complaint first taken for a question)
    is never an interruption, nor is a "question" that is worded as a
    statement and matches no knowledge topic, nor a message with a phone or ID
    number in it, nor a "cancel", "goodbye" or progress question without any
    word such a message needs (actions.utterance.INTENT_WORDS).
    """
    intent, text = latest_intent(tracker), latest_text(tracker)
    if not tracker.active_loop.get("name"):
        return False  # the message that opens the form is always read for its facts
    if intent not in INTERRUPTING_INTENTS or _BARE_NUMBER.fullmatch(normalize_text(text).strip()):
        return False
    confidence = latest_intent_confidence(tracker)
    if intent == "emergency" and detect_emergency(text) is None:
        return confidence >= EMERGENCY_CONFIDENCE
    if intent == "ask_question" and text and not looks_like_question(text) and load_knowledge().answer(text) is None:
        return False  # "单位拖着不给我办手续" answers the question asked; it asks nothing
    if intent != "emergency" and text and (gives_a_number(text) or not carries_intent_words(intent, text)):
        return False  # "赶紧把坑填了" is no 算了; "我先登完吧，1303111…" is no goodbye
    return confidence >= INTERRUPTION_CONFIDENCE


def _is_slot_event(event: EventType) -> bool:
    return event.get("event") == "slot" and event.get("name") not in {"requested_slot", "attachments"}


class ValidatePetitionForm(FormValidationAction):
    """Fills and checks the petition form from free-text messages."""

    def name(self) -> Text:
        return "validate_petition_form"

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        """Slot values of the latest message (none for interrupting intents)."""
        text = latest_text(tracker)
        if not text or is_interruption(tracker):
            return []
        filled = {slot: tracker.get_slot(slot) for slot in FORM_SLOTS}
        found = facts_from_turn(
            text, requested_slot=tracker.get_slot("requested_slot"), filled=filled
        )
        return [SlotSet(slot, value) for slot, value in found.items()]

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        requested = tracker.get_slot("requested_slot")
        attachments = latest_attachments(tracker)
        events: List[EventType] = []
        if attachments:
            dispatcher.utter_message(response="utter_attachment_received")
            events.append(SlotSet("attachments", (tracker.get_slot("attachments") or []) + attachments))
        events += await super().run(dispatcher, tracker, domain)
        answered = any(_is_slot_event(event) for event in events)
        if requested and not answered and (attachments or not is_interruption(tracker)):
            if latest_text(tracker):
                label = SLOT_LABELS.get(requested, requested)
                dispatcher.utter_message(text=f"抱歉，我没能从您的回复中识别出“{label}”。")
            events.append(SlotSet(requested, None))  # ask the same question again
        return events

    def _check(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher
    ) -> Dict[Text, Any]:
        result = check_slot(slot, value)
        if result.problem:
            dispatcher.utter_message(text=result.problem)
        return {slot: result.value}

    def validate_description(self, value, dispatcher, tracker, domain):
        return self._check("description", value, dispatcher)

    def validate_respondent(self, value, dispatcher, tracker, domain):
        return self._check("respondent", value, dispatcher)

    def validate_occurred(self, value, dispatcher, tracker, domain):
        return self._check("occurred", value, dispatcher)

    def validate_location(self, value, dispatcher, tracker, domain):
        return self._check("location", value, dispatcher)

    def validate_demand(self, value, dispatcher, tracker, domain):
        return self._check("demand", value, dispatcher)

    def validate_petitioner_name(self, value, dispatcher, tracker, domain):
        return self._check("petitioner_name", value, dispatcher)

    def validate_phone(self, value, dispatcher, tracker, domain):
        return self._check("phone", value, dispatcher)

    def validate_address(self, value, dispatcher, tracker, domain):
        return self._check("address", value, dispatcher)

    def validate_id_number(self, value, dispatcher, tracker, domain):
        return self._check("id_number", value, dispatcher)


class ValidateProgressForm(FormValidationAction):
    """Reads a case number and query code from whatever the citizen typed."""

    def name(self) -> Text:
        return "validate_progress_form"

    async def get_extraction_events(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        text = latest_text(tracker)
        if not text:
            return []
        events: List[EventType] = []
        case_id = find_case_id(text)
        if case_id:
            events.append(SlotSet("progress_case_id", case_id))
        code = find_query_code(text)
        if code:
            events.append(SlotSet("progress_code", code))
        return events

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        events = await super().run(dispatcher, tracker, domain)
        requested = tracker.get_slot("requested_slot")
        if requested and latest_text(tracker) and not any(_is_slot_event(e) for e in events):
            if is_interruption(tracker):
                return events
            hint = (
                "事项编号以XF开头，例如 XF20261126-7K3P9Q。"
                if requested == "progress_case_id"
                else "查询码是6位字母或数字，登记成功时告知过您。"
            )
            dispatcher.utter_message(text=f"抱歉，没有识别出来。{hint}")
            events.append(SlotSet(requested, None))
        return events
