"""Hotline transcripts -> case drafts (contract §4, §8), and the ``hotline`` input channel.

How a call becomes a draft (:func:`build_draft`):

* The turns are walked in order. Each operator turn is read for the
  questions it asks (``请问您贵姓`` -> name, ``您的联系电话`` -> phone,
  ``反映哪个单位`` -> respondent, ``什么时候`` -> occurred, ...). The caller's
  next turn is the answer: :func:`actions.extract.extract_answer` reads it
  for that field, so a bare ``周明。`` is a name and ``一三六零…`` a phone.
  Answers to an explicit question are trusted more than the same words
  without one.
* Facts stated with cue words anywhere in the caller's turns
  (``我叫…``, ``电话是…``) come from :func:`actions.extract.extract_facts`.
  From a turn that answers a contact question only contact facts are taken
  (``我叫蒋文斌，希望你们给我保密`` is not a demand).
* Later corrections override earlier statements: explicit corrections
  (:func:`actions.extract.find_correction`, also inside one turn:
  ``11月20号。哦，时间我记错了，是21号``), a repeated question answered
  again, and a ``不对，是王小明`` after the operator reads a value back.
  Among facts of equal standing the latest answer wins; for cue facts found
  in the narrative the first statement wins.
* Numbers spoken as ``一三八``/``幺``/``两``, spaced and comma-separated
  groups (``幺三九，幺二三四，零零零幺``) are normalised.
* The phone is the number the caller states. ``就打这个号`` (or yes to
  ``是这个号码吗``) means the calling number, confirmed. With no statement
  the calling number is used with low confidence and ``phone`` goes to
  ``needs_review``.
* Refusing the ID is fine: ``id_number`` is None and not reviewed.
* Off-topic talk (weather, pets, family news, or whatever the operator
  steers away from with ``我们先说回…``) is left out of the description.
* ``description`` is the caller's factual narrative: their turns that are
  not answers to contact or demand questions, not pleasantries and not
  off-topic, without contact clauses or demand sentences.
* ``first_time`` is False when the caller (or the operator, confirmed by the
  caller) says the matter was reported before (``之前反映过``,
  ``上次打过电话``, ``又打来``), unless it was only raised with the other
  party (``跟物业反映过``).
* kind, category and legal_route come from :func:`actions.routing.classify`
  exactly as in the bot; an emergency anywhere in the caller's words makes
  the route ``emergency``.

Confidence and review: every field of :data:`REVIEW_FIELDS` gets a
confidence. A field goes to ``needs_review`` when its confidence is below
:data:`REVIEW_THRESHOLD`, or when it is missing and required
(:data:`REQUIRED_FIELDS`). ``id_number``, ``occurred`` and ``location`` are
optional: missing is fine, a doubtful value is reviewed. Every hotline draft
is also marked ``source.operator_review = true``: an operator confirms it
before it is handled, whatever ``needs_review`` says.

Identity: ``case_id`` is derived from the call (``XF`` + date of
``started_at`` + six Crockford characters of SHA-256 of the call id, or of
the content hash for transcripts without a call id), so the same call always
gives the same case and the backend's idempotency by ``case_id`` prevents
duplicates. The query code is derived from the case id with a secret
(HMAC; ``XF_HOTLINE_SECRET`` or ``<var>/hotline.key``), so ingesting a call
twice also gives the same code, which the operator reads to the caller. The
clear code is never in the queue payload.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import os
import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Awaitable, Callable, Mapping, Optional, Sequence

from actions.case_record import build_case
from actions.extract import FIELDS, extract_answer, extract_facts, find_correction, is_plausible_name
from actions.ids import BEIJING, CROCKFORD_ALPHABET, now_beijing
from actions.intake import FIELD_TO_SLOT
from actions.normalize import SPOKEN_DIGITS, normalize_text
from actions.routing import Routing, classify, detect_emergency
from actions.validators import clean_free_text, is_refusal, iter_id_numbers, parse_phone
from bot.paths import ROOT
from channels.transcripts import CALLER, OPERATOR, Transcript, TranscriptError, parse_transcript

__all__ = [
    "Draft",
    "REVIEW_THRESHOLD",
    "REVIEW_FIELDS",
    "REQUIRED_FIELDS",
    "build_draft",
    "hotline_case_id",
    "hotline_query_code",
    "HotlineInput",
    "verify_operator",
]

logger = logging.getLogger(__name__)

REVIEW_THRESHOLD = 0.7
#: fields that carry a confidence in every draft
REVIEW_FIELDS = FIELDS + ("first_time", "legal_route")
#: missing -> needs_review
REQUIRED_FIELDS = ("name", "phone", "address", "respondent", "description", "demand")
_CONTACT_FIELDS = frozenset({"name", "phone", "id_number", "address"})
_MATTER_FIELDS = frozenset({"respondent", "occurred", "location"})

# Priority of a value's origin: a correction beats an answer beats a cue fact.
_CUE, _ANSWER, _CORRECTION = 1, 2, 3

# ---------------------------------------------------------------- questions

_HAN = "\u4e00-\u9fff"
_ORG_WORDS = r"单位|公司|部门|企业|工厂|厂子|厂|物业|开发商|医院|学校|机构|局|所|院|中心|机关|银行|商家|店|村委会?|居委会|街道|政府|社区"
# (field, pattern) in priority order: a matched span is blanked before the next field is tried.
_QUESTIONS: tuple[tuple[str, str], ...] = (
    ("prior", r"(?:之前|以前|上次|上回|曾经|过去|上个?月|去年|前几天)(?:有没有|是否|是不是)?[^，。？?]{0,8}?(?:反映|来电|打过|投诉|信访|来访)"
              r"|第一次(?:反映|打|来电)|首次(?:反映|来电)|同一(?:件|个)事"),
    ("id_number", r"身份证"),
    ("respondent", rf"(?:哪个|哪家|哪一家|什么)[{_HAN}]{{0,4}}?(?:{_ORG_WORDS})"
                   rf"|(?:{_ORG_WORDS})(?:的)?(?:全称|名称|名字|叫什么|是哪)"
                   r"|被反映|(?:反映|投诉|举报|告)(?:的是)?谁|对方是|是谁(?:干|弄|做|搞)的|谁(?:负责|干的|弄的)|负责的是"),
    ("name", r"贵姓|怎么称呼|如何称呼|称呼您|叫什么名字|(?:您|你)的?(?:名字|姓名|全名)|姓名|尊姓|您是哪位"),
    ("phone", r"电话|手机|联系方式|号码|怎么联系|联系(?:您|你)|联系到|回访|打给您"),
    ("address", r"住(?:在)?(?:哪|什么地方)|住址|地址|家(?:住|在)(?:哪|什么)|家(?:住|在)?哪|居住|"
                r"您是哪(?:个|里)(?:村|乡|镇|小区|社区|街道)?的?"),
    ("occurred", r"什么时候|何时|哪天|几号|哪一?年|几月|多久|多长时间|时间|持续"),
    ("location", r"(?:什么|哪个|哪)(?:地方|位置|路段|地点|路口|村|乡|镇|小区|站|路|街)|具体(?:位置|地点|在哪)|地点|在哪(?:里|儿)?|哪里"),
    ("demand", r"诉求|(?:希望|想|要)(?:我们)?(?:怎么|如何)(?:处理|解决|办)|什么要求|要求是|(?:帮您|帮你)做什么"
               r"|希望[^，。？?]{0,4}(?:做什么|怎么样)|想让我们|有什么要求|您的意见|想怎么"),
    ("description", r"什么事|什么情况|什么问题|具体(?:情况|经过|说说|讲讲)|怎么回事|详细(?:说|讲)|请讲|请说|您讲|慢慢说"
                    r"|反映什么|有什么(?:可以)?帮|需要反映|要反映"),
)
_QUESTION_PATTERNS = tuple((name, re.compile(pattern)) for name, pattern in _QUESTIONS)
_READ_BACK = re.compile(r"(?:对吗|是吗|对吧|是吧|没错吧|对不对|是不是|没错吗)[?？。]?$")
_CURRENT_NUMBER = re.compile(
    r"这个(?:号码?|电话|手机)|打进来的|打来的|现在(?:打|用)的|来电(?:号码|显示)|现在这个|就是这个|用这个|打这个|这个就行|这个就可以|这个能"
)
_AFFIRM = re.compile(r"^(?:嗯+|对+|是+|对的|是的|没错|能|可以|行|好的?|有|反映过|打过|就是)(?:[，,。！!的啊呀吧]|$)")
_DENY = re.compile(r"^(?:不对|不是|错了|说错了|搞错了|没有|没|不)(?:[，,。！!的啊呀吧]|$)|^(?:不对|不是|错了)")


def _asked_fields(operator_text: str) -> list[str]:
    """Fields the operator asks about in this turn, in the order asked."""
    text = normalize_text(operator_text)
    found: list[tuple[int, str]] = []
    for name, pattern in _QUESTION_PATTERNS:
        for m in pattern.finditer(text):
            found.append((m.start(), name))
            text = text[: m.start()] + "\n" * (m.end() - m.start()) + text[m.end():]
    names = [name for _, name in sorted(found)]
    if "prior" in names and "occurred" in names:
        names.remove("occurred")  # "您之前是什么时候反映的" asks about the earlier petition
    ordered: list[str] = []
    for name in names:
        if name not in ordered:
            ordered.append(name)
    return ordered


# ----------------------------------------------------------- spoken numbers

_SPOKEN = "".join(SPOKEN_DIGITS)
_NUMBER_RUN = re.compile(rf"[0-9{_SPOKEN}]+(?:[，,、。\s\-]+[0-9{_SPOKEN}]+)*(?:[xX叉])?")


def _joined_numbers(text: str) -> list[str]:
    """Digit strings of number groups split by commas or spaces ("139，1234，0001")."""
    out = []
    for m in _NUMBER_RUN.finditer(normalize_text(text)):
        raw = re.sub(r"[，,、。\s\-]", "", m.group())
        digits = "".join(SPOKEN_DIGITS.get(ch, ch) for ch in raw).replace("叉", "X")
        if len(digits) >= 7:
            out.append(digits)
    return out


def _phone_in(text: str) -> Optional[str]:
    phone = parse_phone(text)
    if phone:
        return phone
    for digits in _joined_numbers(text):
        phone = parse_phone(digits)
        if phone and len(re.sub(r"\D", "", phone)) == len(digits):
            return phone
    return None


def _id_in(text: str) -> Optional[str]:
    for digits in [normalize_text(text)] + _joined_numbers(text):
        for value, _s, _e in iter_id_numbers(digits):
            return value
    return None


def _looks_like_id_attempt(text: str) -> bool:
    return any(len(re.sub(r"\D", "", d)) >= 15 for d in _joined_numbers(text))


# ------------------------------------------------------------ name helpers

_CHAR_HINT = re.compile(
    r"^(?:(?:弓长|立早|耳东|木子|口天|古月|双木|言午|草头|三横|文刀|人可|关耳|走肖|禾口|木易|十八子|千里|双口|"
    r"三点水|提手|单人|双人|宝盖|草字头|木字旁)[的]?[" + _HAN + r"]"
    r"|[" + _HAN + r"]{1,3}的[" + _HAN + r"])+$"
)
_CLAUSE_SPLIT = re.compile(r"([，,。；;！!？?、\s]+)")


def _drop_char_hints(text: str) -> str:
    """Text without clauses that only spell characters ("弓长张", "道德的德")."""
    parts = _CLAUSE_SPLIT.split(text)
    kept = []
    for i in range(0, len(parts), 2):
        clause = parts[i]
        sep = parts[i + 1] if i + 1 < len(parts) else ""
        core = clause.strip()
        if core and _CHAR_HINT.match(core) and (not re.search("的", core) or _spelled(core)):
            kept.append(sep)
            continue
        kept.append(clause + sep)
    return "".join(kept)


def _spelled(core: str) -> bool:
    """"道德的德": the character after 的 occurs in the word before it."""
    for m in re.finditer(rf"([{_HAN}]{{1,3}})的([{_HAN}])", core):
        if m.group(2) not in m.group(1):
            return False
    return True


_SURNAME_ONLY = re.compile(rf"(?:免贵|我|俺|本人)?姓([{_HAN}])(?![{_HAN}]{{1,3}}(?:[，,。]|$))")
_HONORIFIC = re.compile(rf"([{_HAN}])(先生|女士|阿姨|大爷|大妈|大姐|大哥|师傅|老师|奶奶|爷爷)")


# -------------------------------------------------------------- first time

_PRIOR_CUE = re.compile(
    r"(?:之前|以前|上次|上回|前几次|早就|已经|曾经|多次|好几次|去年|前年|上个?月|上周|上礼拜|前段时间|前几天)"
    r"[^。！？!?]{0,10}?(?:反映|打过|打了|来过电话|打电话|打热线|投诉|举报|信访|上访|来访|写信|找过你们)"
    r"|(?:反映|投诉|举报|来电|上访|信访)过"
    r"|打过(?:一次|两次|几次|好几次|多次|很多次|电话|热线|你们|12345)"
    r"|又(?:打|来|反映)|再次(?:反映|来电|打)|第[二三四五六七八九十2-9]次(?:打|反映|来电)|还是(?:那个|上次|同一个|同一件)事"
)
_PRIOR_NEGATED = re.compile(r"没|未|从不|从来不|第一次|头一次|首次")
_PRIOR_OTHER_PARTY = re.compile(
    r"(?:向|跟|给|找|和)(?:他们|对方|公司|老板|物业|厂|单位|学校|医院|商家|店|开发商|包工头|项目部|经理|班主任)"
)


def _prior_statement(text: str) -> Optional[bool]:
    """True: the matter was petitioned before; False: explicitly the first time; None: not said."""
    norm = normalize_text(text)
    if re.search(r"第一次|头一次|首次", norm) and re.search(r"打|反映|来电|投诉", norm):
        return False
    for m in _PRIOR_CUE.finditer(norm):
        span = norm[max(0, m.start() - 3): m.end()]
        if _PRIOR_NEGATED.search(span):
            continue
        clause_start = max(norm.rfind(p, 0, m.start()) for p in "，,。！？!?；;")
        if _PRIOR_OTHER_PARTY.search(norm[clause_start + 1: m.end()]):
            continue
        return True
    return None


# -------------------------------------------------------------- off-topic

_CHITCHAT = re.compile(
    r"天气|下雨|下雪|冷不冷|热不热|吃饭了吗|吃了吗|吃了没|你多大|哪里人|结婚了|孙子|孙女|外孙|考上大学|出息|"
    r"猫|狗|宠物|跳广场舞|打麻将|电视剧|你们辛苦|你声音真好听|你几点下班|放假|"
    r"听得(?:到|见|清)|听不(?:到|见|清)|大声点|耳朵不好|耳朵不太好|信号不好"
)
# Words of a grievance: a sentence with one of them is never dismissed as chit-chat.
_GRIEVANCE = re.compile(
    r"问题|反映|投诉|举报|不管|没人管|欠|拖|乱|违法|违规|违章|私自|污染|坏了|漏水|堵|占|罚|收费|补偿|赔|"
    r"挡|吵|噪音|臭|塌|拆|不给|不发|没给|不让|被|要求|希望"
)
_REDIRECT = re.compile(r"说回|回到|先说|言归正传|回到正题|说正事|咱们?还是说|我们还是说|先不说这个|这个我们先不")
_PLEASANTRY = re.compile(
    r"^(?:好+|好的|行|可以|嗯+|对|是的?|有的?|谢谢|谢谢你|谢谢您|麻烦(?:你|您)了?|辛苦了?|再见|拜拜|没有了?|没别的了?|就这些|"
    r"知道了|明白了|那就这样|行吧|好吧|(?:那|那就|那你们)?(?:你们)?(?:给我)?记(?:下来|一下)(?:吧)?)"
    r"[，,。！!啊呀吧了闺女姑娘同志小姑娘小伙子\s谢你您们好的]*$"
)
_CONTACT_CLAUSE = re.compile(
    r"^(?:你好|您好)?(?:我|俺)?(?:的)?(?:电话|手机|联系电话|联系方式|号码|身份证|名字|姓名|住址|地址)"
    r"|^(?:我|俺)(?:叫|姓)|^免贵"
)
_SENTENCE = re.compile(r"[^。！？!?；;]+[。！？!?；;]*")
_CLAUSE = re.compile(r"[^，,。！？!?；;]+[，,。！？!?；;]*")


def _is_chitchat(sentence: str) -> bool:
    """Small talk: weather, pets, family news, the line itself; never a sentence with a grievance."""
    return bool(_CHITCHAT.search(sentence)) and not _GRIEVANCE.search(sentence)


def _without_chitchat(text: str) -> str:
    return "".join(s for s in _SENTENCE.findall(text) if not _is_chitchat(s))


def _is_pleasantry(text: str) -> bool:
    """Thanks, yes/no and goodbyes only."""
    clauses = [c.strip("，,。！？!?；; ") for c in _CLAUSE.findall(text)]
    return all(not c or _PLEASANTRY.match(c) for c in clauses)


# ------------------------------------------------------------------ draft


@dataclass
class _Value:
    value: Optional[str]
    confidence: float
    priority: int
    turn: int


@dataclass
class Draft:
    """A case draft of one call: the §4 payload (without query code) and how it was made."""

    case: dict
    case_id: str
    call_key: str
    needs_review: list[str]
    transcript: Transcript


@dataclass
class _State:
    values: dict[str, _Value] = field(default_factory=dict)
    declined: set[str] = field(default_factory=set)
    narrative: list[str] = field(default_factory=list)
    demands: list[tuple[str, float]] = field(default_factory=list)
    suggestions: list[str] = field(default_factory=list)
    first_time: Optional[bool] = None
    phone_is_caller_number: Optional[float] = None

    def offer(self, name: str, value: Optional[str], confidence: float, priority: int, turn: int) -> None:
        """Keep *value* unless the current one has higher standing (cue facts: first wins)."""
        if not value:
            return
        current = self.values.get(name)
        if current is not None:
            if current.priority > priority:
                return
            if current.priority == priority == _CUE:
                return
        self.values[name] = _Value(value, round(min(max(confidence, 0.0), 1.0), 2), priority, turn)
        self.declined.discard(name)
        if name == "phone":
            self.phone_is_caller_number = None


def _boost(confidence: float) -> float:
    """An answer to the operator's explicit question is more certain than the same words alone."""
    return max(confidence, min(0.9, confidence + 0.25))


