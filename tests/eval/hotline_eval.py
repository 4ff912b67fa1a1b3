"""Field-level accuracy of hotline drafts against hand-written gold (``make eval``).

Reads every transcript named in ``tests/data/transcripts/gold.yml`` (or any
folder with such a file), drafts it with :func:`channels.hotline.build_draft`
and compares field by field. A field counts for every file (a gold ``null``
must be matched by a missing value). Matching rules:

* ``name``, ``phone``, ``id_number``: exact, after the canonical forms the
  validators produce (phone ``13800123456`` / ``0571-88886666``, ID
  upper-case ``X``; names with spaces removed).
* ``first_time``, ``legal_route``: exact.
* ``address``, ``respondent``, ``occurred``, ``location``, ``demand``
  (short free text): both sides normalised (:func:`actions.normalize.normalize_text`,
  punctuation and spaces removed, a leading 在/于/从/要求/希望 dropped, a
  trailing 开始/起/的时候 dropped). They match when one contains the other
  and the shorter is at least half as long as the longer, or when the
  character-bag F1 is at least 0.7.
* ``description`` (long free text): character-bag recall of the gold at
  least 0.6 and precision at least 0.4 (the draft must tell most of the
  caller's account without being mostly something else).
* ``demand`` also matches when the gold is told almost entirely (character
  recall >= 0.8) with precision >= 0.4: a demand followed by its reason
  ("把路灯修好，老年人晚上走路太危险了") still states the demand.

Targets: overall accuracy >= 0.90, name and phone >= 0.95.
"""
from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path
from typing import Any, Optional

import yaml

from actions.normalize import normalize_text

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DIR = ROOT / "tests" / "data" / "transcripts"
FIELDS = (
    "name", "phone", "id_number", "address", "respondent", "occurred",
    "location", "description", "demand", "first_time", "legal_route",
)
EXACT = frozenset({"name", "phone", "id_number", "first_time", "legal_route"})
TARGETS = {"overall": 0.90, "name": 0.95, "phone": 0.95}
SHORT_F1 = 0.7
DESCRIPTION_RECALL = 0.6
DESCRIPTION_PRECISION = 0.4

_PUNCT = re.compile(r"[\s，,。.！!？?；;：:、\"'“”‘’（）()【】《》…—~～-]")
_LEAD = re.compile(r"^(?:在|于|从|自|要求|希望|请求|就是|是)")
_TAIL = re.compile(r"(?:开始|起|以来|的时候|时)$")


def _norm(value: Any) -> str:
    text = _PUNCT.sub("", normalize_text(str(value)))
    return _TAIL.sub("", _LEAD.sub("", text))


def _bag_scores(gold: str, predicted: str) -> tuple[float, float]:
    """(recall of gold characters, precision of predicted characters)."""
    g, p = Counter(gold), Counter(predicted)
    overlap = sum((g & p).values())
    return (overlap / max(1, sum(g.values())), overlap / max(1, sum(p.values())))


def field_matches(field: str, gold: Any, predicted: Any) -> bool:
    """Whether *predicted* counts as *gold* for *field* (rules in the module docstring)."""
    if gold is None or gold == "":
        return predicted is None or predicted == ""
    if predicted is None or predicted == "":
        return False
    if field in EXACT:
        if isinstance(gold, bool) or field == "legal_route":
            return gold == predicted
        return re.sub(r"\s", "", str(gold)).upper() == re.sub(r"\s", "", str(predicted)).upper()
    g, p = _norm(gold), _norm(predicted)
    if not g or not p:
        return g == p
    recall, precision = _bag_scores(g, p)
    if field == "description":
        return recall >= DESCRIPTION_RECALL and precision >= DESCRIPTION_PRECISION
    if field == "demand" and recall >= 0.8 and precision >= DESCRIPTION_PRECISION:
        return True
    shorter, longer = sorted((g, p), key=len)
    if shorter in longer and len(shorter) * 2 >= len(longer):
        return True
    f1 = 2 * recall * precision / (recall + precision) if recall + precision else 0.0
    return f1 >= SHORT_F1


def draft_fields(case: dict) -> dict[str, Any]:
    """The evaluated fields of a §4 draft."""
    petitioner = case.get("petitioner") or {}
    return {
        "name": petitioner.get("name"),
        "phone": petitioner.get("phone"),
        "id_number": petitioner.get("id_number"),
        "address": petitioner.get("address"),
        "respondent": case.get("respondent"),
        "occurred": case.get("occurred"),
        "location": case.get("location"),
        "description": case.get("description"),
        "demand": case.get("demand"),
        "first_time": case.get("first_time"),
        "legal_route": case.get("legal_route"),
    }


def evaluate_hotline(folder: Optional[Path] = None, *, verbose: bool = False) -> dict:
    """Accuracy overall and per field on the transcripts of *folder*'s ``gold.yml``.

    Returns ``{"files", "overall", "per_field", "targets", "met", "errors", "misses"}``;
    a transcript that cannot be read counts as wrong on every field.
    """
    from channels.hotline import build_draft
    from channels.transcripts import TranscriptError, load_transcript

    folder = Path(folder or DEFAULT_DIR)
    gold_all = yaml.safe_load((folder / "gold.yml").read_text(encoding="utf-8"))["files"]
    hits = Counter()
    totals = Counter()
    errors: dict[str, str] = {}
    misses: list[dict] = []
    for filename, gold in gold_all.items():
        try:
            case, _ = build_draft(load_transcript(folder / filename))
            predicted = draft_fields(case)
        except TranscriptError as exc:
            errors[filename] = str(exc)
            predicted = None
        for field in FIELDS:
            if field not in gold:
                continue
            totals[field] += 1
            ok = predicted is not None and field_matches(field, gold[field], predicted[field])
            hits[field] += ok
            if not ok:
                misses.append({"file": filename, "field": field, "gold": gold[field],
                               "predicted": None if predicted is None else predicted[field]})
    per_field = {field: round(hits[field] / totals[field], 3) for field in FIELDS if totals[field]}
    overall = round(sum(hits.values()) / max(1, sum(totals.values())), 3)
    met = {
        "overall": overall >= TARGETS["overall"],
        "name": per_field.get("name", 0) >= TARGETS["name"],
        "phone": per_field.get("phone", 0) >= TARGETS["phone"],
    }
    result = {
        "files": len(gold_all),
        "overall": overall,
        "per_field": per_field,
        "targets": TARGETS,
        "met": met,
        "errors": errors,
        "misses": misses,
    }
    if verbose:
        for miss in misses:
            print(f"  ✗ {miss['file']} {miss['field']}: gold={miss['gold']!r} got={miss['predicted']!r}")
    return result


def main(argv: Optional[list[str]] = None) -> int:
    """Print the report; exit 1 when a target is missed."""
    argv = sys.argv[1:] if argv is None else argv
    folder = Path(argv[0]) if argv else None
    result = evaluate_hotline(folder, verbose=True)
    print(f"hotline transcripts: {result['files']} files, field accuracy {result['overall']:.3f} "
          f"(target >= {TARGETS['overall']})")
    for field, value in result["per_field"].items():
        target = TARGETS.get(field)
        print(f"  {field:12s} {value:.3f}" + (f"  (target >= {target})" if target else ""))
    return 0 if all(result["met"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
