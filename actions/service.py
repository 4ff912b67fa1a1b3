"""Answers that need no form: procedure questions, a person, emergencies."""
from __future__ import annotations

import logging
import re
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms import EMERGENCY_CONFIDENCE, latest_intent, latest_intent_confidence, latest_text
from actions.knowledge import load_knowledge
from actions.routing import detect_emergency
from actions.utterance import looks_like_question

logger = logging.getLogger("xinfang.actions.service")

#: said when the crisis detector did not name the kind of emergency
GENERAL_EMERGENCY_REPLY = (
    "如果您或他人正面临危险，请立即拨打110（报警）、119（火警）或120（急救）。"
    "如果您感到痛苦、想要伤害自己，请拨打12356心理援助热线，有人愿意听您说。"
    "保证安全之后，我们再来处理您反映的事情。"
)

#: said when only the classifier, not the crisis detector, suspects an emergency
SAFETY_NOTE = "如果您或他人正面临危险，请立即拨打110、119或120；需要心理援助可拨打12356。下面我先为您登记反映的情况。"


def office_contact_text() -> str:
    """How to reach a person at the petition office, from the office's data file."""
    office = load_knowledge().office()
    return (
        f"您可以联系{office['name']}的工作人员：\n"
        f"电话：{office['phone']}\n"
        f"接待时间：{office['hours']}\n"
        f"接待地址：{office['address']}"
    )


#: "你是机器人吗", "你能干啥": questions about the assistant itself
_ABOUT_THE_ASSISTANT = re.compile(
    r"你(?:们)?(?:是|就是)?(?:谁|机器人|真人|人工|ai|智能|程序)|你(?:是|算)?(?:人|人吗)|"
    r"你(?:们)?(?:能|会|可以)(?:帮我|为我)?(?:干|做|办|帮)(?:些|点)?(?:啥|什么|哪些)|你(?:们)?有(?:啥|什么)(?:用|功能)",
    re.IGNORECASE,
)


class ActionAnswerQuestion(Action):
    """Answers a question about the petition procedure, citing the article."""

    def name(self) -> Text:
        return "action_answer_question"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        knowledge = load_knowledge()
        if latest_intent(tracker) == "query_progress":
            answer = knowledge.topic("query_progress")
        else:
            answer = knowledge.answer(latest_text(tracker))
        in_form = bool(tracker.active_loop.get("name"))
        about_the_assistant = answer is None and bool(_ABOUT_THE_ASSISTANT.search(latest_text(tracker)))
        if answer is None and not in_form and not about_the_assistant and not looks_like_question(latest_text(tracker)):
            # "商家卖假货不给退" is a matter to take down, not a question to look up
            return [FollowupAction("petition_form")]
        if about_the_assistant:
            dispatcher.utter_message(response="utter_about_assistant")
        elif answer is None:
            dispatcher.utter_message(
                text="这个问题我暂时答不上来，建议您咨询工作人员。\n" + office_contact_text()
            )
        else:
            dispatcher.utter_message(text=answer.text)
        if in_form:
            dispatcher.utter_message(text="我们接着登记您的事项。")
        return []


class ActionRequestHuman(Action):
    """Tells the citizen how to reach a person now and records the wish."""

    def name(self) -> Text:
        return "action_request_human"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        office = load_knowledge().office()
        lines = [office.get("human_transfer") or "好的，已记录您希望与工作人员沟通。", office_contact_text()]
        if tracker.active_loop.get("name"):
            lines.append("您已提供的信息我都保留着；如愿意，也可以继续在这里登记。")
        dispatcher.utter_message(text="\n".join(lines))
        logger.info("conversation %s asked for a person", tracker.sender_id)
        return [SlotSet("human_requested", True)]


class ActionHandleEmergency(Action):
    """Gives the emergency numbers first, before any question."""

    def name(self) -> Text:
        return "action_handle_emergency"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[EventType]:
        emergency = detect_emergency(latest_text(tracker))
        if emergency is None and latest_intent_confidence(tracker) < EMERGENCY_CONFIDENCE:
            # Only the classifier suspects a crisis: give the numbers, then take the matter down.
            dispatcher.utter_message(text=SAFETY_NOTE)
            return [FollowupAction("petition_form")]
        dispatcher.utter_message(text=emergency.reply if emergency else GENERAL_EMERGENCY_REPLY)
        logger.warning(
            "emergency (%s) in conversation %s",
            emergency.kind if emergency else "unspecified",
            tracker.sender_id,
        )
        return []
