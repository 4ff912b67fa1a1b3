"""An NLU component that lets no classifier out-vote a crisis.

The learned intent classifier can be unsure about a message such as
"我不想活了，他们再不给钱我就从楼上跳下去". A missed emergency is the one
mistake this assistant must never make, so after DIET has spoken this
component runs the rule-based detector of ``actions.routing`` and, when it
fires, sets the intent to ``emergency`` with full confidence. The opposite
never happens: an ``emergency`` predicted by DIET is left alone.
"""
from __future__ import annotations

from typing import Any, Dict, List

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from actions.routing import detect_emergency

EMERGENCY_INTENT = "emergency"


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False
)
class EmergencyOverride(GraphComponent):
    """Forces the ``emergency`` intent when the crisis detector fires."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "EmergencyOverride":
        """Builds the component; it has no state."""
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        """Overrides the intent of every message that describes a crisis."""
        for message in messages:
            text = message.get(TEXT) or ""
            if text.startswith("/") or detect_emergency(text) is None:
                continue
            top = {"name": EMERGENCY_INTENT, "confidence": 1.0}
            ranking = [top] + [
                entry
                for entry in message.get(INTENT_RANKING_KEY) or []
                if entry.get("name") != EMERGENCY_INTENT
            ]
            message.set(INTENT, top, add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages
