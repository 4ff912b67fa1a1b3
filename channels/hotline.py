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
  A caller taking back one word (``是南四巷，不是南二巷``) changes that word in
  the answer that holds it; a place the operator reads back and the caller
  confirms is the location; ``哪个百盛？`` asks to make the last place precise.
* Places are told in pieces: the reply to a place question is joined from its
  place-like clauses until the caller moves on to something else
  (``红旗街，菜场北门旁边`` is one place). Without a place
  question, a named place in the account is used, or the caller's own village
  or estate (``我们村…``) taken from the address, both for review.
* Times as people say them: holidays (``今年清明前后``), how long a trouble
  has lasted (``路灯坏了三个多月了``), lists (``七月、八月、九月``).
* Numbers spoken as ``一三八``/``幺``/``两``, spaced and comma-separated
  groups (``幺三九，幺二三四，零零零幺``), also with pauses (``嗯……``), are normalised.
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
  the route ``emergency`` -- unless the operator gave no emergency advice
  (110/119/120, 撤离, 注意安全 …): then the words tell of damage, not of a
  present danger, the route is decided without them and goes to review
  (never for self-harm).

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
from actions.extract import (
    FIELDS,
    Fact,
    extract_answer,
    extract_facts,
    find_correction,
    full_name_clause,
    is_plausible_name,
)
from actions.ids import BEIJING, CROCKFORD_ALPHABET, now_beijing
from actions.intake import FIELD_TO_SLOT, find_swaps, replace_part
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
    # "哪个医院门口": where it is, not which hospital is complained about
    ("location", rf"(?:哪个|哪家|哪所|什么)[{_HAN}]{{0,6}}?(?:门口|门前|旁边|附近|对面|后面|前面|路口)"),
    ("prior", r"(?:之前|以前|上次|上回|曾经|过去|上个?月|去年|前几天)(?:有没有|是否|是不是)?[^，。？?]{0,8}?(?:反映|来电|打过|投诉|信访|来访)"
              r"|第一次(?:反映|打|来电)|首次(?:反映|来电)|同一(?:件|个)事"),
    ("id_number", r"身份证"),
    ("respondent", rf"(?:哪个|哪家|哪一家|什么)[{_HAN}]{{0,4}}?(?:{_ORG_WORDS})"
                   rf"|(?:{_ORG_WORDS})(?:的)?(?:全称|名称|名字|叫什么|是哪)"
                   r"|被反映|(?:反映|投诉|举报|告)(?:的是)?谁|对方是|是谁(?:干|弄|做|搞)的|谁(?:负责|干的|弄的)|负责的是"
                   # "这个棋牌室叫什么名字": the name of the thing talked about, not the caller's
                   rf"|(?:这|那)(?:个|家|所|座)[{_HAN}]{{1,6}}?(?:叫什么|叫啥|的?名字|的?名称|的?全称)"),
    ("name", r"贵姓|怎么称呼|如何称呼|称呼您|叫什么名字|(?:您|你)的?(?:名字|姓名|全名)|姓名|尊姓|您是哪位"),
    ("phone", r"电话|手机|联系方式|号码|怎么联系|联系(?:您|你)|联系到|回访|打给您"),
    ("address", r"住(?:在)?(?:哪|什么地方)|住址|地址|家(?:住|在)(?:哪|什么)|家(?:住|在)?哪|居住|"
                r"您是哪(?:个|里)(?:村|乡|镇|小区|社区|街道)?的?"),
    ("occurred", r"什么时候|何时|哪天|几号|哪一?年|几月|多久|多长时间|时间|持续"),
    ("location", r"(?:什么|哪个|哪)(?:地方|位置|路段|地点|路口|村|乡|镇|小区|站|路|街)|具体(?:位置|地点|在哪)|地点|在哪(?:里|儿)?|哪里"
                 r"|方位|哪一?(?:块|片|带|段)|哪条(?:路|街|巷|河)|哪儿|位于"),
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
# Between groups: commas, spaces, dots of a pause and hesitation sounds ("152，呃……36").
_NUMBER_GAP = r"(?:[，,、。\s\-…]|嗯|呃|额|啊)+"
_NUMBER_RUN = re.compile(rf"[0-9{_SPOKEN}]+(?:{_NUMBER_GAP}[0-9{_SPOKEN}]+)*(?:[xX叉])?")


def _joined_numbers(text: str) -> list[str]:
    """Digit strings of number groups split by commas, spaces or pauses ("139，1234，0001")."""
    out = []
    for m in _NUMBER_RUN.finditer(normalize_text(text)):
        raw = re.sub(_NUMBER_GAP, "", m.group())
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
_REDIRECT = re.compile(r"说回|回到|先说(?:正事|正题)|言归正传|回到正题|说正事|咱们?还是说|我们还是说|先不说这个|这个我们先不")
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


# ------------------------------------------------------------------- times

_NOT_AFTER_NUMBER = r"(?![0-9一二三四五六七八九十月号日点个岁年路街村])"
_HOLIDAY = re.compile(
    r"(?:(?:今年|去年|前年)的?)?"
    rf"(?:五一{_NOT_AFTER_NUMBER}|十一{_NOT_AFTER_NUMBER}|国庆节?|中秋节?|春节|端午节?|元旦|清明节?|劳动节|元宵节?"
    r"|过年|寒假|暑假|(?<![0-9一二两三四五六七八九十几多半去今前明])年[前后])"
    r"(?:前后|以后|之后|过后|左右|期间|那会儿?|前|后)?"
)
_AMOUNT = r"(?:[0-9一二两三四五六七八九十]{1,3}|大半|小半|半|几|好几|十几|一两)"
# "停了三个多月了": how long the trouble has lasted ("干了八年了" is no trouble)
_LASTED = re.compile(rf"(?<=[坏停堵拖欠漏吵闹关断挖修拆占排烂塌荒等催]了)({_AMOUNT}个?多?(?:天|周|星期|礼拜|月|年)多?)了")
# "大概半年了": a reply to "多久了"
_HOW_LONG = re.compile(
    rf"^(?:差不多|大概|大约|将近|快|得有|有|已经)*({_AMOUNT}个?多?(?:天|周|星期|礼拜|月|年)多?)(?:了|左右|的样子)?[吧啊呀吗]?(?:[，,。]|$)"
)
_TIME_JOIN = re.compile(r"、|和|到|至|一直到|～|~|—|-")
_YEAR_ONLY = re.compile(r"^(?:今年|去年|前年)$")


def _time_in(text: str) -> Optional[tuple[str, float]]:
    """When the matter happened, as said in *text*, with a confidence.

    Adds to :func:`actions.extract.extract_facts` what a call says aloud: holidays
    ("今年清明前后", "春节过后"), how long it has lasted ("堵了三个多月了" -> 三个多月),
    lists and ranges ("七月、八月、九月") and, after a bare year, the same year
    told more precisely ("去年…去年十月份").
    """
    norm = normalize_text(text)
    facts = extract_facts(norm)
    demand = facts.get("demand")
    lo = norm.find(demand.value) if demand else -1
    hi = lo + len(demand.value) if lo >= 0 else -1
    hits: list[tuple[int, str, float]] = []
    fact = facts.get("occurred")
    if fact and norm.find(fact.value) >= 0:
        hits.append((norm.find(fact.value), fact.value, fact.confidence))
    for pattern, group, confidence in ((_HOLIDAY, 0, 0.8), (_LASTED, 1, 0.75)):
        for m in pattern.finditer(norm):
            if not lo <= m.start(group) < hi:
                hits.append((m.start(group), m.group(group), confidence))
    if not hits:
        return None
    start, value, confidence = min(hits, key=lambda h: (h[0], -len(h[1])))
    end = start + len(value)
    while True:  # "七月、八月、九月"
        joiner = _TIME_JOIN.match(norm, end)
        if not joiner:
            break
        following = extract_facts(norm[joiner.end():]).get("occurred")
        if not following or not norm.startswith(following.value, joiner.end()):
            break
        end = joiner.end() + len(following.value)
    value = norm[start:end]
    if _YEAR_ONLY.match(value):
        later = re.search(re.escape(value) + r"的?[0-9一二三四五六七八九十]{1,2}月", norm[end:])
        if later:
            precise = extract_facts(norm[end + later.start():]).get("occurred")
            if precise and precise.value.startswith(value) and len(precise.value) > len(value):
                value, confidence = precise.value, max(confidence, precise.confidence)
    return value, confidence


