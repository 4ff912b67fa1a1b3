"""Hotline call transcripts (contract §8): files and request bodies -> turns.

Two formats are read:

JSON::

    {"call_id": "...", "started_at": "2026-11-20T09:12:00+08:00",
     "caller_number": "138...", "operator_id": "A017",
     "turns": [{"speaker": "operator" | "caller", "text": "...", "start": 0.0}]}

  ``turns`` is required and must hold at least one turn with text; the other
  keys are optional (a transcript without ``call_id`` is identified by the
  hash of its content). ``speaker`` is ``operator``/``caller`` (any case) or
  one of the Chinese labels of the plain-text format. Unknown keys are kept
  out of the way and ignored.

Plain text: one turn a line, ``坐席：``/``话务员：`` for the operator and
``来电人：``/``市民：`` for the caller, full- or half-width colon, spaces
allowed around the label and an optional time stamp before it
(``[00:12] 坐席：…``). Decisions documented here:

* blank lines are ignored;
* a line without a speaker label continues the previous turn (speech
  recognisers and people wrap long turns); before the first turn it is an
  error, except header lines ``通话编号：``/``来电时间：``/``来电号码：``/
  ``坐席工号：`` which give call_id, started_at, caller_number and
  operator_id;
* a line that starts with an unknown label (``客服：``, ``A：``) is an error
  rather than being glued to the previous turn, so a typo never silently
  merges two speakers.

Encoding: UTF-8 (a byte-order mark is dropped); a file that is not valid
UTF-8 is read as GB18030 (a superset of GBK/GB2312, which older call-centre
systems write); anything else is an error.

Every problem raises :class:`TranscriptError` with the file, the line (when
known) and a Chinese message for the operator.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Optional, Union

__all__ = [
    "OPERATOR",
    "CALLER",
    "Turn",
    "Transcript",
    "TranscriptError",
    "parse_transcript",
    "load_transcript",
    "decode_bytes",
    "MAX_TRANSCRIPT_BYTES",
]

OPERATOR = "operator"
CALLER = "caller"
MAX_TRANSCRIPT_BYTES = 2 * 1024 * 1024

_OPERATOR_LABELS = ("坐席", "话务员")
_CALLER_LABELS = ("来电人", "市民")
_SPEAKER_WORDS = {
    "operator": OPERATOR,
    "caller": CALLER,
    **{label: OPERATOR for label in _OPERATOR_LABELS},
    **{label: CALLER for label in _CALLER_LABELS},
}
_LABEL_HELP = "坐席：/话务员：（话务员）或 来电人：/市民：（来电人）"

_TIMESTAMP = r"(?:[\[【(（]?\d{1,2}(?::\d{1,2}){1,2}(?:\.\d+)?[\]】)）]?\s*)?"
_TURN_LINE = re.compile(
    rf"^\s*{_TIMESTAMP}(?P<label>坐席|话务员|来电人|市民)\s*(?:[（(][^）)]{{0,12}}[）)])?\s*[:：]\s*(?P<text>.*)$"
)
# Something that looks like a speaker label the format does not know.
_UNKNOWN_LABEL = re.compile(
    rf"^\s*{_TIMESTAMP}(?P<label>[\u4e00-\u9fffA-Za-z_][\u4e00-\u9fffA-Za-z0-9_]{{0,4}})\s*[:：]"
)
_HEADERS = {
    "call_id": ("通话编号", "呼叫编号", "通话ID", "call_id"),
    "started_at": ("来电时间", "通话时间", "开始时间", "started_at"),
    "caller_number": ("来电号码", "主叫号码", "caller_number"),
    "operator_id": ("坐席工号", "话务员工号", "工号", "operator_id"),
}
_HEADER_LINE = re.compile(
    r"^\s*(?P<key>" + "|".join(k for keys in _HEADERS.values() for k in keys) + r")\s*[:：]\s*(?P<value>.*?)\s*$",
    re.IGNORECASE,
)


class TranscriptError(ValueError):
    """A transcript that cannot be read; ``str()`` names the file and line."""

    def __init__(self, file: str, line: Optional[int], message: str) -> None:
        self.file = file
        self.line = line
        self.message = message
        where = f"{file} 第{line}行" if line else file
        super().__init__(f"{where}：{message}")

    def as_dict(self) -> dict:
        """JSON-friendly form for HTTP answers and ``--json`` output."""
        return {"file": self.file, "line": self.line, "message": self.message}


@dataclass(frozen=True)
class Turn:
    """One utterance: who spoke (``operator``/``caller``) and what was said."""

    speaker: str
    text: str
    line: Optional[int] = None
    start: Optional[float] = None


@dataclass
class Transcript:
    """A parsed call. ``content_hash`` identifies calls that have no call_id."""

    turns: list[Turn]
    source: str
    content_hash: str
    format: str
    call_id: Optional[str] = None
    started_at: Optional[datetime] = None
    caller_number: Optional[str] = None
    operator_id: Optional[str] = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def call_key(self) -> str:
        """The call's identity: its call_id, else ``sha-<hash of the content>``."""
        return self.call_id or f"sha-{self.content_hash[:20]}"


