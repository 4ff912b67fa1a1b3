"""A citizen talking to the assistant, for stories that read like conversations."""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

CASE_ID = re.compile(r"XF\d{8}-[0-9A-Z]{6}")
QUERY_CODE = re.compile(r"查询码：([0-9A-Z]{6})")


@dataclass
class Citizen:
    """One person in one conversation with an in-process Rasa agent."""

    name: str
    agent: object
    sender_id: str = field(default_factory=lambda: f"story-{uuid.uuid4().hex[:12]}")
    heard: list[str] = field(default_factory=list)

    async def says(self, text: str) -> str:
        """Sends ``text``; returns everything the assistant answered, joined."""
        replies = await self.agent.handle_text(text, sender_id=self.sender_id)
        answer = "\n".join(reply.get("text", "") for reply in replies or [])
        self.heard.append(answer)
        return answer

    async def slots(self) -> dict:
        """The conversation's current slot values."""
        tracker = await self.agent.tracker_store.retrieve(self.sender_id)
        return tracker.current_slot_values()

    def case_number(self) -> str:
        """The case number the assistant gave this citizen."""
        for answer in reversed(self.heard):
            match = CASE_ID.search(answer)
            if match:
                return match.group(0)
        raise AssertionError("the assistant never gave a case number:\n" + "\n---\n".join(self.heard))

    def query_code(self) -> str:
        """The query code the assistant gave this citizen."""
        for answer in reversed(self.heard):
            match = QUERY_CODE.search(answer)
            if match:
                return match.group(1)
        raise AssertionError("the assistant never gave a query code")