# ------------------------------------------------------------------ places

# A word that makes a clause a place ("镇东头老粮站", "人民医院斜对面", "地下二层").
_PLACE_WORD = re.compile(
    r"省|市|区|县|镇|乡|村|屯|庄|组|社区|小区|花园|家园|新村|苑|院|大厦|公寓|楼|栋|幢|单元|层|室|号|"
    r"路|街|道|巷|弄|胡同|桥|河|湖|江|水库|山|广场|市场|公园|车站|站|工地|车库|停车场|"
    r"门口|门前|后门|前门|路口|交叉口|拐角|旁边|边上|附近|对面|后面|前面|里面|楼上|楼下|隔壁|"
    r"[东西南北](?:头|边|侧|面)|上游|下游|往[东西南北里外前后]|一带|米|"
    r"湾|园|城|坊|寨|营|堡|岗|坡|沟|洼|铺|集|店|学校|小学|中学|大学|幼儿园|医院|商场|超市|银行|加油站|"
    r"第[0-9一二三四五六七八九十]+(?:家|栋|排|间|个门)"
)
# Words of a narrative or a remark, never of a place ("整条街都黑", "楼号我记不住了").
_NOT_PLACE = re.compile(
    r"[我俺你他她咱了吗呢啥没也]|(?<!网)吧|什么|怎么|说|讲|知道|晓得|记得|记不|不(?:是|知|清|晓|记|好|行)"
    r"|(?<![成首古京])都|还(?:是|有|在)"
)
# Fillers and cue words before a place ("就在那个…", "挨着", "住在", "叫").
_PLACE_LEAD = re.compile(
    r"^(?:嗯|呃|啊|哦|噢|额|诶|哎|就是在|就是|也就是|就在|就住在?|就|应该是|应该|大概|大约|差不多|具体|"
    r"是在|是|在|位于|那个|这个|靠着|挨着|紧挨着|靠近|叫做|名叫|叫|(?:原来|以前|之前|现在|过去)的|"
    r"(?:我|俺)(?!们)家?|现在|目前|租房子?|住在|住)"
)
_PLACE_TAIL = re.compile(r"(?:那块儿?|那一?块|那一?片|那边|这边|那儿|这儿|那里|这里|那|的)$|(?<=[路街道巷])上$")
_PHRASE_SPLIT = re.compile(r"[，,。；;！!？?、…]+|\.{2,}|——")
_FILLER_CLAUSE = re.compile(r"^(?:对|是|嗯|哦|噢|对对|是的|对的|没错|好|好的)+$")


def _strip_place_clause(clause: str) -> str:
    """A clause without leading fillers/cue words and trailing deictics."""
    clause = clause.strip(" ")
    while True:
        m = _PLACE_LEAD.match(clause)
        if not m or not m.group():
            break
        clause = clause[m.end():]
    previous = None
    while previous != clause:
        previous = clause
        clause = _PLACE_TAIL.sub("", clause)
    return clause


_OWN_PLACE = re.compile(r"(?:我们|俺们|咱们)(?=小区|村|楼|院|单位|厂|学校|家门口|门口)")