_CORRECTION_SPLIT = re.compile(
    r"(?:哦|噢|喔|啊|呃|哎|诶|嗯)?[，,\s]*(?:等一下|等等)?[，,\s]*"
    r"(?:刚才|前面|我刚|刚刚)?[^，,。；;！!？?]{0,8}?(?:说错了|记错了|搞错了|弄错了|写错了|打错了|不对不对|不对|更正一下|纠正一下)"
)


def _split_correction(text: str) -> tuple[str, str]:
    """(before, from the correction on) of a turn that corrects itself; ("", text) when it starts with it."""
    norm = normalize_text(text)
    m = _CORRECTION_SPLIT.search(norm)
    if not m:
        return norm, ""
    # the correction starts at the beginning of its clause
    start = max([norm.rfind(p, 0, m.start()) for p in "，,。；;！!？?"] + [-1]) + 1
    if m.start() > start and norm[start:m.start()].strip(" ，,"):
        start = m.start()
    return norm[:start], norm[start:]


def _answer(field_name: str, text: str, state: _State, turn: int, transcript: Transcript, question: str) -> bool:
    """Fill *field_name* from a reply to the operator's question; True when something was taken."""
    if field_name == "phone":
        phone = _phone_in(text)
        if phone:
            state.offer("phone", phone, 0.95, _ANSWER, turn)
            return True
        caller = parse_phone(transcript.caller_number or "")
        cleaned = clean_free_text(text) or ""
        refers = _CURRENT_NUMBER.search(normalize_text(text))
        yes_to_current = _AFFIRM.match(normalize_text(text)) and _CURRENT_NUMBER.search(normalize_text(question))
        if caller and (refers or yes_to_current) and not _DENY.match(cleaned):
            state.offer("phone", caller, 0.9, _ANSWER, turn)
            state.phone_is_caller_number = 0.9
            return True
        return False
    if field_name == "id_number":
        value = _id_in(text)
        if value:
            state.offer("id_number", value, 0.99, _ANSWER, turn)
            return True
        if _looks_like_id_attempt(text):
            state.values["id_number"] = _Value(None, 0.3, _ANSWER, turn)  # given but not valid
            return True
        if is_refusal(text) or re.search(r"不(?:方便|想|给|提供|说)|没带|记不(?:住|清|得)|不记得|算了", normalize_text(text)):
            state.declined.add("id_number")
            state.values.pop("id_number", None)
            return True
        return False
    if field_name == "name":
        cleaned = _drop_char_hints(normalize_text(text))
        if is_refusal(cleaned) or re.search(r"不(?:说|告诉|留|方便|想)|匿名|保密|怕.{0,4}报复", cleaned) and not extract_facts(cleaned).get("name"):
            if not extract_answer("name", cleaned):
                state.declined.add("name")
                return True
        fact = extract_answer("name", cleaned)
        if fact:
            state.offer("name", fact.value, _boost(fact.confidence), _ANSWER, turn)
            return True
        m = _SURNAME_ONLY.search(cleaned)
        if m:
            state.offer("name", m.group(1), 0.4, _ANSWER, turn)
            return True
        return False
    if field_name == "description":
        return False  # the narrative is collected separately
    answer_text = normalize_text(text)
    if field_name in ("respondent", "location", "address", "occurred"):
        # a bare answer is its first clause ("宏基公司的项目，刘大海是…" -> respondent from the facts)
        facts = extract_facts(answer_text)
        if field_name in facts:
            fact = facts[field_name]
            state.offer(field_name, fact.value, _boost(fact.confidence), _ANSWER, turn)
            return True
        first = re.split(r"[，,。；;！!？?]", answer_text.strip("，,。 "))[0]
        fact = extract_answer(field_name, first) or extract_answer(field_name, answer_text)
    else:
        fact = extract_answer(field_name, answer_text)
    if fact is None:
        if field_name in ("occurred", "location") and re.search(r"不(?:知道|清楚|记得)|记不清|忘了", answer_text):
            state.declined.add(field_name)
            return True
        return False
    if field_name == "demand":
        state.demands.insert(0, (fact.value, _boost(fact.confidence)))
        return True
    state.offer(field_name, fact.value, _boost(fact.confidence), _ANSWER, turn)
    return True


