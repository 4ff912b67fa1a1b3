"""Text normalisation shared by every extractor, validator and the hotline reader.

Pure Python, no third-party imports: this module runs inside the Rasa action
server (Python 3.10) and in tools that never load Rasa.

What :func:`normalize_text` does, in order:

1. NFKC for everything except Chinese punctuation (full-width digits and
   letters become half-width; ``，。：；！？（）`` stay as they are).
2. Removes zero-width characters and soft hyphens.
3. Maps a short list of traditional characters common in petitions to
   simplified ones.
4. Collapses whitespace.
5. Converts runs of at least three spoken Chinese digits (``幺三八``,
   ``一三八 零零一二``, ``138零零123456``) to Arabic digits.
6. Joins digit groups split by spaces or hyphens when they look like one
   number (7 to 20 digits, no group longer than 8, not a date such as
   ``2024-03-05`` and not a year range ``2020-2023``).
7. Drops spaces next to Chinese characters (speech recognisers insert them).
"""
from __future__ import annotations

import re
import unicodedata
from pathlib import Path

__all__ = ["normalize_text", "to_simplified", "fix_typos", "digits_in", "SPOKEN_DIGITS"]

# Chinese punctuation kept as typed (NFKC would turn it into ASCII).
_KEEP_PUNCT = "，。、：；！？（）【】《》“”‘’…—～"
_NOT_KEPT = re.compile(f"[^{re.escape(_KEEP_PUNCT)}]+")

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060\ufeff\u00ad"))

SPOKEN_DIGITS = {
    "零": "0", "〇": "0", "○": "0", "洞": "0",
    "一": "1", "幺": "1", "二": "2", "两": "2", "三": "3", "四": "4",
    "五": "5", "六": "6", "七": "7", "八": "8", "九": "9",
}
_DIGIT_CHARS = "0-9" + "".join(SPOKEN_DIGITS)
_DIGIT_RUN = re.compile(f"[{_DIGIT_CHARS}]+(?:[ \\-][{_DIGIT_CHARS}]+)*")
_MIN_SPOKEN_RUN = 3
# Idioms made of digit characters that must never become numbers.
_DIGIT_IDIOMS = ("一五一十", "三三两两", "七七八八", "一一对应", "九九八十一")

_GROUPED_DIGITS = re.compile(r"(?<![0-9])[0-9]+(?:[ \-–][0-9]+)+(?![0-9])")
_GROUP_SEPARATOR = re.compile(r"[ \-–]")

_CJK = "\u3400-\u9fff" + re.escape(_KEEP_PUNCT)
_SPACE_NEAR_CJK = re.compile(f"(?<=[{_CJK}]) | (?=[{_CJK}])")
_WHITESPACE = re.compile(r"\s+")

# Traditional -> simplified: one table for the whole product, kept as data.
TRADITIONAL_CHARS_FILE = Path(__file__).resolve().parent / "traditional_chars.txt"


def _read_character_pairs(path: Path) -> dict[int, str]:
    words = " ".join(
        line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("#")
    ).split()
    if any(len(word) != 2 for word in words):
        raise ValueError(f"{path.name}: every entry must be a pair 繁简")
    return {ord(word[0]): word[1] for word in words}


_TRAD_TO_SIMP = _read_character_pairs(TRADITIONAL_CHARS_FILE)


TYPOS_FILE = Path(__file__).resolve().parent / "typos.txt"


def _read_typos(path: Path) -> dict[str, str]:
    pairs = [line.split() for line in path.read_text(encoding="utf-8").splitlines()
             if line.strip() and not line.startswith("#")]
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError(f"{path.name}: every line must be 'wrong right'")
    return dict(pairs)


_TYPO_FIXES = _read_typos(TYPOS_FILE)
_TYPO = re.compile("|".join(sorted(map(re.escape, _TYPO_FIXES), key=len, reverse=True)))


def fix_typos(text: str) -> str:
    """``text`` with common slips of petition words corrected ("复差" -> "复查")."""
    return _TYPO.sub(lambda m: _TYPO_FIXES[m.group(0)], text or "")


def to_simplified(text: str) -> str:
    """``text`` with traditional and variant characters written in simplified form."""
    return (text or "").translate(_TRAD_TO_SIMP)


def normalize_text(text: str) -> str:
    """Return *text* in the canonical form every extractor works on."""
    if not text:
        return ""
    text = _NOT_KEPT.sub(lambda m: unicodedata.normalize("NFKC", m.group()), text)
    text = text.translate(_ZERO_WIDTH).translate(_TRAD_TO_SIMP)
    text = _WHITESPACE.sub(" ", text).strip()
    text = _convert_spoken_digits(text)
    text = _join_digit_groups(text)
    return _SPACE_NEAR_CJK.sub("", text)


def digits_in(text: str) -> str:
    """All Arabic digits of the normalised *text*, in order (spoken digits included)."""
    return "".join(re.findall(r"[0-9]", normalize_text(text)))


def _idiom_spans(text: str) -> list[tuple[int, int]]:
    spans = []
    for idiom in _DIGIT_IDIOMS:
        start = text.find(idiom)
        while start != -1:
            spans.append((start, start + len(idiom)))
            start = text.find(idiom, start + 1)
    return spans


def _convert_spoken_digits(text: str) -> str:
    idioms = _idiom_spans(text)

    def convert(match: re.Match[str]) -> str:
        run = match.group()
        spoken = sum(ch in SPOKEN_DIGITS for ch in run)
        if not spoken or sum(ch != " " and ch != "-" for ch in run) < _MIN_SPOKEN_RUN:
            return run
        if any(s < match.end() and match.start() < e for s, e in idioms):
            return run
        return "".join(SPOKEN_DIGITS.get(ch, ch) for ch in run)

    return _DIGIT_RUN.sub(convert, text)


def _looks_like_date_or_years(groups: list[str]) -> bool:
    def is_year(g: str) -> bool:
        return len(g) == 4 and g[:2] in ("19", "20")

    if all(is_year(g) for g in groups):
        return True
    return (
        len(groups) == 3
        and is_year(groups[0])
        and len(groups[1]) <= 2
        and len(groups[2]) <= 2
        and 1 <= int(groups[1]) <= 12
        and 1 <= int(groups[2]) <= 31
    )


def _join_digit_groups(text: str) -> str:
    def join(match: re.Match[str]) -> str:
        groups = _GROUP_SEPARATOR.split(match.group())
        total = sum(len(g) for g in groups)
        if max(len(g) for g in groups) > 8 or not 7 <= total <= 20:
            return match.group()
        if _looks_like_date_or_years(groups):
            return match.group()
        return "".join(groups)

    return _GROUPED_DIGITS.sub(join, text)
