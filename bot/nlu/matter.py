"""An NLU component that keeps a citizen's matter from being read as a reply.

The classifier learns short replies and follow-ups from their typical words,
and "不" weighs a lot: "社区不给我开证明" or "装修质量有问题他们不赔" came out
as ``deny``, "派出所不给我上户口" as ``correct``, and a long account of a
contract dispute as ``query_progress``. Each of those intents has words
without which it cannot be meant (a denial says 不对/没有/不用, a progress
question says 进度/查/结果 or gives a case number, a review request says
复查/复核/不服). A statement of at least ``MIN_STATEMENT_CHARS`` characters
that carries none of its intent's words is relabelled ``file_petition``.

After the fallback classifier, a statement it gave up on (or took for small
talk) is relabelled too, but only when the routing rules recognise a matter
in it (a category or a legal route), so noise still gets "没能理解".

It never touches ``emergency`` (``EmergencyOverride`` decides that), button
payloads ("/affirm") or short messages.
"""
from __future__ import annotations

import re
from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.routing import classify
from actions.utterance import content_length, looks_like_question
from bot.nlu.override import IntentOverride, put_on_top

MATTER_INTENT = "file_petition"
#: intents that say "not a petition matter": relabelled only when routing recognises one
UNSURE_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
#: a reply shorter than this is left to the classifier ("他们不管" may well be an answer)
MIN_STATEMENT_CHARS = 8
#: confidence given to a relabelled matter: above the fallback threshold, below a sure guess
RELABELLED_CONFIDENCE = 0.6

#: the words without which an intent cannot be meant
INTENT_WORDS = {
    "deny": re.compile(
        r"^[\W\d]*(?:不|没|别|否|错|算|先别|还没|暂时)|不对|不是|不用|不要|不行|不必|不需要|不提供|不想|不愿|"
        r"不留|不给了|不透露|不告诉|不说|不方便|不同意|不确认|不太对|不准|没有|没错|有误|错了|要改|改一下|修改|别交|别提交|等等|等一下"
    ),
    "correct": re.compile(
        r"有误|正确的是|说错|写错|记错|打错|填错|搞错|弄错|错了|不对|不是|改成|改为|改一下|更正|修改|应该是|换成|重新|其实是|准确地?说"
    ),
    "query_progress": re.compile(
        r"进度|进展|查|结果|消息|受理|办理|处理|到哪|怎么样|有人管|谁在|回复|答复|编号|查询码|xf\d|"
        r"办得|办到|在办|动静|下文|回音|信儿|着落|反馈|跟进|多久|什么时候|收到没|信访件|看看我的|我的(?:事|案|件)",
        re.IGNORECASE,
    ),
    "request_review": re.compile(r"复查|复核|複查|複核|不服|重新|上级|上一级|再查|再审|不认|申请"),
    "evaluate": re.compile(r"满意|滿意|评价|評價|打分|评分|好评|差评|解决|态度|太慢|敷衍|糊弄"),
}


#: entities that make a message an answer or a correction of the form, never a new matter
FIELD_ENTITIES = frozenset({"phone", "id_number", "person_name", "case_id", "query_code"})
_NUMBER = re.compile(r"\d{5,}")


def is_misread_matter(text: str, intent: str, gives_a_field: bool = False) -> bool:
    """Whether ``text``, classified as ``intent``, is really a matter to take down.

    ``gives_a_field``: the message carries a phone, ID, name or case number,
    so it answers or corrects the form ("电话是139…") and is left alone.
    """
    if (text.startswith("/") or gives_a_field or _NUMBER.search(text)
            or content_length(text) < MIN_STATEMENT_CHARS or looks_like_question(text)):
        return False
    if intent in UNSURE_INTENTS:
        routing = classify(text)
        return routing.category != "other" or routing.legal_route != "petition"
    words = INTENT_WORDS.get(intent)
    return words is not None and not words.search(text)


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class MatterOverride(IntentOverride):
    """Relabels a statement of a matter that the classifier took for a reply."""

    def process(self, messages: List[Message]) -> List[Message]:
        """Relabels every misread matter as ``file_petition``."""
        for message in messages:
            intent = (message.get(INTENT) or {}).get("name")
            gives_a_field = any(e.get("entity") in FIELD_ENTITIES for e in message.get(ENTITIES) or [])
            if intent and is_misread_matter(message.get(TEXT) or "", intent, gives_a_field):
                confidence = (message.get(INTENT) or {}).get("confidence") or 0.0
                put_on_top(message, MATTER_INTENT, max(float(confidence), RELABELLED_CONFIDENCE))
        return messages