def _apply_correction(text: str, state: _State, turn: int, pending: Optional[tuple[str, str]]) -> None:
    corrected = find_correction(text)
    if corrected is None:
        stripped = re.sub(r"^(?:哦|噢|喔|啊|呃|哎|诶|嗯|等一下|等等|[，,\s])+", "", text)
        corrected = find_correction(stripped)
        if corrected is None and pending:
            rest = re.sub(r"^(?:不对不对|不对|不是|错了|说错了)[，,\s]*(?:应该)?(?:是|叫)?", "", stripped)
            fact = extract_answer(pending[0], _drop_char_hints(rest))
            if fact:
                corrected = (pending[0], fact)
    if corrected is None:
        return
    name, fact = corrected
    if name == "description":
        return
    if fact is None:
        current = state.values.get(name)
        if current is not None:
            current.confidence = min(current.confidence, 0.5)
        return
    if name == "phone":
        phone = _phone_in(fact.value) or fact.value
        state.offer("phone", phone, 0.9, _CORRECTION, turn)
    elif name == "demand":
        state.demands.insert(0, (fact.value, 0.85))
    else:
        state.offer(name, fact.value, max(fact.confidence, 0.85), _CORRECTION, turn)


def _narrative_part(text: str) -> str:
    """The factual sentences of one caller turn (no contact clauses, demands, chit-chat)."""
    norm = normalize_text(text)
    kept: list[str] = []
    for sentence in _SENTENCE.findall(norm):
        if _is_chitchat(sentence) or _is_pleasantry(sentence):
            continue
        clauses = []
        for clause in _CLAUSE.findall(sentence):
            core = clause.strip("，,。！？!?；; ")
            if not core or _CONTACT_CLAUSE.search(core) or _CURRENT_NUMBER.fullmatch(core):
                continue
            if re.search(r"(?:电话|手机|号码)(?:就)?(?:是|用|打)?这个", core):
                continue
            clauses.append(clause)
        piece = "".join(clauses)
        if not piece.strip():
            continue
        facts = extract_facts(piece)
        description = facts.get("description")
        if description is None:
            continue
        kept.append(description.value)
    return "".join(part if part.endswith(("。", "！", "？", "，")) else part + "。" for part in kept)


