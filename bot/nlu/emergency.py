"""An NLU component that lets no classifier out-vote a crisis.

The learned intent classifier can be unsure about a message such as
"我不想活了，他们再不给钱我就从楼上跳下去". A missed emergency is the one
mistake this assistant must never make, so after DIET has spoken this
component runs the rule-based detector of ``actions.routing`` and, when it
fires, sets the intent to ``emergency`` with full confidence. The opposite
never happens: an ``emergency`` predicted by DIET is left alone.
"""
from __future__ import annotations

from typing import List

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.routing import detect_emergency
from bot.nlu.override import IntentOverride, put_on_top

EMERGENCY_INTENT = "emergency"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class EmergencyOverride(IntentOverride):
    """Forces the ``emergency`` intent when the crisis detector fires."""

    def process(self, messages: List[Message]) -> List[Message]:
        """Overrides the intent of every message that describes a crisis."""
        for message in messages:
            text = message.get(TEXT) or ""
            if not text.startswith("/") and detect_emergency(text) is not None:
                put_on_top(message, EMERGENCY_INTENT, 1.0)
        return messages