# --------------------------------------------------------------------- decoding


def decode_bytes(data: bytes, source: str) -> str:
    """Text of a transcript file: UTF-8 (BOM dropped), else GB18030/GBK."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as utf8_error:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            line = data.count(b"\n", 0, utf8_error.start) + 1
            raise TranscriptError(
                source, line, "文件编码无法识别（应为 UTF-8 或 GBK），请另存为 UTF-8 后重试"
            ) from None


def _hash(text: str) -> str:
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()


# ------------------------------------------------------------------------ JSON


def _line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, max(0, offset)) + 1


def _turn_lines(text: str, count: int) -> list[Optional[int]]:
    """Best-effort line of each turn: the line of its ``"speaker"`` key."""
    offsets = [m.start() for m in re.finditer(r'"speaker"\s*:', text)]
    if len(offsets) != count:
        return [None] * count
    return [_line_of(text, off) for off in offsets]


def _optional_str(data: dict, key: str, source: str, line_hint: Optional[int]) -> Optional[str]:
    value = data.get(key)
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool) and key in ("call_id", "caller_number", "operator_id"):
        return str(value)
    if not isinstance(value, str):
        raise TranscriptError(source, line_hint, f"字段 {key} 应为字符串")
    return value.strip() or None


def _parse_time(value: Optional[str], source: str, line: Optional[int]) -> Optional[datetime]:
    if not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}(?::\d{2})?", text):
        text = text.replace(" ", "T")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise TranscriptError(
            source, line, f"通话开始时间「{value}」格式不对，应为 2026-11-20T09:12:00+08:00 这样的格式"
        ) from None
    if moment.tzinfo is None:
        from actions.ids import BEIJING  # local import: keep this module light

        moment = moment.replace(tzinfo=BEIJING)
    return moment


def _key_line(text: str, key: str) -> Optional[int]:
    m = re.search(rf'"{re.escape(key)}"\s*:', text)
    return _line_of(text, m.start()) if m else None


def _parse_json(text: str, source: str) -> Transcript:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TranscriptError(source, exc.lineno, f"JSON 格式错误：{exc.msg}（第{exc.colno}列）") from None
    if not isinstance(data, dict):
        raise TranscriptError(source, 1, "JSON 转写稿应为一个对象，包含 turns 等字段")
    turns_raw = data.get("turns")
    if turns_raw is None:
        raise TranscriptError(source, None, "缺少 turns 字段（对话内容）")
    if not isinstance(turns_raw, list):
        raise TranscriptError(source, _key_line(text, "turns"), "turns 字段应为列表")
    lines = _turn_lines(text, len(turns_raw))
    turns: list[Turn] = []
    for index, (item, line) in enumerate(zip(turns_raw, lines)):
        where = f"第{index + 1}个发言（turns[{index}]）"
        if not isinstance(item, dict):
            raise TranscriptError(source, line, f"{where}应为对象，包含 speaker 和 text")
        speaker_raw = item.get("speaker")
        speaker = _SPEAKER_WORDS.get(str(speaker_raw).strip().lower()) if isinstance(speaker_raw, str) else None
        if speaker is None:
            raise TranscriptError(
                source, line, f"{where}的 speaker「{speaker_raw}」无法识别，应为 operator（话务员）或 caller（来电人）"
            )
        words = item.get("text")
        if words is None:
            words = ""
        if not isinstance(words, str):
            raise TranscriptError(source, line, f"{where}的 text 应为字符串")
        start = item.get("start")
        if start is not None and (isinstance(start, bool) or not isinstance(start, (int, float))):
            raise TranscriptError(source, line, f"{where}的 start 应为数字（秒）")
        if words.strip():
            turns.append(Turn(speaker, words.strip(), line, float(start) if start is not None else None))
    if not turns:
        raise TranscriptError(source, _key_line(text, "turns"), "转写稿没有任何对话内容")
    known = {"call_id", "started_at", "caller_number", "operator_id", "turns"}
    return Transcript(
        turns=turns,
        source=source,
        content_hash=_hash(text),
        format="json",
        call_id=_optional_str(data, "call_id", source, _key_line(text, "call_id")),
        started_at=_parse_time(
            _optional_str(data, "started_at", source, _key_line(text, "started_at")),
            source,
            _key_line(text, "started_at"),
        ),
        caller_number=_optional_str(data, "caller_number", source, _key_line(text, "caller_number")),
        operator_id=_optional_str(data, "operator_id", source, _key_line(text, "operator_id")),
        extra={k: v for k, v in data.items() if k not in known},
    )


# ------------------------------------------------------------------ plain text


def _header_key(label: str) -> Optional[str]:
    for key, labels in _HEADERS.items():
        if label.lower() in (item.lower() for item in labels):
            return key
    return None


def _parse_text(text: str, source: str) -> Transcript:
    turns: list[dict] = []
    headers: dict[str, tuple[str, int]] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line:
            continue
        m = _TURN_LINE.match(line)
        if m:
            turns.append({"speaker": _SPEAKER_WORDS[m.group("label")], "text": m.group("text").strip(), "line": number})
            continue
        if not turns:
            header = _HEADER_LINE.match(line)
            if header:
                headers[_header_key(header.group("key"))] = (header.group("value"), number)
                continue
        unknown = _UNKNOWN_LABEL.match(line)
        if unknown:
            raise TranscriptError(source, number, f"无法识别的说话人「{unknown.group('label')}」，应为 {_LABEL_HELP}")
        if not turns:
            raise TranscriptError(source, number, f"这一行没有说话人前缀，应以 {_LABEL_HELP} 开头")
        previous = turns[-1]
        previous["text"] = (previous["text"] + line) if previous["text"] else line
    result = [Turn(t["speaker"], t["text"], t["line"]) for t in turns if t["text"]]
    if not result:
        raise TranscriptError(source, None, f"转写稿没有任何对话内容（每行应以 {_LABEL_HELP} 开头）")
    started = headers.get("started_at")
    return Transcript(
        turns=result,
        source=source,
        content_hash=_hash(text),
        format="text",
        call_id=(headers.get("call_id") or (None,))[0] or None,
        started_at=_parse_time(started[0], source, started[1]) if started else None,
        caller_number=(headers.get("caller_number") or (None,))[0] or None,
        operator_id=(headers.get("operator_id") or (None,))[0] or None,
    )


# ------------------------------------------------------------------ public API


def parse_transcript(data: Union[str, bytes], *, source: str = "<请求>", fmt: Optional[str] = None) -> Transcript:
    """Parse a transcript given as text or bytes.

    :param fmt: ``"json"``, ``"text"`` or None to decide from the content
        (JSON when the first non-blank character is ``{``).
    :raises TranscriptError: anything unreadable, naming *source* and the line.
    """
    if isinstance(data, bytes):
        if len(data) > MAX_TRANSCRIPT_BYTES:
            raise TranscriptError(source, None, "转写稿过大（超过 2 MB）")
        text = decode_bytes(data, source)
    else:
        text = data.lstrip("\ufeff")
    if not text.strip():
        raise TranscriptError(source, None, "文件为空")
    if fmt is None:
        fmt = "json" if text.lstrip().startswith("{") else "text"
    if fmt == "json":
        return _parse_json(text, source)
    if fmt == "text":
        return _parse_text(text, source)
    raise ValueError(f"unknown transcript format {fmt!r}")


def load_transcript(path: Union[str, Path]) -> Transcript:
    """Read one transcript file (``*.json`` as JSON, anything else by content)."""
    path = Path(path)
    source = str(path)
    try:
        if path.stat().st_size > MAX_TRANSCRIPT_BYTES:
            raise TranscriptError(source, None, "转写稿过大（超过 2 MB）")
        data = path.read_bytes()
    except OSError as exc:
        raise TranscriptError(source, None, f"无法读取文件：{exc.strerror or exc}") from None
    fmt = "json" if path.suffix.lower() == ".json" else None
    transcript = parse_transcript(data, source=source, fmt=fmt)
    if transcript.started_at is None:
        transcript.extra.setdefault("file_mtime", path.stat().st_mtime)
    return transcript