def _is_place_clause(clause: str) -> bool:
    """Whether *clause* only describes a place ("我们楼门口" is one, "我们都…" is not)."""
    bare = _OWN_PLACE.sub("", clause)
    return 2 <= len(clause) <= 24 and bool(_PLACE_WORD.search(bare)) and not _NOT_PLACE.search(bare)


def _place_answer(text: str) -> Optional[str]:
    """The place a reply describes, joined from its place-like clauses.

    "红旗街，菜场北门旁边，去年翻新过的。" -> 红旗街菜场北门旁边; the first clause
    that tells something else after the place ends it. A clause the caller repeats
    more precisely replaces the shorter one ("桥西，桥西路").
    """
    parts: list[str] = []
    for raw in _PHRASE_SPLIT.split(normalize_text(text)):
        clause = _strip_place_clause(raw)
        if not clause or _FILLER_CLAUSE.match(clause):
            continue
        if _is_place_clause(clause):
            if parts and clause in parts[-1]:
                continue
            if parts and clause.startswith(parts[-1]):
                parts[-1] = clause
                continue
            parts.append(clause)
        elif parts:
            break
    return "".join(parts) or None


_AT_CLAUSE = re.compile(r"(?:^|[，,。；;])(?:就|也就)?在([^，,。；;！!？?]{2,12})")


def _at_place(text: str) -> Optional[str]:
    """"叫好运来，在百盛那边" -> 百盛: the clause that starts with 在, for a place without a place word."""
    for m in _AT_CLAUSE.finditer(normalize_text(text)):
        value = _strip_place_clause(m.group(1))
        if len(value) >= 2 and not _NOT_PLACE.search(value):
            return value
    return None


_OWN_COMMUNITY = re.compile(r"(?:我们|俺们|咱们)(村|小区|社区|大院|家属院|院子|院)")


def _own_community(description: str, address: Optional[str]) -> Optional[str]:
    """"我们村的会计…" with the address 永丰镇马庄村八组 -> 永丰镇马庄村: the matter is where the caller lives."""
    m = _OWN_COMMUNITY.search(description)
    if not m or not address:
        return None
    unit = "院" if m.group(1) == "院子" else m.group(1)
    end = address.rfind(unit)
    if end <= 0:
        return None
    return address[: end + len(unit)]


_REFINE_QUESTION = re.compile(rf"哪(?:个|家|条|座|所|一个|一家|一条)([{_HAN}]{{2,4}})")


def _refined_field(operator_text: str, state: "_State") -> Optional[str]:
    """"哪个百盛？" after the caller said 百盛: the field whose value the operator asks to make precise."""
    for m in _REFINE_QUESTION.finditer(normalize_text(operator_text)):
        word = m.group(1)[:2]
        if _PLACE_WORD.search(word) or re.search(_ORG_WORDS, word):
            continue  # "哪个公园": a kind of place, asked afresh
        for name in ("location", "address", "respondent"):
            current = state.values.get(name)
            if current is not None and current.value and word in current.value:
                return name
    return None


_SWAP_FIELDS = ("location", "address", "respondent", "occurred", "name")


def _apply_swaps(text: str, state: "_State", turn: int) -> None:
    """Replace the word a caller takes back (:func:`find_swaps`) in the latest answer that holds it."""
    for old, new in find_swaps(text):
        swapped = {
            name: replace_part(state.values[name].value, old, new) for name in _SWAP_FIELDS
            if name in state.values and state.values[name].value
        }
        holders = [(state.values[name].turn, name) for name, value in swapped.items() if value is not None]
        if not holders:
            continue
        _, name = max(holders)
        current = state.values[name]
        state.offer(name, swapped[name], max(current.confidence, 0.85), _CORRECTION, turn)


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


_DONT_KNOW = re.compile(r"^(?:这个|那个|嗯|呃)?(?:我|俺)?(?:也|真)?(?:不(?:知道|清楚|晓得|太清楚|太知道)|搞不清|说不(?:清|上来)|没(?:注意|看清))")
_NAMED_ANSWER = re.compile(r"^(?:它|他们|这个|那个|这家|那家)?(?:名字)?(?:叫做|名叫|叫)([^，,。；;！!？?]{2,20})")


