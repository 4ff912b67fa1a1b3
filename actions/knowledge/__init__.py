"""Knowledge answers of the petition assistant: look-up only, the answers are data.

``topics.yml`` holds the answers (with article citations and certainty) and
``office.yml`` the office's own details. A question is matched to a topic by
TF-IDF cosine similarity over character 1–2-grams:

- the text is canonicalised first (:func:`canonical`): traditional characters
  become simplified, common slips of the procedure's key words are corrected
  (复差 → 复查), colloquial variants become one word (礼拜天 → 周末,
  啥时候 → 多久) and question scaffolding (咋办, 行不行, 的, 吗) is dropped;
- the IDF is counted over topics, not example sentences, so a word that
  defines one topic (复核) outweighs words every topic shares (多久, 结果);
- a topic's score mixes its best single example (or title), its pooled
  examples and, lightly, its answer text;
- characters the knowledge base has never seen still count in the question's
  length, so "出租车电话多少" is a weaker match for the office's phone number
  than "电话多少".

Below ``MIN_SCORE`` there is no answer; a message not worded as a question
("单位拖着不给我办退休手续") needs ``STATEMENT_MIN_SCORE``, because a statement
that only brushes a topic is a matter to take down, not a question to look up.
A message that shares no two-character word with any answer (the law's and
the office's own wording) rests only on everyday words some example happens
to use ("你们食堂几点开饭" and "几点上班"); it needs ``UNANCHORED_MIN_SCORE``.

Returned text format (decided once): the answer, then "（依据：<citation>）".
Route explanations (诉访分离) live in ``actions/routing.py`` / routes.yml.
"""
from __future__ import annotations

import functools
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from actions.normalize import fix_typos, normalize_text
from actions.utterance import looks_like_question

KNOWLEDGE_DIR = Path(__file__).resolve().parent
MIN_SCORE = 0.2
#: the bar for a message that is not worded as a question
STATEMENT_MIN_SCORE = 0.3
#: the bar for a message that shares no two-character word with any answer
UNANCHORED_MIN_SCORE = 0.35
#: weights of a topic's best single example, its pooled examples and its answer text
EXAMPLE_WEIGHT, POOLED_WEIGHT, ANSWER_WEIGHT = 0.3, 0.6, 0.1
GRAM_SIZES = (1, 2)


