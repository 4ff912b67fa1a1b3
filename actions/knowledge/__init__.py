"""Knowledge answers of the petition assistant: look-up only, the answers are data.

``topics.yml`` holds the answers (with article citations and certainty) and
``office.yml`` the office's own details. A question is matched to a topic by
character 1–3-gram TF-IDF cosine similarity: half the best single example
question (or title), half the topic's pooled examples. Below ``MIN_SCORE``
there is no answer.

Returned text format (decided once): the answer, then "（依据：<citation>）".
Route explanations (诉访分离) live in ``actions/routing.py`` / routes.yml.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

KNOWLEDGE_DIR = Path(__file__).resolve().parent
MIN_SCORE = 0.2
#: weight of the best single example against the whole topic (its centroid)
EXAMPLE_WEIGHT = 0.5
# Punctuation and question scaffolding that every topic shares.
_NOISE = re.compile(
    r"[\s\W_]+|会不会|能不能|可不可以|是不是|有没有|可以|怎么|什么|怎样|如何|你们|我们|一下"
    r"|[吗呢啊吧呀哦嘛了的么咋啥我你]",
    re.UNICODE,
)


@dataclass(frozen=True)
class Answer:
    """One knowledge answer, ready to show."""

    topic: str
    title: str
    text: str
    citation: str
    certainty: str  # "verified" | "hedged"
    score: float


def _grams(text: str) -> Counter[str]:
    """Character 1-, 2- and 3-grams of the text without punctuation and particles."""
    t = _NOISE.sub("", unicodedata.normalize("NFKC", text).lower())
    return Counter(t[i:i + n] for n in (1, 2, 3) for i in range(len(t) - n + 1))


def _fill(text: str, office: dict[str, str]) -> str:
    for key, value in office.items():
        text = text.replace("{office.%s}" % key, str(value))
    return text


class KnowledgeBase:
    """Topics with their answers and a small TF-IDF matcher over example questions."""

    def __init__(self, topics: list[dict[str, Any]], office: dict[str, str]) -> None:
        self._office = dict(office)
        self._answers = {t["id"]: self._render(t) for t in topics}
        examples = [(t["id"], q) for t in topics for q in [t["title"], *t["questions"]]]
        grams = [_grams(q) for _, q in examples]
        df = Counter(g for c in grams for g in c)
        self._idf = {g: math.log((1 + len(grams)) / (1 + n)) + 1.0 for g, n in df.items()}
        self._vectors = [(tid, self._vector(c)) for (tid, _), c in zip(examples, grams)]
        pooled: dict[str, Counter[str]] = {}
        for (tid, _), c in zip(examples, grams):
            pooled.setdefault(tid, Counter()).update(c)
        self._centroids = {tid: self._vector(c) for tid, c in pooled.items()}

    def _render(self, t: dict[str, Any]) -> Answer:
        body = _fill("".join(str(t["answer"]).split()), self._office)
        text = f"{body}（依据：{t['citation']}）"
        return Answer(t["id"], t["title"], text, t["citation"], t["certainty"], 1.0)

    def _vector(self, grams: Counter[str]) -> dict[str, float]:
        vec = {g: (1 + math.log(n)) * self._idf.get(g, 0.0) for g, n in grams.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {g: v / norm for g, v in vec.items() if v}

    def answer(self, question: str) -> Answer | None:
        """The best-matching topic's answer, or None when nothing matches well."""
        query = self._vector(_grams(question))

        def cosine(vec: dict[str, float]) -> float:
            return sum(w * vec.get(g, 0.0) for g, w in query.items())

        best: dict[str, float] = {}
        for tid, vec in self._vectors:
            best[tid] = max(best.get(tid, 0.0), cosine(vec))
        scores = {tid: EXAMPLE_WEIGHT * s + (1 - EXAMPLE_WEIGHT) * cosine(self._centroids[tid])
                  for tid, s in best.items()}
        tid = max(scores, key=scores.__getitem__, default=None)
        if tid is None or scores[tid] < MIN_SCORE:
            return None
        a = self._answers[tid]
        return Answer(a.topic, a.title, a.text, a.citation, a.certainty, round(scores[tid], 3))

    def topic(self, topic_id: str) -> Answer:
        """The answer of a topic by id (KeyError if unknown)."""
        return self._answers[topic_id]

    def topic_ids(self) -> list[str]:
        """All topic ids, in file order."""
        return list(self._answers)

    def office(self) -> dict[str, str]:
        """The office's editable details (a copy)."""
        return dict(self._office)


@functools.lru_cache(maxsize=None)
def load_knowledge(path: Path | None = None) -> KnowledgeBase:
    """Load topics.yml and office.yml from ``path`` (a directory or topics file), cached."""
    base = Path(path) if path else KNOWLEDGE_DIR
    topics_file = base if base.is_file() else base / "topics.yml"
    with open(topics_file, encoding="utf-8") as fh:
        topics = yaml.safe_load(fh)["topics"]
    with open(topics_file.parent / "office.yml", encoding="utf-8") as fh:
        office = yaml.safe_load(fh)
    return KnowledgeBase(topics, office)
