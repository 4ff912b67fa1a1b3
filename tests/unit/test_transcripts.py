"""Reading hotline transcripts: both formats of contract §8, and clear errors for the rest."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from channels.transcripts import CALLER, OPERATOR, TranscriptError, load_transcript, parse_transcript

DATA = Path(__file__).resolve().parents[1] / "data" / "transcripts"


def _json(**overrides: object) -> str:
    call = {
        "call_id": "C-1",
        "started_at": "2026-11-20T09:12:00+08:00",
        "caller_number": "13800001111",
        "operator_id": "A017",
        "turns": [
            {"speaker": "operator", "text": "您好，请讲。", "start": 0.0},
            {"speaker": "caller", "text": "我反映路灯坏了。", "start": 2.5},
        ],
    }
    call.update(overrides)
    return json.dumps(call, ensure_ascii=False, indent=2)


# ------------------------------------------------------------------ JSON


def test_json_transcript_gives_turns_and_call_details():
    transcript = parse_transcript(_json())
    assert [t.speaker for t in transcript.turns] == [OPERATOR, CALLER]
    assert transcript.turns[1].text == "我反映路灯坏了。"
    assert transcript.turns[1].start == 2.5
    assert transcript.call_id == "C-1"
    assert transcript.caller_number == "13800001111"
    assert transcript.operator_id == "A017"
    assert transcript.started_at.isoformat() == "2026-11-20T09:12:00+08:00"


def test_json_turn_with_unknown_speaker_names_the_line():
    text = _json(turns=[{"speaker": "operator", "text": "您好"}, {"speaker": "agent", "text": "喂"}])
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(text, source="call.json")
    error = caught.value
    assert error.file == "call.json"
    assert text.splitlines()[error.line - 1].strip().startswith('"speaker": "agent"')
    assert "agent" in str(error) and "call.json" in str(error)


def test_broken_json_names_file_and_line():
    text = '{\n  "call_id": "C-1",\n  "turns": [\n    {"speaker": "caller" "text": "x"}\n  ]\n}'
    with pytest.raises(TranscriptError) as caught:
        parse_transcript(text, source="broken.json", fmt="json")
    assert caught.value.line == 4
    assert "broken.json 第4行" in str(caught.value)


def test_json_without_turns_is_refused():
    with pytest.raises(TranscriptError, match="turns"):
        parse_transcript('{"call_id": "C-1"}', source="x.json")


def test_json_with_only_empty_turns_is_refused():
    with pytest.raises(TranscriptError, match="没有任何对话内容"):
        parse_transcript(_json(turns=[{"speaker": "caller", "text": "  "}]))


def test_bad_start_time_is_explained():
    with pytest.raises(TranscriptError, match="通话开始时间"):
        parse_transcript(_json(started_at="昨天上午"), source="x.json")


def test_started_at_without_zone_is_beijing_time():
    transcript = parse_transcript(_json(started_at="2026-11-20 09:12:00"))
    assert transcript.started_at.utcoffset().total_seconds() == 8 * 3600


# ------------------------------------------------------------ plain text


def test_plain_text_accepts_all_four_labels_and_both_colons():
    text = "坐席：您好\n话务员:请讲\n来电人：我反映\n市民:路灯坏了\n"
    transcript = parse_transcript(text)
    assert [(t.speaker, t.text) for t in transcript.turns] == [
        (OPERATOR, "您好"), (OPERATOR, "请讲"), (CALLER, "我反映"), (CALLER, "路灯坏了"),
    ]
    assert [t.line for t in transcript.turns] == [1, 2, 3, 4]


def test_plain_text_ignores_blank_lines_and_joins_wrapped_lines():
    text = "坐席：您好\n\n来电人：我们小区的电梯\n老是困人\n\n坐席：好的\n"
    transcript = parse_transcript(text)
    assert [t.text for t in transcript.turns] == ["您好", "我们小区的电梯老是困人", "好的"]


def test_plain_text_allows_time_stamps_and_header_lines():
    text = "通话编号：T-9\n来电号码：13900002222\n[00:01] 坐席：您好\n00:05 来电人：喂\n"
    transcript = parse_transcript(text)
    assert transcript.call_id == "T-9"
    assert transcript.caller_number == "13900002222"
    assert [t.speaker for t in transcript.turns] == [OPERATOR, CALLER]


def test_unknown_speaker_label_names_file_and_line():
    with pytest.raises(TranscriptError) as caught:
        parse_transcript("坐席：您好\n客服：请讲\n", source="call.txt")
    assert caught.value.line == 2
    assert "客服" in str(caught.value) and "call.txt 第2行" in str(caught.value)


def test_text_before_the_first_label_is_refused_with_its_line():
    with pytest.raises(TranscriptError) as caught:
        parse_transcript("\n这是一段没有说话人的文字\n坐席：您好\n", source="a.txt")
    assert caught.value.line == 2
    assert "前缀" in caught.value.message


def test_continuation_line_starting_with_a_time_is_not_a_label():
    transcript = parse_transcript("来电人：停水是\n10:30的时候开始的\n")
    assert transcript.turns[0].text == "停水是10:30的时候开始的"


def test_empty_file_is_refused(tmp_path):
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    with pytest.raises(TranscriptError, match="文件为空"):
        load_transcript(path)


def test_missing_file_is_reported_not_raised_as_oserror(tmp_path):
    with pytest.raises(TranscriptError, match="无法读取"):
        load_transcript(tmp_path / "nope.txt")


# -------------------------------------------------------------- encodings


def test_utf8_with_bom_and_half_width_colons(tmp_path):
    transcript = load_transcript(DATA / "hl26_elevator_bom.txt")
    assert transcript.turns[0].speaker == OPERATOR
    assert transcript.turns[0].text == "您好，信访热线。"


def test_gbk_file_is_read():
    transcript = load_transcript(DATA / "hl21_bus_gbk.txt")
    assert "308路公交" in transcript.turns[1].text


def test_undecodable_bytes_are_refused_with_a_line(tmp_path):
    path = tmp_path / "junk.txt"
    path.write_bytes("坐席：您好\n".encode("utf-8") + b"\x80\xff\xfe\x81\x00")
    with pytest.raises(TranscriptError) as caught:
        load_transcript(path)
    assert caught.value.line == 2
    assert "编码" in caught.value.message


def test_every_sample_transcript_reads():
    files = sorted(DATA.glob("*.json")) + sorted(DATA.glob("*.txt"))
    assert len(files) >= 24
    for path in files:
        assert load_transcript(path).turns, path
