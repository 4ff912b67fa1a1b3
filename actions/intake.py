"""What one citizen message contributes to the petition form.

Pure functions shared by the form validation and by corrections at the
summary: they map the extractor's field names to the form's slots, decide
which facts of a turn to keep, and check each value with the validators,
returning the Chinese message to show when a value is refused. Nothing here
knows about Rasa.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Mapping, Optional

from actions.extract import extract_answer, extract_facts, find_correction
from actions.normalize import digits_in, normalize_text
from actions.validators import clean_free_text, is_refusal, parse_id_number, parse_phone

#: extractor field -> form slot
FIELD_TO_SLOT = {
    "description": "description",
    "respondent": "respondent",
    "occurred": "occurred",
    "location": "location",
    "demand": "demand",
    "name": "petitioner_name",
    "phone": "phone",
    "address": "address",
    "id_number": "id_number",
}
SLOT_TO_FIELD = {slot: field for field, slot in FIELD_TO_SLOT.items()}
FORM_SLOTS = tuple(FIELD_TO_SLOT.values())

#: the value kept when a citizen declines an item the law does not require
DECLINED_VALUES = {"id_number": "未提供", "occurred": "不详", "location": "不详"}

#: how sure the extractor must be before an unasked-for narrative becomes the facts
NARRATIVE_CONFIDENCE = 0.8

#: a free-text answer (facts, demand, address …) has at least this many Chinese characters
MIN_HAN_IN_FREE_TEXT = 2
_HAN = re.compile(r"[\u4e00-\u9fff]")

#: slots whose unparseable answers are still checked, to explain what is wrong
NUMBER_SLOTS = frozenset({"phone", "id_number"})

#: how each slot is named to the citizen in summaries and messages
SLOT_LABELS = {
    "petitioner_name": "姓名",
    "phone": "联系电话",
    "address": "住址",
    "id_number": "身份证号码",
    "respondent": "被反映单位或对象",
    "occurred": "发生时间",
    "location": "发生地点",
    "description": "事实与经过",
    "demand": "诉求",
}


@dataclass(frozen=True)
class Check:
    """The outcome of checking one value: the clean value, or why it was refused."""

    value: Optional[str]
    problem: Optional[str] = None


def facts_from_turn(
    text: str,
    *,
    requested_slot: Optional[str],
    filled: Mapping[str, Optional[str]],
) -> dict[str, Optional[str]]:
    """The slot values one message gives.

    Facts stated with cue words fill empty slots; the slot the assistant just
    asked for takes the message as its answer; an explicit correction
    ("电话说错了，是……") overrides a filled slot, and a correction without a
    new value clears the slot so that the form asks again. Filled slots are
    otherwise left alone, so nothing the citizen said earlier is lost.
    """
    found: dict[str, Optional[str]] = {}
    refusal = is_refusal(text)
    for field, fact in extract_facts(text).items():
        slot = FIELD_TO_SLOT.get(field)
        if not slot or (filled.get(slot) and slot != requested_slot):
            continue
        if field == "description" and slot != requested_slot and (refusal or fact.confidence < NARRATIVE_CONFIDENCE):
            continue  # a short aside is not the account of the matter
        found[slot] = fact.value

    if requested_slot in SLOT_TO_FIELD and requested_slot not in found:
        field = SLOT_TO_FIELD[requested_slot]
        if requested_slot in DECLINED_VALUES and refusal:
            found[requested_slot] = DECLINED_VALUES[requested_slot]
        else:
            answer = extract_answer(field, text)
            if answer is not None:
                found[requested_slot] = answer.value
            elif requested_slot in NUMBER_SLOTS and digits_in(normalize_text(text)):
                # a number that does not parse: let check_slot say what is wrong with it
                found[requested_slot] = text.strip()

    correction = find_correction(text)
    if correction is not None:
        field, fact = correction
        slot = FIELD_TO_SLOT.get(field)
        if slot:
            found[slot] = fact.value if fact is not None else None
    return found


def check_slot(slot: str, value: Optional[str]) -> Check:
    """Validates one slot value; ``problem`` is the message for the citizen."""
    if value is None:
        return Check(None)
    if slot in DECLINED_VALUES and value == DECLINED_VALUES[slot]:
        return Check(value)
    if slot == "phone":
        phone = parse_phone(value)
        if phone:
            return Check(phone)
        return Check(
            None,
            f"您提供的号码“{value}”不是有效的联系电话。手机号码为11位（如13800001111），"
            "座机请带区号（如010-88886666），请重新输入。",
        )
    if slot == "id_number":
        id_number = parse_id_number(value)
        if id_number:
            return Check(id_number)
        return Check(
            None,
            "这个身份证号码核对不上：应为18位，最后一位可能是数字或X，请检查后重新输入；"
            "不方便提供的话，回复“不提供”即可。",
        )
    if slot == "petitioner_name":
        name = clean_free_text(value)
        if name and 2 <= len(name) <= 20 and not any(char.isdigit() for char in name):
            return Check(name)
        return Check(None, "请提供您的真实姓名（例如“张建国”），以便有关部门与您联系和书面告知。")
    text = clean_free_text(value)
    if text and len(_HAN.findall(text)) >= MIN_HAN_IN_FREE_TEXT:
        return Check(text)
    return Check(None, f"“{SLOT_LABELS.get(slot, slot)}”还没有具体内容，请用文字再说得具体一些。")


def missing_slots(filled: Mapping[str, Optional[str]]) -> list[str]:
    """The form slots still empty, in the order the form asks them."""
    return [slot for slot in FORM_SLOTS if not filled.get(slot)]