def _collect_demand(text: str, state: _State) -> None:
    facts = extract_facts(text)
    if "demand" in facts:
        state.demands.append((facts["demand"].value, facts["demand"].confidence))
    for m in re.finditer(r"(?:我|俺)?(?:想|就是想)?(?:提个?|有个)?建议(?:是|一下)?[，,：:]?([^。！？!?；;]{4,})", normalize_text(text)):
        state.suggestions.append(m.group(1).strip("，, "))


def hotline_case_id(call_key: str, received_at: datetime) -> str:
    """``XF<date>-<6 Crockford chars of SHA-256(call key)>``: the same call, the same case."""
    digest = int.from_bytes(hashlib.sha256(f"hotline:{call_key}".encode("utf-8")).digest()[:8], "big")
    chars = "".join(CROCKFORD_ALPHABET[(digest >> (5 * i)) & 31] for i in range(6))
    return f"XF{received_at.astimezone(BEIJING):%Y%m%d}-{chars}"


def _secret(environ: Mapping[str, str]) -> bytes:
    configured = environ.get("XF_HOTLINE_SECRET", "").strip()
    if configured:
        return configured.encode("utf-8")
    path = Path(environ.get("XF_VAR_DIR", "").strip() or ROOT / "var") / "hotline.key"
    try:
        return bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError):
        path.parent.mkdir(parents=True, exist_ok=True)
        key = secrets.token_bytes(32)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it meanwhile
            return bytes.fromhex(path.read_text(encoding="ascii").strip())
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.hex())
        return key


