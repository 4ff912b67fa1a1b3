"""Routing of a citizen's matter: kind, category and legal route (诉访分离).

Legal basis: 《信访工作条例》(2022) 第20条第2款, 第22条第2款, 第28条第2款 and
第31条. Only ``petition`` matters enter the petition procedure; every other
route is explained to the citizen ("导入相应程序"), never a bare "不予受理",
and the case is still recorded with its route.

Decision rules, in order (all wording and keywords live in
``actions/knowledge/routes.yml``; this module only evaluates them):

1. Emergency first. ``detect_emergency`` looks for crisis wording (self-harm,
   violence in progress, fire, medical collapse, gas leak / collapse /
   drowning). Figurative phrases (急死我了, 笑死, 打官司, 火锅…) are blanked
   out before matching. A match is cancelled when it is negated (没有着火),
   told in the past in the same clause (去年…着火, 那次…晕倒, 晕倒过) or
   hypothetical (万一着火怎么办), or when it is a completed event recalled as
   the ground of an accusation: the text after it says what has lasted since
   (到现在, 至今) and accuses an office holder, or says the wrongdoer got away
   with it (还在位子上, 逍遥法外) — unless something marks it as happening now
   (正在, 刚才, 快叫人, 躺在地上). Self-harm is never cancelled: any wish to
   die counts. An emergency beats every other route.
2. Every route has weighted cues. A cue preceded by a negation (不是,
   没有…) in the same clause does not count; a cue marked ``done`` (e.g.
   已经起诉, 法院判了) does not count after an intention word (想, 打算,
   准备…), so "已经起诉" scores for ``political_legal`` and "想起诉" scores
   for ``litigation``.
3. The highest score wins; ties follow ``precedence`` in the YAML
   (political_legal > admin_reconsideration > discipline_inspection >
   arbitration > labor_arbitration > consumer_12315 > litigation > petition).
   Below ``min_score`` the matter is an ordinary petition. In words:

   - already in court / judgment / execution / 再审, or police and
     procuratorate procedures → ``political_legal`` (涉法涉诉, 第22条第2款);
   - a civil dispute between private parties not yet in court (借钱不还,
     neighbour damage, inheritance, deposit) → ``litigation``;
   - a contract with an arbitration clause → ``arbitration`` (第31条第2项);
   - an individual employment dispute with the employer (欠薪, dismissal,
     工伤, social insurance, overtime) → ``labor_arbitration``. Exception:
     wage arrears on a construction project where the citizen asks the
     government to step in (农民工/工地/包工头 + 政府出面/协调) stays a
     ``petition``: the combination cue outweighs the wage cues;
   - contesting an administrative decision (罚款, 拘留, 吊销, 不予许可,
     征收决定, 工伤不予认定…) → ``admin_reconsideration`` (第31条第4项);
   - misconduct or corruption of officials → ``discipline_inspection``
     (检举控告, 第22条第2款, 第30条);
   - a consumer against a merchant → ``consumer_12315``;
   - everything else (suggestions, public services, compensation handled by
     the government, noise, environment, 低保, 医保, 物业 asking the
     authorities to act) → ``petition``.
4. Kind: ``discipline_inspection`` is always an accusation (检举控告类,
   第30条); otherwise the kind cues decide, ties go to ``appeal``
   (申诉求决类, 第31条); suggestions are 建议意见类 (第29条). A suggestion
   is not a dispute for a court, an arbitration body, 12315 or a review of a
   decision: when the route is one of ``suggestion_to_petition``,
   the matter stays a ``petition`` (第29条) when it is a pure suggestion
   (no appeal wording: "建议对超速的车多罚款", not "我建议撤销对我的罚款").
5. Category: some routes fix it (``route_categories``), as do emergency
   kinds other than self-harm; otherwise every distinct category word found
   counts, the highest total wins (ties: the category named first), and
   below ``min_category_score`` the category is ``other``.

Before matching, the text is put in one form: NFKC, lower case, no spaces,
traditional characters to simplified and a few common typos corrected
(``actions/traditional_chars.txt``, ``actions/typos.txt``). A cue word directly followed by a place word
(门口, 旁边, 附近…, ``place_suffix``) only says where something is, so it
does not count: "法院旁边的路口" is about a road, not a court case.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import yaml

from actions.normalize import fix_typos, to_simplified

ROUTES_FILE = Path(__file__).resolve().parent / "knowledge" / "routes.yml"
EMERGENCY_ROUTE = "emergency"
DEFAULT_ROUTE = "petition"
_CLAUSE_BREAK = re.compile(r"[，,。！!？?；;：:\n]")
_NEGATION_WINDOW = 3
_INTENT_WINDOW = 6
_TERM = re.compile(r"<([a-z_]+)>")  # a shared word list inside a cue pattern


@dataclass(frozen=True)
class Routing:
    """Where a matter goes, and the words that explain it."""

    kind: str
    category: str
    legal_route: str
    route_reason: str
    explanation: str
    confidence: float


@dataclass(frozen=True)
class Emergency:
    """A crisis that must be answered with emergency numbers at once."""

    kind: str  # "self_harm" | "violence" | "fire" | "medical" | "danger"
    reply: str


@dataclass(frozen=True)
class Cue:
    """A weighted keyword rule; every pattern must match somewhere."""

    weight: float
    patterns: tuple[re.Pattern[str], ...]
    done_only: bool = False


@dataclass(frozen=True)
class Route:
    name: str
    route_reason: str
    explanation: str
    phones: tuple[str, ...]
    cues: tuple[Cue, ...]


@dataclass(frozen=True)
class EmergencyKind:
    name: str
    patterns: tuple[re.Pattern[str], ...]
    reply: str
    category: str | None = None


@dataclass(frozen=True)
class Background:
    """Markers of a completed event told as the ground of an accusation."""

    since: re.Pattern[str]
    impunity: re.Pattern[str]
    present: re.Pattern[str]
    accusation_routes: tuple[str, ...]


@dataclass(frozen=True)
class RouteBook:
    """Everything routes.yml says, compiled."""

    routes: Mapping[str, Route]
    precedence: tuple[str, ...]
    min_score: float
    negations: tuple[str, ...]
    intent_words: tuple[str, ...]
    kind_labels: Mapping[str, str]
    category_labels: Mapping[str, str]
    kind_cues: Mapping[str, tuple[Cue, ...]]
    category_cues: Mapping[str, tuple[Cue, ...]]
    route_categories: Mapping[str, str]
    min_category_score: float
    suggestion_to_petition: frozenset[str]
    place_suffix: re.Pattern[str]
    figurative: re.Pattern[str]
    past_markers: tuple[str, ...]
    hypothetical_markers: tuple[str, ...]
    background: Background
    emergency_kinds: tuple[EmergencyKind, ...]

    def explanation(self, legal_route: str) -> str:
        """The citizen-facing explanation of a legal route."""
        return self.routes[legal_route].explanation

    def phones(self, legal_route: str) -> tuple[str, ...]:
        """Hotlines relevant to a legal route."""
        return self.routes[legal_route].phones


def _expand(pattern: str, terms: Mapping[str, str]) -> str:
    """Replace ``<name>`` with the shared word list ``terms[name]`` (as a group)."""
    return _TERM.sub(lambda m: f"(?:{terms[m.group(1)]})", pattern)


def _cue(item: list[Any], terms: Mapping[str, str]) -> Cue:
    weight, pattern, *flags = item
    patterns = pattern if isinstance(pattern, list) else [pattern]
    return Cue(float(weight), tuple(re.compile(_expand(p, terms)) for p in patterns), "done" in flags)


def _cues(items: list[list[Any]] | None, terms: Mapping[str, str]) -> tuple[Cue, ...]:
    return tuple(_cue(item, terms) for item in items or [])


def _background(spec: Mapping[str, Any]) -> Background:
    """Compile ``emergency.background`` (patterns may be folded over several lines)."""
    def pattern(key: str) -> re.Pattern[str]:
        return re.compile("".join(str(spec.get(key) or "(?!)").split()))

    return Background(pattern("since"), pattern("impunity"), pattern("present"),
                      tuple(spec.get("accusation_routes") or ()))


def _build(data: Mapping[str, Any]) -> RouteBook:
    terms = {str(k): "".join(str(v).split()) for k, v in (data.get("terms") or {}).items()}
    routes = {
        name: Route(
            name=name,
            route_reason=" ".join(str(spec["route_reason"]).split()),
            explanation="".join(str(spec["explanation"]).split()),
            phones=tuple(str(p) for p in spec.get("phones") or []),
            cues=_cues(spec.get("cues"), terms),
        )
        for name, spec in data["routes"].items()
    }
    em = data["emergency"]
    kinds = tuple(
        EmergencyKind(name, tuple(re.compile(p) for p in spec["patterns"]), "".join(spec["reply"].split()),
                      spec.get("category"))
        for name, spec in em["kinds"].items()
    )
    return RouteBook(
        routes=routes,
        precedence=tuple(data["precedence"]),
        min_score=float(data["min_score"]),
        negations=tuple(data["negations"]),
        intent_words=tuple(data["intent_words"]),
        kind_labels=dict(data["kind_labels"]),
        category_labels=dict(data["category_labels"]),
        kind_cues={k: _cues(v, terms) for k, v in data["kinds"].items()},
        category_cues={k: _cues(v, terms) for k, v in data["categories"].items()},
        route_categories=dict(data.get("route_categories") or {}),
        min_category_score=float(data.get("min_category_score", 1)),
        suggestion_to_petition=frozenset(data.get("suggestion_to_petition") or ()),
        place_suffix=re.compile(data.get("place_suffix") or "(?!)"),
        figurative=re.compile("|".join(f"(?:{p})" for p in em["figurative"])),
        past_markers=tuple(em["past"]),
        hypothetical_markers=tuple(em["hypothetical"]),
        background=_background(em.get("background") or {}),
        emergency_kinds=kinds,
    )


@functools.lru_cache(maxsize=None)
def load_routes(path: Path | None = None) -> RouteBook:
    """Read and compile routes.yml once (cached per path)."""
    with open(path or ROUTES_FILE, encoding="utf-8") as fh:
        return _build(yaml.safe_load(fh))


def _normalize(text: str) -> str:
    """NFKC, lower case, no spaces, simplified characters, common typos fixed."""
    return fix_typos(to_simplified(re.sub(r"\s+", "", unicodedata.normalize("NFKC", text or "")).lower()))


def _negated(text: str, start: int, book: RouteBook) -> bool:
    window = _CLAUSE_BREAK.split(text[max(0, start - _NEGATION_WINDOW):start])[-1]
    return any(neg in window for neg in book.negations)


def _intended(text: str, start: int, book: RouteBook) -> bool:
    clause = _CLAUSE_BREAK.split(text[max(0, start - _INTENT_WINDOW):start])[-1]
    return any(word in clause for word in book.intent_words)


def _matches(pattern: re.Pattern[str], text: str, book: RouteBook, done_only: bool,
             negation: bool = True) -> list[re.Match[str]]:
    """Matches that count: not negated, not a mere place, not merely intended."""
    found = []
    for m in pattern.finditer(text):
        if (negation and _negated(text, m.start(), book)) or book.place_suffix.match(text, m.end()):
            continue
        if done_only and _intended(text, m.start(), book):
            continue
        found.append(m)
    return found


def _hits(pattern: re.Pattern[str], text: str, book: RouteBook, done_only: bool) -> bool:
    return bool(_matches(pattern, text, book, done_only))


def _score(cues: tuple[Cue, ...], text: str, book: RouteBook) -> float:
    return sum(c.weight for c in cues if all(_hits(p, text, book, c.done_only) for p in c.patterns))


def _tally(cues: tuple[Cue, ...], text: str, book: RouteBook) -> tuple[float, int]:
    """Score counting every distinct word a cue finds, and where the first one is.

    Negations are not applied: "没通暖气" is still about heating.
    """
    score, first = 0.0, len(text)
    for cue in cues:
        found = [_matches(p, text, book, cue.done_only, negation=False) for p in cue.patterns]
        if not all(found):
            continue
        words = {m.group(0) for m in found[0]} if len(found) == 1 else {""}
        score += cue.weight * len(words)
        first = min(first, *(ms[0].start() for ms in found))
    return score, first


def _blank_figurative(text: str, book: RouteBook) -> str:
    return book.figurative.sub(lambda m: "□" * len(m.group(0)), text)


def _told_as_background(text: str, m: re.Match[str], book: RouteBook) -> bool:
    """A completed event recalled as the ground of an accusation, not a crisis now.

    "村长酒驾撞了人，至今还在任上": what follows the match says what has lasted since
    and the text accuses an office holder, or it says the wrongdoer got away
    with it. A present marker anywhere (正在, 刚才, 快叫人) keeps the crisis.
    """
    bg = book.background
    if bg.present.search(text):
        return False
    after = text[m.end():]
    if bg.impunity.search(after):
        return True
    return bool(bg.since.search(after)) and any(
        _score(book.routes[r].cues, text, book) >= book.min_score for r in bg.accusation_routes)


def _cancelled(text: str, m: re.Match[str], kind: str, book: RouteBook) -> bool:
    """A crisis match told in the past, negated, as a hypothesis or as background does not count."""
    if kind == "self_harm":
        return False
    clause = _CLAUSE_BREAK.split(text[: m.start()])[-1]
    if text[m.end(): m.end() + 1] == "过" or any(p in clause for p in book.past_markers):
        return True
    if any(h in clause for h in book.hypothetical_markers):
        return True
    return _negated(text, m.start(), book) or _told_as_background(text, m, book)


def detect_emergency(text: str) -> Emergency | None:
    """Return the emergency in ``text`` (self-harm first), or None."""
    book = load_routes()
    clean = _blank_figurative(_normalize(text), book)
    for kind in book.emergency_kinds:
        for pattern in kind.patterns:
            if any(not _cancelled(clean, m, kind.name, book) for m in pattern.finditer(clean)):
                return Emergency(kind=kind.name, reply=kind.reply)
    return None


def _best(scores: Mapping[str, float], order: tuple[str, ...]) -> tuple[str, float, float]:
    """Winner, its score and the runner-up's score; ties by ``order``."""
    rank = {name: i for i, name in enumerate(order)}
    ranked = sorted(scores, key=lambda k: (-scores[k], rank.get(k, len(rank))))
    runner = scores[ranked[1]] if len(ranked) > 1 else 0.0
    return ranked[0], scores[ranked[0]], runner