# Colloquial variants -> the one word the examples or the answers use.
_VARIANTS = tuple((re.compile(pattern), word) for pattern, word in (
    (r"多长时间|多少天|多少日|几天|几日|多少时间|[啥什么]时候|多久|多长", "多久"),
    (r"星期[六天日]|礼拜[六天日]|周[六日]|双休日?|节假日|休息日", "周末"),
    (r"不认可|不同意|不接受|想不通|不服气", "不服"),
    (r"检举|揭发|告发", "举报"),
    (r"打击报复|穿小鞋|刁难|报复", "报复"),
    (r"补助|补贴|救济|帮扶|接济", "救助"),
    (r"私了", "和解"),
    (r"同一[个件桩]|同样的", "同一"),
    (r"反复|重复|多次|再三|一再", "重复"),
    (r"一块儿?|一齐|一同|一道", "一起"),
    (r"电话号码|联系电话|热线电话|热线", "电话"),
    (r"网址|网页", "网站"),
    (r"进展|到哪一?步|办到哪|处理到哪|(?:办|处理)得?(?:怎么样|咋样|如何)", "进度"),
    (r"办完|办好|处理完|结案", "办结"),
    (r"延长", "延期"),
    (r"打官司|官司", "诉讼"),
    (r"真名|实名制?", "姓名"),
    (r"越级|跨级", "跨越"),
))
# Punctuation and question scaffolding that every topic shares.
_NOISE = re.compile(
    r"[\s\W_]+|咋整|咋办|咋弄|怎么办|怎么弄|怎么整|怎么搞|咋搞|咋个|怎么样|咋样|行不行|好不好|要不要|是否|能否|请问|想问"
    r"|会不会|能不能|可不可以|是不是|有没有|可以|怎么|什么|怎样|如何|你们|我们|一下|一般"
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


def canonical(text: str) -> str:
    """The text as the matcher compares it: simplified, slips fixed, one word per variant, no scaffolding."""
    t = fix_typos(normalize_text(text or "").lower())
    for pattern, word in _VARIANTS:
        t = pattern.sub(word, t)
    return _NOISE.sub("", t)


def _grams(text: str) -> Counter[str]:
    """Character n-grams (``GRAM_SIZES``) of the canonical text."""
    t = canonical(text)
    return Counter(t[i:i + n] for n in GRAM_SIZES for i in range(len(t) - n + 1))


def _bigrams(text: str) -> set[str]:
    """The two-character sequences of the canonical text."""
    return {g for g in _grams(text) if len(g) == 2}


def _fill(text: str, office: dict[str, str]) -> str:
    for key, value in office.items():
        text = text.replace("{office.%s}" % key, str(value))
    return text


class KnowledgeBase:
    """Topics with their answers and a small TF-IDF matcher over example questions."""

    def __init__(self, topics: list[dict[str, Any]], office: dict[str, str]) -> None:
        self._office = dict(office)
        self._answers = {t["id"]: self._render(t) for t in topics}
        examples = [(t["id"], _grams(q)) for t in topics for q in [t["title"], *t["questions"]]]
        pooled: dict[str, Counter[str]] = {}
        for tid, grams in examples:
            pooled.setdefault(tid, Counter()).update(grams)
        # IDF over topics: a word that marks one topic weighs more than one all topics share
        df = Counter(g for grams in pooled.values() for g in grams)
        self._idf = {g: math.log((1 + len(pooled)) / (1 + n)) + 1.0 for g, n in df.items()}
        self._unseen_idf = math.log(1 + len(pooled)) + 1.0
        self._examples = [(tid, self._vector(grams)) for tid, grams in examples]
        self._pooled = {tid: self._vector(grams) for tid, grams in pooled.items()}
        self._answer_vectors = {t["id"]: self._vector(_grams(self._body(t))) for t in topics}
        self._anchors = set().union(*(_bigrams(self._body(t)) for t in topics))

    def _body(self, t: dict[str, Any]) -> str:
        return _fill("".join(str(t["answer"]).split()), self._office)

    def _render(self, t: dict[str, Any]) -> Answer:
        text = f"{self._body(t)}（依据：{t['citation']}）"
        return Answer(t["id"], t["title"], text, t["citation"], t["certainty"], 1.0)

    def _vector(self, grams: Counter[str], query: bool = False) -> dict[str, float]:
        """Unit TF-IDF vector; in a query an unseen character still counts in the length."""
        def idf(g: str) -> float:
            return self._idf.get(g, self._unseen_idf if query and len(g) == 1 else 0.0)

        vec = {g: (1 + math.log(n)) * idf(g) for g, n in grams.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {g: v / norm for g, v in vec.items() if v}

    def scores(self, question: str) -> dict[str, float]:
        """Every topic's similarity to the question (0–1)."""
        query = self._vector(_grams(question), query=True)

        def cosine(vec: dict[str, float]) -> float:
            return sum(w * vec.get(g, 0.0) for g, w in query.items())

        best: dict[str, float] = {}
        for tid, vec in self._examples:
            best[tid] = max(best.get(tid, 0.0), cosine(vec))
        return {tid: EXAMPLE_WEIGHT * s + POOLED_WEIGHT * cosine(self._pooled[tid])
                + ANSWER_WEIGHT * cosine(self._answer_vectors[tid]) for tid, s in best.items()}

    def answer(self, question: str) -> Answer | None:
        """The best-matching topic's answer, or None when nothing matches well."""
        scores = self.scores(question)
        tid = max(scores, key=scores.__getitem__, default=None)
        bar = MIN_SCORE if looks_like_question(question) else STATEMENT_MIN_SCORE
        if not _bigrams(question) & self._anchors:
            bar = max(bar, UNANCHORED_MIN_SCORE)
        if tid is None or scores[tid] < bar:
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
