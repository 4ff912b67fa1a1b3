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

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import ENTITIES, INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.routing import classify
from actions.utterance import carries_intent_words, content_length, gives_a_number, looks_like_question
from bot.nlu.override import IntentOverride, put_on_top

MATTER_INTENT = "file_petition"
#: replies and follow-ups a statement of a matter is mistaken for
MISREAD_INTENTS = frozenset({"deny", "correct", "query_progress", "request_review", "evaluate"})
#: intents that say "not a petition matter": relabelled only when routing recognises one
UNSURE_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
#: a reply shorter than this is left to the classifier ("他们不管" may well be an answer)
MIN_STATEMENT_CHARS = 8
#: confidence given to a relabelled matter: above the fallback threshold, below a sure guess
RELABELLED_CONFIDENCE = 0.6

#: entities that make a message an answer or a correction of the form, never a new matter
FIELD_ENTITIES = frozenset({"phone", "id_number", "person_name", "case_id", "query_code"})


def is_misread_matter(text: str, intent: str, gives_a_field: bool = False) -> bool:
    """Whether ``text``, classified as ``intent``, is really a matter to take down.

    ``gives_a_field``: the message carries a phone, ID, name or case number,
    so it answers or corrects the form ("电话是139…") and is left alone.
    """
    if (text.startswith("/") or gives_a_field or gives_a_number(text)
            or content_length(text) < MIN_STATEMENT_CHARS or looks_like_question(text)):
        return False
    if intent in UNSURE_INTENTS:
        routing = classify(text)
        return routing.category != "other" or routing.legal_route != "petition"
    return intent in MISREAD_INTENTS and not carries_intent_words(intent, text)


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
