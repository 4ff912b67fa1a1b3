"""Validators for the petition form: phone, resident ID, refusals, free text.

Every public function returns ``None``/``False`` for input it cannot use and
never raises. Input may be raw citizen text: it is passed through
:func:`actions.normalize.normalize_text` first (spoken and full-width digits,
spaced digit groups, traditional characters).
"""
from __future__ import annotations

import datetime as _dt
import re
from typing import Iterator

from actions.normalize import normalize_text

__all__ = [
    "parse_phone",
    "parse_id_number",
    "is_refusal",
    "clean_free_text",
    "iter_phones",
    "iter_id_numbers",
    "id_checksum_ok",
]

# --------------------------------------------------------------------- phone

_MOBILE = re.compile(r"(?<![0-9])(?:(?:\+|00)?86[ \-]?)?(1[3-9][0-9]{9})(?![0-9])")
# Area codes: 010 and 02x have three digits and 8-digit local numbers; every
# other area code (03xx-09xx) has four digits and 7- or 8-digit numbers.
# Local numbers never start with 0 or 1.
_LANDLINE = re.compile(
    r"(?<![0-9])[(（]?"
    r"(?:(010|02[0-9])[)）]?[ \-]?([2-9][0-9]{7})"
    r"|(0[3-9][0-9]{2})[)）]?[ \-]?([2-9][0-9]{6,7}))"
    r"(?![0-9])"
)


def iter_phones(normalized: str) -> Iterator[tuple[str, int, int]]:
    """Yield ``(canonical, start, end)`` for each phone in already-normalised text, in order."""
    found = []
    for m in _MOBILE.finditer(normalized):
        found.append((m.group(1), m.start(), m.end()))
    for m in _LANDLINE.finditer(normalized):
        area = m.group(1) or m.group(3)
        local = m.group(2) or m.group(4)
        found.append((f"{area}-{local}", m.start(), m.end()))
    yield from sorted(found, key=lambda item: item[1])


def parse_phone(text: str) -> str | None:
    """First mainland mobile ("13800123456") or landline ("010-88886666") in *text*, else None."""
    try:
        return next(iter_phones(normalize_text(text)), (None,))[0]
    except Exception:  # noqa: BLE001 - validators never raise
        return None


# ----------------------------------------------------------------- ID number

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK_CHARS = "10X98765432"
# The check character may be spoken as 叉 / 艾克斯.
_ID_CANDIDATE = re.compile(r"(?<![0-9])([1-9][0-9]{16})([0-9]|[Xx]|叉|艾克斯)(?![0-9Xx])")


def id_checksum_ok(id18: str) -> bool:
    """GB 11643-1999 check character of an 18-character ID (upper-case X)."""
    if len(id18) != 18 or not id18[:17].isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(id18[:17], _ID_WEIGHTS))
    return _ID_CHECK_CHARS[total % 11] == id18[17]


def _birth_date_ok(id18: str, today: _dt.date) -> bool:
    try:
        born = _dt.date(int(id18[6:10]), int(id18[10:12]), int(id18[12:14]))
    except ValueError:
        return False
    return 1900 <= born.year and born <= today


def iter_id_numbers(
    normalized: str, today: _dt.date | None = None
) -> Iterator[tuple[str, int, int]]:
    """Yield ``(id18, start, end)`` for each valid resident ID in already-normalised text."""
    today = today or _dt.date.today()
    for m in _ID_CANDIDATE.finditer(normalized):
        check = m.group(2).upper()
        candidate = m.group(1) + ("X" if check in ("叉", "艾克斯") else check)
        if id_checksum_ok(candidate) and _birth_date_ok(candidate, today):
            yield candidate, m.start(), m.end()


def parse_id_number(text: str, today: _dt.date | None = None) -> str | None:
    """First valid 18-character resident ID in *text* (check letter upper-cased), else None."""
    try:
        return next(iter_id_numbers(normalize_text(text), today), (None,))[0]
    except Exception:  # noqa: BLE001 - validators never raise
        return None


# ------------------------------------------------------------------ refusals

_PUNCT = "，,。.；;！!？?、~～…:：\"'“”‘’()（）【】《》 "
_CLAUSES = re.compile(r"[，,。；;！!？?\n]+")
_SUBJECT = r"(?:嗯|呃|那|那个|这个|我|俺|本人|咱|我看|我觉得)*"
_ITEM = r"(?:身份证(?:号码?)?|电话(?:号码?)?|手机(?:号码?)?|号码|名字|姓名|地址|住址|个人信息|信息|这个|这些|这项)"
_DECLINE = (
    r"(?:不想|不太想|不愿意?|不方便|不给|不提供|不填|不写|不说|不留|不告诉|拒绝|没法|没办法|无法|"
    r"跳过|略过|算了|不用了?|不需要|不要了|免了|不必了?|没必要|保密|隐私|下一个|下一项|pass|skip|"
    r"不记得|记不(?:清|住|得)|忘(?:记)?了|没(?:有|带))"
)
_ACT = r"(?:提供|给|填|写|说|告诉|透露|留|讲)"
_PARTICLES = r"(?:了|吧|啦|哈|啊|呀|哦)*"
# One or more declining phrases make up the whole clause: "算了吧身份证就不填了".
_REFUSAL_PHRASE = (
    f"{_ITEM}?(?:我|俺)?(?:就|也|还是|先|暂时)?{_DECLINE}{_ACT}?(?:你们|你)?{_ITEM}?{_PARTICLES}"
)
_REFUSAL_CLAUSE = re.compile(f"^{_SUBJECT}(?:{_REFUSAL_PHRASE})+$", re.IGNORECASE)
_BARE_NO = frozenset({"不", "不要", "不用", "没有", "没有了", "没", "无", "没了", "不了", "no"})
_MAX_REFUSAL_LEN = 30


def _clauses(text: str) -> list[str]:
    return [c.strip(_PUNCT) for c in _CLAUSES.split(text) if c.strip(_PUNCT)]


def is_refusal(text: str) -> bool:
    """True when a short reply declines to give an optional item ("不想提供", "跳过", "保密")."""
    try:
        norm = normalize_text(text).lower()
        compact = norm.strip(_PUNCT)
        if not compact or len(compact) > _MAX_REFUSAL_LEN:
            return False
        if compact.rstrip("了吧啊呀哈啦") in _BARE_NO or compact in _BARE_NO:
            return True
        return any(_REFUSAL_CLAUSE.match(clause) for clause in _clauses(norm))
    except Exception:  # noqa: BLE001
        return False


# ----------------------------------------------------------------- free text

_INTERJECTIONS = "嗯啊哦呃额唔噢哎唉诶欸呐喔"
_SEPARATORS = r"[\s,，。.!！?？、~～…:：]"
_LEADING_FILLER = re.compile(
    rf"^(?:[{_INTERJECTIONS}]+|喂+|你好|您好|领导你?好|同志你?好|麻烦(?:你|您)了?|就是说?"
    rf"|(?:那个|这个|是这样的?|这样的|好的?|是的?|对的?|行|我说|我想说|我跟你说|怎么说呢)"
    rf"(?={_SEPARATORS}|$)){_SEPARATORS}*"
)
_TRAILING_PARTICLES = re.compile(r"(?<=..)[啊呀吧呢哈啦嘛哦噢喔]+$")
_FILLER_ANSWERS = frozenset(
    {
        "好", "好的", "是", "是的", "对", "对的", "行", "可以", "嗯嗯", "哈哈", "ok", "okay",
        "不知道", "不清楚", "不晓得", "不懂", "不了解", "没有", "没", "无", "没了", "没有了",
        "随便", "都行", "随意", "就这些", "就这样", "那个", "这个", "什么", "啥", "你好",
        "您好", "谢谢", "知道了", "不", "不是", "没什么", "忘了", "不记得", "不记得了",
    }
)

# "不知道", "我也不清楚具体时间", "不知道是哪个单位": nothing usable in the answer.
_DONT_KNOW = re.compile(
    r"(?:我|俺|咱)?(?:也|真|还|确实|实在)?(?:不知道|不清楚|不晓得|不了解|说不清|不记得|记不清|忘了)了?"
    r"[^，,。.；;！!？?]{0,8}"
)


def clean_free_text(text: str) -> str | None:
    """*text* without leading fillers/greetings and edge punctuation; None if nothing is left."""
    try:
        cleaned = normalize_text(text).strip(_PUNCT)
        previous = None
        while cleaned and cleaned != previous:
            previous = cleaned
            cleaned = _LEADING_FILLER.sub("", cleaned).strip(_PUNCT)
            cleaned = _TRAILING_PARTICLES.sub("", cleaned).strip(_PUNCT)
        if not cleaned or cleaned.lower() in _FILLER_ANSWERS or _DONT_KNOW.fullmatch(cleaned):
            return None
        if all(ch in _INTERJECTIONS for ch in cleaned):
            return None
        return cleaned
    except Exception:  # noqa: BLE001
        return None
