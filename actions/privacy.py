"""Masking of personal data for logs and confirmations shown on shared screens.

Nothing here stores or sends data; these helpers only hide parts of it.
"""
from __future__ import annotations

import re
from typing import Iterable

from actions.extract import extract_facts
from actions.normalize import normalize_text
from actions.validators import iter_id_numbers, iter_phones

__all__ = ["mask_name", "mask_phone", "mask_id", "redact"]

_LONG_DIGITS = re.compile(r"[0-9]{7,}[0-9Xx]?")


def _mask_middle(value: str, keep_start: int, keep_end: int) -> str:
    """*value* with everything but the first/last characters replaced by '*'."""
    if len(value) <= keep_start + keep_end:
        return "*" * len(value)
    return value[:keep_start] + "*" * (len(value) - keep_start - keep_end) + value[len(value) - keep_end:]


def mask_name(name: str) -> str:
    """Keep the first character: "张建国" -> "张**"."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" * len(name)
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str) -> str:
    """Mobile "13800123456" -> "138****3456"; landline "010-88886666" -> "010-****6666"."""
    phone = (phone or "").strip()
    if "-" in phone:
        area, _, local = phone.partition("-")
        return f"{area}-{_mask_middle(local, 0, 4)}"
    return _mask_middle(phone, 3, 4)


def mask_id(id_number: str) -> str:
    """Keep the region prefix and the last four: "110101199003074514" -> "1101**********4514"."""
    return _mask_middle((id_number or "").strip(), 4, 4)


def _replace_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Replace non-overlapping ``(start, end, replacement)`` spans, leftmost first."""
    out, pos = [], 0
    for start, end, replacement in sorted(spans):
        if start < pos:
            continue
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def redact(text: str, names: Iterable[str] = ()) -> str:
    """*text* (normalised) with phones, ID numbers, other long digit runs and names masked.

    Names masked are those in *names* (e.g. the form's slots) and one stated
    with a cue word in the text itself ("我叫张建国").

    Use it before anything a citizen typed goes to a log. Spoken and
    full-width digits are normalised first so that they are found too.
    """
    norm = normalize_text(text or "")
    spans = [(s, e, mask_id(v)) for v, s, e in iter_id_numbers(norm)]
    spans += [(s, e, mask_phone(v)) for v, s, e in iter_phones(norm)]
    masked = _replace_spans(norm, spans)
    # Anything else that looks like an account, card or unparsed number.
    masked = _LONG_DIGITS.sub(lambda m: _mask_middle(m.group(), 3, 2), masked)
    stated = extract_facts(norm).get("name")
    names = [*names, stated.value] if stated else list(names)
    for name in sorted({n.strip() for n in names if n and len(n.strip()) >= 2}, key=len, reverse=True):
        masked = masked.replace(normalize_text(name), mask_name(normalize_text(name)))
    return masked
