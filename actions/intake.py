"""What one citizen message contributes to the petition form.

Pure functions shared by the form validation and by corrections at the
summary: they map the extractor's field names to the form's slots, decide
which facts of a turn to keep, and check each value with the validators,
returning the Chinese message to show when a value is refused. The hotline
reader shares :func:`find_swaps` and :func:`replace_part` for callers who
take back one part of an answer. Nothing here knows about Rasa.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Mapping, Optional

from actions.extract import extract_answer, extract_facts, find_correction, full_name_clause
from actions.normalize import SPOKEN_DIGITS, digits_in, normalize_text
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


#: slots a correction may change in part when it names the field ("地址不对，不是3栋，是5栋")
PARTLY_CORRECTABLE_SLOTS = frozenset(FORM_SLOTS) - NUMBER_SLOTS
#: slots searched for the wrong part when the correction names no field ("是苗小虹，不是苗小红")
UNNAMED_SWAP_SLOTS = ("location", "address", "respondent", "occurred", "petitioner_name")


@dataclass(frozen=True)
class Check:
    """The outcome of checking one value: the clean value, or why it was refused."""

    value: Optional[str]
    problem: Optional[str] = None


# "是南四巷，不是南二巷" / "不是五组，是六组": one part of an earlier answer taken back.
# "5栋不是3栋" (no 是 before the right part) could be read either way and is left alone.
_SWAP_NEW_FIRST = re.compile(r"是(?P<new>[^，,。；;！!？?是]{1,10}?)[，,\s]*(?:而)?不是(?P<old>[^，,。；;！!？?]{1,10})")
_SWAP_OLD_FIRST = re.compile(r"不是(?P<old>[^，,。；;！!？?]{1,10}?)[，,\s]*(?:而|应该|应当)?是(?P<new>[^，,。；;！!？?]{1,10})")
_SWAP_TAIL = re.compile(r"(?:的|了|啊|呀|吧|呢|哦|才对)+$")
#: how many characters of each part may differ once their shared start and end are set aside
MAX_SWAPPED_CHARS = 4


def _of_one_kind(old: str, new: str) -> bool:
    """Whether *new* is *old* with a short piece changed ("城东派出所"/"城西派出所", "3栋"/"15栋")."""
    if old == new or (old[0] != new[0] and old[-1] != new[-1]):
        return False
    head = len(os.path.commonprefix([old, new]))
    tail = len(os.path.commonprefix([old[head:][::-1], new[head:][::-1]]))
    return max(len(old), len(new)) - head - tail <= MAX_SWAPPED_CHARS


def find_swaps(text: str) -> list[tuple[str, str]]:
    """(wrong part, right part) pairs the speaker takes back: "不是3栋，是5栋", "是5栋，不是3栋".

    Both parts must be of one kind (:func:`_of_one_kind`), so "不是我不想说，是太忙"
    and "不是物业，是开发商锦华置业" are no swaps.
    """
    norm = normalize_text(text)
    swaps = []
    for pattern in (_SWAP_NEW_FIRST, _SWAP_OLD_FIRST):
        for m in pattern.finditer(norm):
            old = _SWAP_TAIL.sub("", m.group("old").strip())
            new = _SWAP_TAIL.sub("", m.group("new").strip())
            if old and new and _of_one_kind(old, new):
                swaps.append((old, new))
    return swaps


#: how a digit is written in a value: 3 or 三 (spoken-only 幺, 洞 are not written)
_DIGIT_FORMS = {str(d): str(d) for d in range(10)} | {
    char: digit for char, digit in SPOKEN_DIGITS.items() if char not in "幺洞"
}
_DIGIT_CLASS = {
    char: "[" + "".join(c for c, d in _DIGIT_FORMS.items() if d == digit) + "]"
    for char, digit in _DIGIT_FORMS.items()
}
_ANY_DIGIT = "[" + "".join(_DIGIT_FORMS) + "]"


def replace_part(value: str, old: str, new: str) -> Optional[str]:
    """*value* with the part *old* replaced by *new*; None when *value* does not contain *old*.

    Digits match whether written 3 or 三 ("3栋" is found in "三栋"), and never
    inside a longer number ("3栋" is not part of "13栋").
    """
    body = "".join(_DIGIT_CLASS.get(char, re.escape(char)) for char in old)
    before = f"(?<!{_ANY_DIGIT})" if old[:1] in _DIGIT_CLASS else ""
    after = f"(?!{_ANY_DIGIT})" if old[-1:] in _DIGIT_CLASS else ""
    replaced, count = re.subn(before + body + after, lambda _: new, value)
    return replaced if count else None


def _partial_corrections(
    text: str, filled: Mapping[str, Optional[str]], field: Optional[str]
) -> dict[str, str]:
    """Slot -> new value for each recorded value the message changes in part.

    With a field named or inferred (*field*) only that slot is changed; with
    none, the one slot of :data:`UNNAMED_SWAP_SLOTS` that holds the wrong part.
    """
    if field is None:
        slots: tuple[str, ...] = UNNAMED_SWAP_SLOTS
    else:
        slot = FIELD_TO_SLOT.get(field)
        slots = (slot,) if slot in PARTLY_CORRECTABLE_SLOTS else ()
    values = {slot: filled[slot] for slot in slots if filled.get(slot)}
    changed: dict[str, str] = {}
    for old, new in find_swaps(text) if values else ():
        swapped = {slot: replace_part(value, old, new) for slot, value in values.items()}
        holders = [slot for slot, value in swapped.items() if value is not None]
        if len(holders) == 1:  # several holders: unclear which one is meant
            values[holders[0]] = changed[holders[0]] = swapped[holders[0]]
    return changed


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
    new value clears the slot so that the form asks again. A correction that
    names the wrong part and the right one ("地址不对，不是3栋，是5栋")
    changes only that part of the recorded value. Filled slots are otherwise
    left alone, so nothing the citizen said earlier is lost.
    """
    correction = find_correction(text)
    partial = _partial_corrections(text, filled, correction[0] if correction else None)
    found: dict[str, Optional[str]] = {}
    refusal = is_refusal(text)
    for field, fact in extract_facts(text).items():
        slot = FIELD_TO_SLOT.get(field)
        if not slot or (filled.get(slot) and slot != requested_slot):
            continue
        aside = slot != requested_slot and (refusal or fact.confidence < NARRATIVE_CONFIDENCE)
        if field == "description" and (partial or aside):
            continue  # a short aside or a correction is not the account of the matter
        found[slot] = fact.value

    if requested_slot in SLOT_TO_FIELD and requested_slot not in found and not partial:
        field = SLOT_TO_FIELD[requested_slot]
        if requested_slot in DECLINED_VALUES and refusal:
            found[requested_slot] = DECLINED_VALUES[requested_slot]
        else:
            answer = extract_answer(field, text)
            name = full_name_clause(normalize_text(text)) if requested_slot == "petitioner_name" else None
            if name is not None:
                found[requested_slot] = name
                # "老张，张国庆": the 国庆 of a name is not a date
                found = {slot: value for slot, value in found.items()
                         if slot == requested_slot or not value or value not in name}
            elif answer is not None:
                found[requested_slot] = answer.value
            elif requested_slot in NUMBER_SLOTS and digits_in(normalize_text(text)):
                # a number that does not parse: let check_slot say what is wrong with it
                found[requested_slot] = text.strip()

    if partial:
        found.update(partial)
    elif correction is not None:
        field, fact = correction
        slot = FIELD_TO_SLOT.get(field)
        if slot:
            found[slot] = fact.value if fact is not None else None
    return found


#: a reply that only acknowledges ("行吧谢谢", "好的") says nothing about the matter
_CONTENT_FREE = re.compile(
    r"(?:(?:那)?(?:好的?|行吧?|嗯+|哦+|噢+|谢谢(?:你|您)?|多谢|知道了|明白了|ok|可以|没问题|收到|辛苦了?)"
    r"[啊呀吧了的啦。！!，,\s]*)+",
    re.IGNORECASE,
)


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
    if text and _CONTENT_FREE.fullmatch(text):
        return Check(None, f"好的。请再具体说一下“{SLOT_LABELS.get(slot, slot)}”。")
    if text and len(_HAN.findall(text)) >= MIN_HAN_IN_FREE_TEXT:
        return Check(text)
    return Check(None, f"“{SLOT_LABELS.get(slot, slot)}”还没有具体内容，请用文字再说得具体一些。")


def missing_slots(filled: Mapping[str, Optional[str]]) -> list[str]:
    """The form slots still empty, in the order the form asks them."""
    return [slot for slot in FORM_SLOTS if not filled.get(slot)]
