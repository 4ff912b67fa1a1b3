"""What the rule-based intent overrides (emergency, matter) have in common.

Both run after the learned classifier, keep no state and, when their rule
fires, put one intent on top of the message with the rest of the ranking
kept below it.
"""
from __future__ import annotations

from typing import Any, Dict

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY
from rasa.shared.nlu.training_data.message import Message


class IntentOverride(GraphComponent):
    """A stateless component that may replace the classifier's intent."""

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "IntentOverride":
        """Builds the component; it has no state."""
        return cls()


def put_on_top(message: Message, intent: str, confidence: float) -> None:
    """Makes ``intent`` the message's intent, first in its ranking, others kept below."""
    top = {"name": intent, "confidence": confidence}
    ranking = [top] + [entry for entry in message.get(INTENT_RANKING_KEY) or [] if entry.get("name") != intent]
    message.set(INTENT, top, add_to_output=True)
    message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