def hotline_query_code(case_id: str, environ: Optional[Mapping[str, str]] = None) -> str:
    """The query code of a hotline case: HMAC of the case id with the hotline secret (stable across runs)."""
    key = _secret(os.environ if environ is None else environ)
    digest = int.from_bytes(hmac.new(key, case_id.encode("utf-8"), hashlib.sha256).digest()[:8], "big")
    return "".join(CROCKFORD_ALPHABET[(digest >> (5 * i)) & 31] for i in range(6))


def _received_at(transcript: Transcript) -> datetime:
    if transcript.started_at is not None:
        return transcript.started_at
    mtime = transcript.extra.get("file_mtime")
    if mtime is not None:
        return datetime.fromtimestamp(float(mtime), BEIJING)
    return now_beijing()


def _walk(transcript: Transcript) -> _State:
    state = _State()
    turns = transcript.turns
    asked: list[str] = []
    question = ""
    pending: Optional[tuple[str, str]] = None  # (field, value) the operator read back
    answered_question = True
    for index, turn in enumerate(turns):
        if turn.speaker == OPERATOR:
            question = turn.text
            asked = _asked_fields(turn.text)
            pending = _read_back(turn.text)
            answered_question = False
            continue
        context = asked if not answered_question else []
        answered_question = True
        redirected = any(
            t.speaker == OPERATOR and _REDIRECT.search(normalize_text(t.text)) for t in turns[index + 1: index + 2]
        )
        before, correction = _split_correction(turn.text)
        head = before if before.strip("，,。 ") else ""
        norm = normalize_text(turn.text)

        # the operator read a value back: yes confirms it, "不对，是…" corrects it
        handled_pending = False
        if pending and not context:
            cleaned = clean_free_text(norm) or norm
            if _DENY.match(norm) or _DENY.match(cleaned):
                _apply_correction(norm, state, index, pending)
                handled_pending = True
            elif _AFFIRM.match(norm):
                state.offer(pending[0], pending[1], 0.95, _ANSWER, index)
                handled_pending = True
        answered: set[str] = set()
        if context and not handled_pending:
            if "prior" in context:
                yes = _AFFIRM.match(norm) or _prior_statement(norm)
                no = re.match(r"^(?:没有|没|不是|第一次|头一次)", norm)
                if no:
                    state.first_time = True if state.first_time is None else state.first_time
                elif yes:
                    state.first_time = False
            for name in context:
                if name == "prior":
                    continue
                target = head if (head and correction) else norm
                if _answer(name, target, state, index, transcript, question):
                    answered.add(name)
            if pending and _DENY.match(norm):
                _apply_correction(norm, state, index, pending)
        if correction:
            _apply_correction(correction, state, index, pending)

        # cue-based facts
        contact_answer = bool(set(context) & _CONTACT_FIELDS) and not (set(context) - _CONTACT_FIELDS - {"prior"})
        own_words = _without_chitchat(head if (head and correction) else norm)
        facts = extract_facts(_drop_char_hints(own_words)) if own_words else {}
        # "上个月就打过一次了，说转给城管": when and whom of the earlier petition, not of the matter
        about_matter = "".join(c for c in _CLAUSE.findall(own_words) if _prior_statement(c) is None)
        matter_facts = extract_facts(about_matter) if about_matter else {}
        for name in ("occurred", "respondent"):
            if name in facts and name not in matter_facts:
                del facts[name]
        for name, fact in facts.items():
            if name in ("description", "demand") or name in answered:
                continue
            if contact_answer and name not in _CONTACT_FIELDS:
                continue
            if name == "respondent" and fact.confidence < 0.4:
                continue  # a landmark ("在…小学门口"), not a party
            if name == "phone":
                value = _phone_in(fact.value) or fact.value
                state.offer("phone", value, fact.confidence, _CUE, index)
            else:
                state.offer(name, fact.value, fact.confidence, _CUE, index)
        if "phone" not in state.values and re.search(r"(?:电话|手机|号码)(?:就)?(?:是|用|打)?这个", norm):
            caller = parse_phone(transcript.caller_number or "")
            if caller:
                state.offer("phone", caller, 0.85, _CUE, index)
                state.phone_is_caller_number = 0.85

        prior = _prior_statement(norm)
        if prior is True:
            state.first_time = False
        elif prior is False and state.first_time is None:
            state.first_time = True

        # narrative and demand
        if "demand" in context and "demand" in answered:
            continue
        if contact_answer and "description" not in context:
            continue
        if redirected or handled_pending or _is_pleasantry(norm):
            continue
        matter_only = set(context) & _MATTER_FIELDS and not ("description" in context)
        part = _narrative_part(own_words)
        if matter_only and len(re.findall(f"[{_HAN}]", part)) < 12:
            continue
        if part:
            state.narrative.append(part)
        _collect_demand(own_words, state)
    return state