def _spoken_answer(field_name: str, answer_text: str, state: _State, turn: int) -> bool:
    """Replies as people give them on the phone; True when one was taken (or is known to say nothing).

    * occurred: holidays, durations, lists (:func:`_time_in`), "大概半年了";
    * respondent: "不知道…" names nobody; "叫X，在…" names X, not a landmark after it;
    * location/address: the place joined from its clauses (:func:`_place_answer`),
      "在百盛那边" for a place without a place word.
    """
    if field_name == "occurred":
        found = _time_in(answer_text)
        how_long = _HOW_LONG.match(answer_text.strip("，,。 "))
        if found is None and how_long:
            found = (how_long.group(1), 0.75)
        if found:
            state.offer("occurred", found[0], _boost(found[1]), _ANSWER, turn)
        return bool(found)
    if field_name == "respondent":
        if _DONT_KNOW.match(answer_text) and not extract_facts(answer_text).get("respondent"):
            return True
        named = _NAMED_ANSWER.match(answer_text.strip())
        if named:
            state.offer("respondent", named.group(1), 0.85, _ANSWER, turn)
        return bool(named)
    place = _place_answer(answer_text)
    facts = extract_facts(answer_text)
    first = re.split(r"[，,。；;！!？?]", answer_text.strip("，,。 "))[0]
    found = facts.get(field_name) or extract_answer(field_name, first)
    if place and (
        field_name == "location" or found is None or _strip_place_clause(found.value) in place
        or not _is_place_clause(_strip_place_clause(found.value))
    ):
        state.offer(field_name, place, 0.85, _ANSWER, turn)
        return True
    at = _at_place(answer_text) if field_name == "location" and not facts.get("location") else None
    if at:
        state.offer("location", at, 0.6, _ANSWER, turn)
    return bool(at)


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
        full = full_name_clause(cleaned)
        if full and (fact is None or not is_plausible_name(fact.value) or fact.value[:1] in "小老"):
            state.offer("name", full, 0.85, _ANSWER, turn)
            return True
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
    if field_name in _MATTER_FIELDS | {"address"} and _spoken_answer(field_name, answer_text, state, turn):
        return True
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
    value = fact.value
    if field_name == "respondent":
        value = re.sub(r"^(?:名字|全称|名称)?(?:叫做|名叫|叫)", "", value) or value
    state.offer(field_name, value, _boost(fact.confidence), _ANSWER, turn)
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
    if name == "occurred" and fact is not None and re.fullmatch(r"刚才|刚刚|刚", fact.value):
        return  # "刚才那个我说错了": the moment of the call, not of the matter
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


_SPEECH_AFTER = re.compile(r"(?:又|就|也|还|都)?(?:说|讲|告诉|答复|回复|回答|让我|叫我|让我们|叫我们)")


def _reported_speaker(text: str, value: str) -> bool:
    """Whether *value* only occurs as someone who said something ("组长说…")."""
    positions = [m.end() for m in re.finditer(re.escape(value), text)]
    return bool(positions) and all(_SPEECH_AFTER.match(text, end) for end in positions)


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


# A clause after the demand that gives its reason or a condition ("快入冬了", "不抽的话…").
_DEMAND_REASON = re.compile(r"^(?:因为|毕竟|不然|否则|要不然|如果|要是|不[^，,。]{1,4}的话)|(?:太|快|都|实在)[^，,。]{0,8}了[啊呀吧]?$")
_DEMAND_ACTION = re.compile(r"把|给|让|要求|希望|赶紧|尽快|马上")


