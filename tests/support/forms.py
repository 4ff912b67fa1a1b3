"""Answering the assistant's questions the way a citizen would."""
from __future__ import annotations

from tests.support.citizen import Citizen

#: a phrase of each question of the petition form -> the slot it asks for
QUESTION_CUES = {
    "具体是什么事情": "description",
    "被反映对象": "respondent",
    "什么时候发生": "occurred",
    "发生在什么地方": "location",
    "具体诉求": "demand",
    "怎么称呼": "petitioner_name",
    "联系到您的电话": "phone",
    "您的住址": "address",
    "身份证号码": "id_number",
}
SUMMARY_CUE = "请核对您要登记的信访事项"


def asked_slot(answer: str) -> str | None:
    """Which form slot the assistant's answer asks for, if any."""
    for cue, slot in QUESTION_CUES.items():
        if cue in answer:
            return slot
    return None


async def answer_until_summary(
    citizen: Citizen, replies: dict[str, str], *, stop_at: str | None = None, max_turns: int = 12
) -> str:
    """Answers every question from ``replies`` until the summary is read back
    (or, with ``stop_at``, until the assistant asks for that slot)."""
    answer = citizen.heard[-1]
    for _ in range(max_turns):
        slot = asked_slot(answer)
        if SUMMARY_CUE in answer or (stop_at and slot == stop_at):
            return answer
        if slot is None or slot not in replies:
            raise AssertionError(f"{citizen.name} cannot answer: {answer!r}")
        answer = await citizen.says(replies[slot])
    raise AssertionError(f"no summary after {max_turns} turns; last: {answer!r}")