def _read_back(operator_text: str) -> Optional[tuple[str, str]]:
    """(field, value) when the operator reads a value back and asks for confirmation."""
    norm = normalize_text(operator_text)
    if not _READ_BACK.search(norm):
        return None
    cleaned = _drop_char_hints(norm)
    phone = _phone_in(cleaned)
    if phone:
        return ("phone", phone)
    id_number = _id_in(cleaned)
    if id_number:
        return ("id_number", id_number)
    first = re.split(r"[，,。？?\s]", cleaned.strip())[0]
    first = re.sub(r"^(?:您是|你是|是|叫)", "", first)
    if is_plausible_name(first):
        return ("name", first)
    return None


def _routing(description: str, demand: str, respondent: str, caller_text: str) -> Routing:
    routing = classify(description, demand, respondent)
    if routing.legal_route != "emergency" and detect_emergency(caller_text):
        routing = classify(caller_text, demand, respondent)
    return routing


_NAMED_PLACE = re.compile(
    rf"(?:我们|俺们|咱们|我家在|在|^|[，。])([{_HAN}0-9A-Za-z]{{1,10}}?(?:小区|花园|家园|新村|村|镇|乡|路|街|大道|工地|广场|公园|市场))"
    r"(?=的|里|门口|从|上|附近|旁边|一带|[，,。！!？?]|$)"
)
_NOT_A_PLACE_NAME = re.compile(r"^(?:这|那|哪|我|俺|咱|他|她|们|个|条|的|一|上|下|马|出|道|公|小|大|老)")