def _trim_demand(value: str) -> str:
    """The demand without the reasons and conditions told after it."""
    clauses = _CLAUSE.findall(value)
    for i, clause in enumerate(clauses[1:], start=1):
        core = clause.strip("，,。；; ")
        if _DEMAND_REASON.search(core) and not _DEMAND_ACTION.search(core):
            return "".join(clauses[:i]).rstrip("，,；; ")
    return value


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
            pending = _read_back(turn.text, asked)
            asked = _asked_fields(turn.text)
            refined = _refined_field(turn.text, state)
            if refined and refined not in asked:
                asked = [refined] + asked
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
        _apply_swaps(norm, state, index)

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
        found = _time_in(about_matter) if about_matter else None
        if found:
            facts["occurred"] = Fact(*found)
        if "respondent" in facts and _reported_speaker(own_words, facts["respondent"].value):
            del facts["respondent"]  # "组长说上面没拨款": who told the caller, not whom it is about
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


def _read_back(operator_text: str, previous: Sequence[str] = ()) -> Optional[tuple[str, str]]:
    """(field, value) when the operator reads a value back and asks for confirmation.

    *previous* are the fields of the operator's preceding question: a place read
    back right after "在什么位置？" is the location told in other words.
    """
    norm = normalize_text(operator_text)
    if not _READ_BACK.search(norm):
        return None
    cleaned = _drop_char_hints(norm)
    for name in ("location", "address"):
        if name in previous:
            place = _place_answer(_READ_BACK.sub("", cleaned))
            if place:
                return (name, place)
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


# The operator's reaction to a present danger: emergency numbers, "撤离", "注意安全".
_OPERATOR_ALARM = re.compile(
    r"(?<![0-9])(?:110|119|120|12356)(?![0-9])|报警|急救|救护车|撤离|疏散|注意安全|远离|离开(?:那里|现场|危险)"
)


def _routing(
    description: str, demand: str, respondent: str, caller_text: str, operator_text: str = ""
) -> tuple[Routing, bool]:
    """The routing of the call, and whether it is doubtful (an emergency the operator did not treat as one).

    Words of danger ("塌了") in a call the operator answered without any emergency
    advice tell of damage, not of a present danger: the matter is routed as if those
    clauses were not there and the route goes to review. Self-harm is never set aside.
    """
    routing = classify(description, demand, respondent)
    if routing.legal_route != "emergency" and detect_emergency(caller_text):
        routing = classify(caller_text, demand, respondent)
    if routing.legal_route != "emergency" or _OPERATOR_ALARM.search(normalize_text(operator_text)):
        return routing, False
    emergency = detect_emergency("。".join((caller_text, description)))
    if emergency is not None and emergency.kind == "self_harm":
        return routing, False
    calm_text = "".join(c for c in _CLAUSE.findall(description) if detect_emergency(c) is None)
    calm = classify(calm_text, demand, respondent)
    if calm.legal_route == "emergency":
        return routing, False
    return calm, True


_NAMED_PLACE = re.compile(
    rf"(?:我们|俺们|咱们|我家在|俺家在|在|往|^|[，。])"
    rf"((?:[{_HAN}]{{2,6}}?(?:省|市|区|县)的)?(?:(?![我俺你他她给借年月了的是在把被说要往到有从向那这])[{_HAN}0-9A-Za-z]){{1,10}}?"
    r"(?:小区|花园|家园|新村|村|镇|乡|路|街|大道|工地|广场|公园|市场|大桥|桥|水库))"
    r"(?:(下游|上游|门口|路口|东头|西头|南头|北头)"
    r"|(?=的|里|门口|从|上|附近|旁边|一带|那|这|干活|做工|打工|上班|施工|[，,。！!？?]|$))"
)
_NOT_A_PLACE_NAME = re.compile(r"^(?:这|那|哪|我|俺|咱|他|她|们|个|条|的|一|上|下|马|出|道|公|小|大|老(?![城街])|过|走|回|到|去)")
# Three-character names are places only with a proper name before the marker ("文昌路", not "水泥路").
_GENERIC_PLACE = re.compile(r"^(?:水泥|柏油|石子|沙石|乡村|村里|城里|回家|上学|上班|下班|出门|山|土|小|大|马)")