def _kind_scores(text: str, book: RouteBook) -> dict[str, float]:
    return {k: _score(c, text, book) for k, c in book.kind_cues.items()}


def _kind(text: str, route: str, book: RouteBook) -> str:
    if route == "discipline_inspection":
        return "accusation"
    kind, score, _ = _best(_kind_scores(text, book), ("appeal", "accusation", "suggestion"))
    return kind if score > 0 else "appeal"


def _pure_suggestion(text: str, book: RouteBook) -> bool:
    """Suggestion wording and no appeal wording at all (nothing asked for oneself)."""
    scores = _kind_scores(text, book)
    return scores["suggestion"] > scores["accusation"] and scores["appeal"] == 0


def _category(text: str, route: str, book: RouteBook) -> str:
    if route in book.route_categories:
        return book.route_categories[route]
    tallies = {k: _tally(c, text, book) for k, c in book.category_cues.items()}
    category = max(tallies, key=lambda k: (tallies[k][0], -tallies[k][1]))
    return category if tallies[category][0] >= book.min_category_score else "other"


def _reason(route: str, kind: str, category: str, book: RouteBook) -> str:
    return book.routes[route].route_reason.format(
        kind_label=book.kind_labels[kind], category_label=book.category_labels[category]
    )


def classify(description: str, demand: str = "", respondent: str = "") -> Routing:
    """Decide kind, category and legal route of a matter (see module docstring)."""
    book = load_routes()
    text = _normalize("。".join(part for part in (description, demand, respondent) if part))
    emergency = detect_emergency(text)
    if emergency is not None:
        route = EMERGENCY_ROUTE
        fixed = next(k.category for k in book.emergency_kinds if k.name == emergency.kind)
        kind, category = _kind(text, route, book), fixed or _category(text, route, book)
        return Routing(kind, category, route, _reason(route, kind, category, book), emergency.reply, 1.0)

    scores = {name: _score(r.cues, text, book) for name, r in book.routes.items() if name != EMERGENCY_ROUTE}
    route, top, runner = _best(scores, book.precedence)
    if top < book.min_score:
        route, top, runner = DEFAULT_ROUTE, 0.0, 0.0
    elif route in book.suggestion_to_petition and _pure_suggestion(text, book):
        route, top, runner = DEFAULT_ROUTE, 0.0, 0.0
    confidence = 0.5 if top == 0 else round(min(0.95, 0.55 + 0.08 * (top - runner)), 2)
    kind, category = _kind(text, route, book), _category(text, route, book)
    return Routing(kind, category, route, _reason(route, kind, category, book), book.explanation(route), confidence)