def _place_in_narrative(description: str) -> Optional[str]:
    """A named place in the caller's account ("我们幸福里小区的电梯…" -> 幸福里小区), if any."""
    for m in _NAMED_PLACE.finditer(description):
        value = re.sub(r"^(?:我们|俺们|咱们|我家在|在)", "", m.group(1))
        if len(value) >= 4 and not _NOT_A_PLACE_NAME.match(value) and not re.search(r"[我俺你他她给借年月了的是在把被说要]", value):
            return value
    return None


def _description_confidence(text: str) -> float:
    han = len(re.findall(f"[{_HAN}]", text))
    return 0.85 if han >= 15 else 0.6 if han >= 4 else 0.3


def build_draft(transcript: Transcript, *, with_query_code: bool = False) -> tuple[dict, Optional[str]]:
    """The §4 case draft of one call, and its query code (only when *with_query_code*).

    The payload carries ``confidence`` for every field of :data:`REVIEW_FIELDS`,
    ``needs_review``, ``first_time``, ``source`` = {call_id, turns,
    operator_id, operator_review: true} and, when *with_query_code*, the
    query code's hash (never the code itself).
    """
    state = _walk(transcript)
    values = {name: v.value for name, v in state.values.items() if v.value}
    confidence: dict[str, float] = {name: v.confidence for name, v in state.values.items() if v.value}

    # phone: stated, confirmed calling number, or the calling number as a guess
    if "phone" not in values:
        caller = parse_phone(transcript.caller_number or "")
        if caller:
            values["phone"] = caller
            confidence["phone"] = 0.6
    if "name" in values and not is_plausible_name(values["name"]) and len(values["name"]) == 1:
        # only the surname: "王先生" when the operator says so, else the surname alone
        for turn in transcript.turns:
            if turn.speaker == OPERATOR:
                m = _HONORIFIC.search(normalize_text(turn.text))
                if m and m.group(1) == values["name"]:
                    values["name"] = m.group(1) + m.group(2)
                    break
        confidence["name"] = min(confidence.get("name", 0.4), 0.5)

    description = "".join(state.narrative).strip() or None
    if description:
        confidence["description"] = _description_confidence(description)
    demands: list[str] = []
    demand_conf = 0.0
    for value, conf in state.demands:
        if value not in demands and not any(value in d for d in demands):
            demands.append(value)
            demand_conf = max(demand_conf, conf)
    if demands:
        values["demand"] = "；".join(demands[:2])
        confidence["demand"] = round(demand_conf, 2)
    elif state.suggestions:
        values["demand"] = state.suggestions[0]
        confidence["demand"] = 0.6

    if "location" not in values and "location" not in state.declined and description:
        place = _place_in_narrative(description)
        if place:
            values["location"] = place
            confidence["location"] = 0.6
    if "respondent" not in values and values.get("demand"):
        # "希望公交公司恢复线路": who should act is the best guess of whom it concerns
        org = extract_facts("反映" + values["demand"]).get("respondent")
        if org and org.confidence >= 0.7:
            values["respondent"] = org.value
            confidence["respondent"] = 0.6
    caller_text = "。".join(t.text for t in transcript.turns if t.speaker == CALLER)
    routing = _routing(description or "", values.get("demand", ""), values.get("respondent", ""), caller_text)
    first_time = state.first_time if state.first_time is not None else True
    confidence["first_time"] = 0.9 if state.first_time is not None else 0.75
    confidence["legal_route"] = routing.confidence

    needs_review: list[str] = []
    for name in REVIEW_FIELDS:
        if name in ("first_time", "legal_route"):
            if confidence[name] < REVIEW_THRESHOLD and not (name == "legal_route" and routing.legal_route == "petition"):
                needs_review.append(name)
            continue
        if name == "description":
            present = description is not None
        else:
            present = name in values
        if present:
            if confidence.get(name, 0.0) < REVIEW_THRESHOLD:
                needs_review.append(name)
        elif name == "id_number" and "id_number" in state.values and state.values["id_number"].value is None:
            needs_review.append(name)  # an ID was given but is not valid
        elif name in REQUIRED_FIELDS:
            needs_review.append(name)
        confidence.setdefault(name, 0.0 if not present else confidence.get(name, 0.0))

    received_at = _received_at(transcript)
    call_key = transcript.call_key
    case_id = hotline_case_id(call_key, received_at)
    query_code = hotline_query_code(case_id) if with_query_code else None
    slots = {FIELD_TO_SLOT[name]: value for name, value in values.items() if name in FIELD_TO_SLOT}
    slots["description"] = description
    source = {
        "call_id": call_key,
        "turns": len(transcript.turns),
        "operator_id": transcript.operator_id,
        "operator_review": True,
    }
    case, _ = build_case(
        slots,
        input_channel="hotline",
        channel_user=call_key,
        turns=len(transcript.turns),
        received_at=received_at,
        case_id=case_id,
        query_code=query_code,
        with_query_code=with_query_code,
        first_time=first_time,
        confidence={name: round(float(confidence.get(name, 0.0)), 2) for name in REVIEW_FIELDS},
        needs_review=needs_review,
        source=source,
        routing=routing,
    )
    return case, query_code