def _place_in_narrative(description: str) -> Optional[str]:
    """A named place in the caller's account ("我们幸福里小区的电梯…" -> 幸福里小区), if any.

    An administrative area told before it is kept ("在开发区的金港物流园工地" ->
    开发区金港物流园工地), and so is a position right after it ("白马河大桥下游").
    """
    for m in _NAMED_PLACE.finditer(description):
        value = m.group(1)
        value = re.sub(r"(?<=[省市区县])的", "", value, count=1)
        if (
            len(value) >= 4 or (len(value) == 3 and value[-1] in "路街巷村" and not _GENERIC_PLACE.match(value))
        ) and not _NOT_A_PLACE_NAME.match(value) and not re.search(r"[我俺你他她给借年月了的是在把被说要]", value):
            return value + (m.group(2) or "")
    return None


# "楼上那户人家在阳台上养鸽子…": a neighbour who does what the caller complains about
_NEIGHBOUR_PARTY = re.compile(
    r"(?:隔壁|对门|楼上|楼下|对面|邻居)(?:的)?(?:那|这)?(?:户|家)(?:人家|人|邻居)?"
    r"(?=在|把|私自|擅自|乱|占|搭|建|盖|装|养|堆|天天|总是|经常|一直|老是|往)"
)

# Schools go by short names ("育才三小", "市一中") that carry no organisation suffix.
_SCHOOL_SHORT_NAME = re.compile(
    rf"(?:^|[，。；！？]|在|是|到|去|读|上)((?:(?![在是到去读上了我你他她的把被给们个这那])[{_HAN}]){{1,4}}?"
    r"[一二三四五六七八九十]{1,2}[小中])(?![学午间时心型队旬年毒途级部层])"
)


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
        value = _trim_demand(value)
        if value not in demands and not any(value in d for d in demands):
            demands.append(value)
            demand_conf = max(demand_conf, conf)
    if demands:
        values["demand"] = "；".join(demands[:2])
        confidence["demand"] = round(demand_conf, 2)
    elif state.suggestions:
        values["demand"] = state.suggestions[0]
        confidence["demand"] = 0.6

    caller_text = "。".join(t.text for t in transcript.turns if t.speaker == CALLER)
    operator_text = "。".join(t.text for t in transcript.turns if t.speaker == OPERATOR)
    if "location" not in values and "location" not in state.declined and description:
        place = _place_in_narrative(description) or _own_community(
            normalize_text(caller_text), values.get("address")
        )
        if place:
            values["location"] = place
            confidence["location"] = 0.6
    if "respondent" not in values and description:
        party = _NEIGHBOUR_PARTY.search(description) or _SCHOOL_SHORT_NAME.search(description)
        if party:
            values["respondent"] = party.group(party.lastindex or 0)
            confidence["respondent"] = 0.6
    if "respondent" not in values and values.get("demand"):
        # "希望公交公司恢复线路": who should act is the best guess of whom it concerns
        org = extract_facts(values["demand"]).get("respondent")
        if org and org.confidence >= 0.7:
            values["respondent"] = org.value
            confidence["respondent"] = 0.6
    routing, route_doubtful = _routing(
        description or "", values.get("demand", ""), values.get("respondent", ""), caller_text, operator_text
    )
    first_time = state.first_time if state.first_time is not None else True
    confidence["first_time"] = 0.9 if state.first_time is not None else 0.75
    confidence["legal_route"] = min(routing.confidence, 0.5) if route_doubtful else routing.confidence

    needs_review: list[str] = []
    for name in REVIEW_FIELDS:
        if name in ("first_time", "legal_route"):
            if confidence[name] < REVIEW_THRESHOLD and (
                route_doubtful or not (name == "legal_route" and routing.legal_route == "petition")
            ):
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