def draft_from_text(data: str | bytes, *, source: str = "<请求>", with_query_code: bool = False) -> tuple[dict, Optional[str]]:
    """Parse and draft in one step (raises :class:`TranscriptError`)."""
    return build_draft(parse_transcript(data, source=source), with_query_code=with_query_code)


# ============================================================== input channel

DEFAULT_BACKEND_URL = "http://127.0.0.1:8000"
WHOAMI_PATH = "/api/v1/whoami"
ALLOWED_ROLES = frozenset({"operator", "supervisor"})
MAX_BODY_BYTES = 1024 * 1024


async def verify_operator(token: str, backend_url: str, *, timeout_s: float = 5.0) -> Optional[str]:
    """The role of *token* according to the backend (``GET /api/v1/whoami``), None if refused.

    :raises ConnectionError: the backend could not be asked.
    """
    import aiohttp

    url = backend_url.rstrip("/") + WHOAMI_PATH
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout_s)) as session:
            async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
                if response.status in (401, 403):
                    return None
                if response.status != 200:
                    raise ConnectionError(f"whoami answered HTTP {response.status}")
                body = await response.json(content_type=None)
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as exc:
        raise ConnectionError(f"whoami failed: {type(exc).__name__}") from exc
    role = body.get("role") if isinstance(body, dict) else None
    return role if isinstance(role, str) else None


def _publish(case: dict) -> None:
    from backend.queue.producer import CaseProducer

    producer = CaseProducer.from_env()
    try:
        producer.publish(case)
    finally:
        producer.close()


try:  # the channel class needs Rasa; the draft builder above does not
    from rasa.core.channels.channel import InputChannel
except ImportError:  # pragma: no cover - tools without Rasa
    InputChannel = object  # type: ignore[assignment,misc]


class HotlineInput(InputChannel):  # type: ignore[misc,valid-type]
    """``POST /webhooks/hotline/transcripts``: one transcript -> a queued draft (operator token).

    Credentials (``bot/credentials.yml``)::

        channels.hotline.HotlineInput:
          backend_url: ${XF_BACKEND_URL}   # optional; default env XF_BACKEND_URL or 127.0.0.1:8000
    """

    @classmethod
    def name(cls) -> str:
        return "hotline"

    @classmethod
    def from_credentials(cls, credentials: Optional[dict]) -> "HotlineInput":
        credentials = credentials or {}
        return cls(backend_url=credentials.get("backend_url"), allowed_roles=credentials.get("allowed_roles"))

    def __init__(
        self,
        backend_url: Optional[str] = None,
        allowed_roles: Optional[Sequence[str]] = None,
        publish: Optional[Callable[[dict], None]] = None,
    ) -> None:
        self.backend_url = backend_url or os.environ.get("XF_BACKEND_URL") or DEFAULT_BACKEND_URL
        self.allowed_roles = frozenset(allowed_roles or ALLOWED_ROLES)
        self.publish = publish or _publish

    def blueprint(self, on_new_message: Callable[[Any], Awaitable[Any]]) -> Any:
        from sanic import Blueprint, response

        hotline = Blueprint("hotline_webhook", __name__)

        def error(status: int, code: str, message: str, **extra: Any) -> Any:
            return response.json({"error": code, "message": message, **extra}, status=status,
                                 dumps=lambda o: json.dumps(o, ensure_ascii=False))

        @hotline.route("/", methods=["GET"])
        async def health(_request: Any) -> Any:
            return response.json({"status": "ok"})

        @hotline.route("/transcripts", methods=["POST"])
        async def receive(request: Any) -> Any:
            scheme, _, token = (request.headers.get("Authorization") or "").partition(" ")
            token = token.strip()
            if scheme.lower() != "bearer" or not token:
                return error(401, "unauthorized", "需要话务员的访问令牌（Authorization: Bearer …）。")
            try:
                role = await verify_operator(token, self.backend_url)
            except ConnectionError as exc:
                logger.warning("hotline: operator check failed: %s", exc)
                return error(503, "auth_unavailable", "暂时无法验证访问令牌，请稍后再试。")
            if role not in self.allowed_roles:
                return error(401, "unauthorized", "访问令牌无效或无权提交来电记录。")
            body = request.body or b""
            if len(body) > MAX_BODY_BYTES:
                return error(413, "too_large", "转写稿过大。")
            content_type = (request.headers.get("Content-Type") or "").split(";")[0].strip().lower()
            fmt = "json" if content_type.endswith("json") else "text" if content_type.startswith("text/") else None
            try:
                transcript = parse_transcript(body, source="请求正文", fmt=fmt)
                loop = asyncio.get_running_loop()
                case, query_code = await loop.run_in_executor(
                    None, lambda: build_draft(transcript, with_query_code=True)
                )
            except TranscriptError as exc:
                return error(400, "bad_transcript", str(exc), line=exc.line)
            try:
                await loop.run_in_executor(None, self.publish, case)
            except Exception:  # noqa: BLE001 - answer the operator, keep the trace in logs
                logger.exception("hotline: could not queue case %s", case["case_id"])
                return error(503, "queue_unavailable", "来电记录暂时无法提交，请稍后重试。")
            draft = {k: v for k, v in case.items() if k != "query_code_hash"}
            return response.json(
                {"case_id": case["case_id"], "query_code": query_code, "needs_review": case["needs_review"], "draft": draft},
                status=201,
                dumps=lambda o: json.dumps(o, ensure_ascii=False),
            )

        return hotline
