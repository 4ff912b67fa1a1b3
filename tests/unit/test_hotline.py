"""Hotline calls become case drafts: what the operator asked gives meaning to what the caller said."""
from __future__ import annotations

import io
import json
import socket
import sqlite3
import uuid
from pathlib import Path

import pytest

from channels.hotline import HotlineInput, build_draft, hotline_query_code
from channels.hotline_cli import extract, ingest
from channels.transcripts import load_transcript, parse_transcript

DATA = Path(__file__).resolve().parents[1] / "data" / "transcripts"
CALLER_NUMBER = "13600001111"


def call(*lines: str, caller_number: str = CALLER_NUMBER, call_id: str = "T-1") -> dict:
    """Draft of a JSON call whose lines alternate 'O:' / 'C:' prefixes."""
    turns = [
        {"speaker": "operator" if line.startswith("O:") else "caller", "text": line[2:]}
        for line in lines
    ]
    transcript = {
        "call_id": call_id,
        "started_at": "2026-11-20T09:12:00+08:00",
        "caller_number": caller_number,
        "operator_id": "A017",
        "turns": turns,
    }
    case, _ = build_draft(parse_transcript(json.dumps(transcript, ensure_ascii=False)))
    return case


@pytest.fixture(autouse=True)
def _private_var_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("XF_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.delenv("XF_REDIS_URL", raising=False)
    monkeypatch.delenv("XF_HOTLINE_SECRET", raising=False)


# ------------------------------------------------- the operator's question


def test_bare_answer_takes_its_meaning_from_the_question():
    case = call("O:请问您叫什么名字？", "C:周明。", "O:住哪里？", "C:长安路88号阳光小区。")
    assert case["petitioner"]["name"] == "周明"
    assert case["petitioner"]["address"] == "长安路88号阳光小区"
    assert case["confidence"]["name"] >= 0.7


def test_company_name_question_is_not_a_name_question():
    case = call("O:物业公司叫什么名字？", "C:安居物业管理有限公司。", "O:请问您贵姓？", "C:免贵姓孙，孙丽华。")
    assert case["respondent"] == "安居物业管理有限公司"
    assert case["petitioner"]["name"] == "孙丽华"


def test_spelled_out_characters_do_not_hide_the_name():
    case = call("O:您怎么称呼？", "C:我姓张，弓长张，张德胜，道德的德，胜利的胜。")
    assert case["petitioner"]["name"] == "张德胜"


def test_operator_words_never_become_the_description():
    case = call("O:您好，请问烧烤摊在什么位置？", "C:楼下的烧烤摊天天开到凌晨，吵得睡不着。")
    assert "位置" not in case["description"]
    assert "烧烤摊" in case["description"]


def test_contact_answers_stay_out_of_the_description():
    case = call(
        "O:请讲。", "C:我们小区电梯坏了一个月了，物业不修。",
        "O:您的电话？", "C:一三九零零一二三四五六。",
        "O:您住哪里？", "C:幸福里小区12栋。",
    )
    assert "电梯坏了" in case["description"]
    assert "139" not in case["description"] and "12栋" not in case["description"]


# ---------------------------------------------------------- spoken numbers


@pytest.mark.parametrize(
    "spoken, phone",
    [
        ("幺三九，幺二三四，零零零幺", "13912340001"),
        ("一三六零五七一二二八八", "13605712288"),
        ("139 5555 6666", "13955556666"),
        ("我家座机，零五七幺，八八八八，六六六六", "0571-88886666"),
    ],
)
def test_spoken_and_grouped_numbers_become_the_phone(spoken, phone):
    case = call("O:您的联系电话是多少？", f"C:{spoken}")
    assert case["petitioner"]["phone"] == phone


def test_spoken_id_number_with_groups_is_read():
    case = call("O:身份证号码方便说一下吗？", "C:可以，幺幺零幺零五，幺九五八零三幺四，二零三三。")
    assert case["petitioner"]["id_number"] == "110105195803142033"


# ------------------------------------------------------------ corrections


def test_later_phone_correction_overrides_the_first_answer():
    case = call(
        "O:您的电话号码？", "C:一三六零五七一二二八八。",
        "O:您住哪里？", "C:等一下，刚才电话号码说错了，应该是一三六零五七一二二九八。",
    )
    assert case["petitioner"]["phone"] == "13605712298"


def test_correction_inside_one_turn_wins_over_its_first_half():
    case = call(
        "O:从什么时候开始停的？", "C:11月20号。",
        "O:哪个小区？", "C:南湖区春晖小区。哦，时间我记错了，是11月21号开始停的。",
    )
    assert "21" in case["occurred"]
    assert case["location"] == "南湖区春晖小区"


def test_repeated_question_takes_the_new_answer():
    case = call("O:您叫什么名字？", "C:李四。", "O:再确认一下您的姓名？", "C:李思远。")
    assert case["petitioner"]["name"] == "李思远"


def test_no_after_the_operator_reads_the_name_back_corrects_it():
    case = call("O:您叫什么名字？", "C:王小明。", "O:王晓明，破晓的晓，对吗？", "C:不对，是王小明，大小的小。")
    assert case["petitioner"]["name"] == "王小明"
    assert "大小" not in (case["description"] or "")


# -------------------------------------------------------- the caller's phone


def test_stated_number_beats_the_calling_number():
    case = call(
        "O:联系电话是现在这个号码吗？",
        "C:不是，这个是我女儿的手机，你记我自己的，幺八七，零零三三，四四五五。",
    )
    assert case["petitioner"]["phone"] == "18700334455"
    assert "phone" not in case["needs_review"]


def test_this_number_means_the_calling_number_confirmed():
    case = call("O:留个电话吧。", "C:就打这个号。")
    assert case["petitioner"]["phone"] == CALLER_NUMBER
    assert case["confidence"]["phone"] >= 0.85
    assert "phone" not in case["needs_review"]


def test_yes_to_is_it_this_number_confirms_the_calling_number():
    case = call("O:您是用13600001111打来的，这个号码能联系到您吗？", "C:能。")
    assert case["petitioner"]["phone"] == CALLER_NUMBER
    assert "phone" not in case["needs_review"]


def test_unconfirmed_calling_number_is_used_but_reviewed():
    case = call("O:请讲。", "C:我们村口的路灯坏了两个月了，晚上看不见路。")
    assert case["petitioner"]["phone"] == CALLER_NUMBER
    assert case["confidence"]["phone"] < 0.7
    assert "phone" in case["needs_review"]


# ------------------------------------------------------------------- ID


def test_refusing_the_id_is_fine():
    case = call("O:身份证号码能提供吗？", "C:身份证就不提供了。")
    assert case["petitioner"]["id_number"] is None
    assert "id_number" not in case["needs_review"]


def test_an_invalid_id_number_is_reviewed():
    case = call("O:身份证号码？", "C:110105195803142034")
    assert case["petitioner"]["id_number"] is None
    assert "id_number" in case["needs_review"]


# ------------------------------------------------------------ off-topic


def test_small_talk_is_left_out_of_the_description():
    case = call(
        "O:您好，请讲。", "C:哎呀小姑娘你好，今天天气真冷啊，你们上班冷不冷？",
        "O:您有什么事情要反映吗？", "C:隔壁在楼顶私自搭了铁皮房，把我家阳光全挡住了。",
        "O:什么时候搭的？", "C:今年九月份。我跟你说，我家那只猫也被吓得不敢上阳台了。",
        "O:我们先说回违建的事。您怎么称呼？", "C:我叫何秀兰。",
    )
    assert "铁皮房" in case["description"]
    assert "天气" not in case["description"] and "猫" not in case["description"]
    assert case["occurred"] == "今年九月份"


def test_small_talk_with_a_grievance_is_kept():
    case = call("O:请讲。", "C:下雨天楼顶漏水，物业一直不修。")
    assert "漏水" in case["description"]


# ------------------------------------------------------- first time or not


@pytest.mark.parametrize(
    "words",
    ["我这个事情之前已经反映过好几次了，一直没人处理。", "我上次打过电话了，烧烤摊还是吵。", "我又打来了，路灯还是没修。"],
)
def test_a_matter_petitioned_before_is_not_first_time(words):
    assert call("O:请讲。", f"C:{words}")["first_time"] is False


def test_operator_finding_an_earlier_call_confirmed_by_the_caller():
    case = call("O:系统显示您上个月来电反映过下水道的问题，是同一件事吗？", "C:对，就是那个事。")
    assert case["first_time"] is False


@pytest.mark.parametrize(
    "words",
    ["我之前跟物业反映过，他们不管。", "这是我第一次打电话反映。", "我以前没反映过这个事。"],
)
def test_raised_only_with_the_other_party_or_never_is_first_time(words):
    assert call("O:请讲。", f"C:{words}")["first_time"] is True


def test_time_of_the_earlier_call_is_not_when_it_happened():
    case = call("O:请讲。", "C:烧烤摊天天吵。上个月就打过一次了，说转给城管，一点用都没有。")
    assert case["occurred"] is None
    assert case["respondent"] != "城管"


# --------------------------------------------------------------- routes


@pytest.mark.parametrize(
    "file, route",
    [
        ("hl07_fridge_12315.json", "consumer_12315"),
        ("hl06_court_execution.txt", "political_legal"),
        ("hl08_fire_emergency.json", "emergency"),
        ("hl18_dismissal.json", "labor_arbitration"),
        ("hl14_village_cadre.json", "discipline_inspection"),
        ("hl02_streetlight_elderly.txt", "petition"),
    ],
)
def test_route_kind_and_category_as_in_the_bot(file, route):
    case, _ = build_draft(load_transcript(DATA / file))
    assert case["legal_route"] == route
    assert case["kind"] in ("suggestion", "accusation", "appeal")
    assert case["category"] and case["route_reason"]


# ------------------------------------------------------- draft and identity


def test_draft_is_a_hotline_case_of_contract_section_4():
    case, code = build_draft(load_transcript(DATA / "hl01_wage_zhang.json"))
    assert code is None and "query_code" not in case and "query_code_hash" not in case
    assert case["channel"] == "hotline"
    assert case["channel_user"] == "HL-20261120-0001"
    assert case["received_at"] == "2026-11-20T09:12:00+08:00"
    assert case["case_id"].startswith("XF20261120-") and len(case["case_id"]) == 17
    assert case["source"] == {"call_id": "HL-20261120-0001", "turns": 18, "operator_id": "A017", "operator_review": True}
    assert set(case["confidence"]) >= {"name", "phone", "id_number", "address", "respondent", "occurred",
                                       "location", "description", "demand", "first_time", "legal_route"}
    assert all(0.0 <= v <= 1.0 for v in case["confidence"].values())


def test_missing_required_fields_go_to_review():
    case = call("O:请讲。", "C:楼下着火了，烟很大！")
    assert {"name", "address", "demand"} <= set(case["needs_review"])


def test_same_call_gives_same_case_id_and_code_another_call_another():
    first, code1 = build_draft(load_transcript(DATA / "hl03_noise_repeat.json"), with_query_code=True)
    again, code2 = build_draft(load_transcript(DATA / "hl03_noise_repeat.json"), with_query_code=True)
    other, _ = build_draft(load_transcript(DATA / "hl04_phone_correction.json"))
    assert first["case_id"] == again["case_id"] != other["case_id"]
    assert code1 == code2 and len(code1) == 6
    assert "query_code" not in first and code1 not in json.dumps(first)


def test_plain_text_call_is_identified_by_its_content(tmp_path):
    text = (DATA / "hl13_school_fees.txt").read_bytes()
    (tmp_path / "a.txt").write_bytes(text)
    (tmp_path / "b.txt").write_bytes(text + "坐席：再见。\n".encode())
    a, _ = build_draft(load_transcript(tmp_path / "a.txt"))
    a2, _ = build_draft(load_transcript(DATA / "hl13_school_fees.txt"))
    b, _ = build_draft(load_transcript(tmp_path / "b.txt"))
    assert a["channel_user"] == a2["channel_user"] != b["channel_user"]


def test_query_code_depends_on_the_secret(monkeypatch):
    monkeypatch.setenv("XF_HOTLINE_SECRET", "one")
    one = hotline_query_code("XF20261120-ABCDEF")
    monkeypatch.setenv("XF_HOTLINE_SECRET", "two")
    assert hotline_query_code("XF20261120-ABCDEF") != one


# ------------------------------------------------------------------- CLI


def _queued(var_dir: Path) -> list[str]:
    path = var_dir / "queue.sqlite3"
    if not path.exists():
        return []
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT case_id FROM queue_messages ORDER BY id")]


def test_extract_prints_one_draft_a_line_in_order_and_queues_nothing(tmp_path):
    files = [DATA / "hl05_other_number.json", DATA / "hl02_streetlight_elderly.txt", DATA / "hl01_wage_zhang.json"]
    out, err = io.StringIO(), io.StringIO()
    assert extract([str(f) for f in files], out=out, err=err) == 0
    lines = out.getvalue().splitlines()
    drafts = [json.loads(line) for line in lines]
    assert [d["channel_user"] for d in drafts[::2]] == ["HL-20261121-0105", "HL-20261120-0001"]
    assert drafts[1]["petitioner"]["name"] == "李秀英"
    assert len(lines) == 3
    assert _queued(tmp_path / "var") == []


def test_extract_reports_a_bad_file_and_goes_on(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("坐席：您好\n客服：请讲\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert extract([str(bad), str(DATA / "hl01_wage_zhang.json")], out=out, err=err) == 1
    assert len(out.getvalue().splitlines()) == 1
    assert "bad.txt 第2行" in err.getvalue()


def test_ingest_twice_gives_the_same_cases(tmp_path):
    folder = tmp_path / "calls"
    (folder / "sub").mkdir(parents=True)
    for name in ("hl01_wage_zhang.json", "hl11_property_fee_repeat.txt"):
        (folder / name).write_bytes((DATA / name).read_bytes())
    (folder / "sub" / "hl22.json").write_bytes((DATA / "hl22_heating_landline.json").read_bytes())
    (folder / "notes.md").write_text("不是转写稿", encoding="utf-8")

    runs = []
    for _ in range(2):
        out = io.StringIO()
        assert ingest([str(folder)], as_json=True, progress=False, out=out, err=io.StringIO()) == 0
        runs.append([json.loads(line) for line in out.getvalue().splitlines()])
    first, second = runs
    assert len(first) == 3 and all(r["ok"] for r in first)
    assert [(r["case_id"], r["query_code"]) for r in first] == [(r["case_id"], r["query_code"]) for r in second]
    queued = _queued(tmp_path / "var")
    # each run queues each case once; the worker stores a case_id once (idempotent consumer)
    assert sorted(queued) == sorted([r["case_id"] for r in first] * 2)


def test_ingest_reports_failures_per_file_and_exits_1(tmp_path):
    bad = tmp_path / "broken.json"
    bad.write_text('{"turns": [', encoding="utf-8")
    out = io.StringIO()
    code = ingest([str(bad), str(DATA / "hl04_phone_correction.json")], as_json=True, progress=False,
                  out=out, err=io.StringIO())
    results = [json.loads(line) for line in out.getvalue().splitlines()]
    assert code == 1
    assert results[0]["ok"] is False and "broken.json" in results[0]["error"]
    assert results[1]["ok"] is True
    assert _queued(tmp_path / "var") == [results[1]["case_id"]]


def test_queued_hotline_case_carries_a_hash_never_the_code(tmp_path):
    out = io.StringIO()
    ingest([str(DATA / "hl10_demolition_id.json")], as_json=True, progress=False, out=out, err=io.StringIO())
    code = json.loads(out.getvalue())["query_code"]
    with sqlite3.connect(tmp_path / "var" / "queue.sqlite3") as conn:
        payload = json.loads(conn.execute("SELECT payload FROM queue_messages").fetchone()[0])
    from actions.ids import verify_query_code

    assert "query_code" not in payload and code not in json.dumps(payload)
    assert verify_query_code(code, payload["query_code_hash"])
    assert payload["channel"] == "hotline" and payload["source"]["operator_review"] is True


# ------------------------------------------------------------ HTTP channel


@pytest.fixture
def sanic_app(monkeypatch):
    """A fresh Sanic app; test mode lets several apps start in one process (as sanic-testing does)."""
    from sanic import Sanic

    monkeypatch.setattr(Sanic, "test_mode", True)
    return lambda: Sanic(f"hotline_test_{uuid.uuid4().hex[:8]}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def fake_backend():
    """A backend answering GET /api/v1/whoami: token 'good-operator' is an operator."""
    from aiohttp import web

    tokens = {"good-operator": "operator", "a-handler": "handler"}

    async def whoami(request):
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        role = tokens.get(token.strip()) if scheme == "Bearer" else None
        if role is None:
            return web.json_response({"error": "unauthorized"}, status=401)
        return web.json_response({"role": role})

    app = web.Application()
    app.router.add_get("/api/v1/whoami", whoami)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    yield f"http://127.0.0.1:{port}"
    await runner.cleanup()


@pytest.fixture
async def hotline_server(fake_backend, sanic_app):
    """The channel's blueprint served by Sanic as Rasa mounts it: /webhooks/hotline/..."""
    from rasa.core.channels.channel import register

    published: list[dict] = []
    channel = HotlineInput(backend_url=fake_backend, publish=published.append)
    app = sanic_app()
    register([channel], app, route="/webhooks/")  # exactly as `rasa run` mounts channels
    port = _free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    yield f"http://127.0.0.1:{port}/webhooks/hotline/transcripts", published
    server.close()
    await server.wait_closed()


async def _post(url: str, body: bytes, token: str | None, content_type: str = "application/json"):
    import aiohttp

    headers = {"Content-Type": content_type}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=body, headers=headers) as response:
            return response.status, await response.json(content_type=None)


async def test_endpoint_refuses_a_request_without_token(hotline_server):
    url, published = hotline_server
    status, body = await _post(url, (DATA / "hl01_wage_zhang.json").read_bytes(), None)
    assert status == 401 and published == []
    assert "令牌" in body["message"]


async def test_endpoint_refuses_a_forged_token(hotline_server):
    url, published = hotline_server
    status, _ = await _post(url, (DATA / "hl01_wage_zhang.json").read_bytes(), "forged")
    assert status == 401 and published == []


async def test_endpoint_refuses_a_token_of_another_role(hotline_server):
    url, published = hotline_server
    status, _ = await _post(url, (DATA / "hl01_wage_zhang.json").read_bytes(), "a-handler")
    assert status == 401 and published == []


async def test_operator_posts_a_transcript_and_gets_case_and_code(hotline_server):
    url, published = hotline_server
    status, body = await _post(url, (DATA / "hl01_wage_zhang.json").read_bytes(), "good-operator")
    assert status == 201
    expected, _ = build_draft(load_transcript(DATA / "hl01_wage_zhang.json"))
    assert body["case_id"] == expected["case_id"]
    assert len(body["query_code"]) == 6
    assert body["draft"]["petitioner"]["name"] == "张德胜"
    assert [case["case_id"] for case in published] == [expected["case_id"]]
    assert "query_code" not in published[0]


async def test_operator_may_post_plain_text(hotline_server):
    url, published = hotline_server
    status, body = await _post(url, (DATA / "hl09_dibao_confused.txt").read_bytes(), "good-operator",
                               "text/plain; charset=utf-8")
    assert status == 201
    assert body["draft"]["petitioner"]["name"] == "刘德顺"
    assert len(published) == 1


async def test_bad_transcript_is_a_400_naming_the_line(hotline_server):
    url, published = hotline_server
    status, body = await _post(url, "坐席：您好\n客服：请讲\n".encode(), "good-operator", "text/plain")
    assert status == 400 and published == []
    assert body["line"] == 2 and "客服" in body["message"]


async def test_backend_unreachable_is_a_503_not_an_open_door(sanic_app):
    channel = HotlineInput(backend_url=f"http://127.0.0.1:{_free_port()}", publish=lambda case: None)
    app = sanic_app()

    async def on_new_message(_message):
        raise AssertionError("not used")

    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/hotline")
    port = _free_port()
    server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
    await server.startup()
    try:
        status, _ = await _post(f"http://127.0.0.1:{port}/webhooks/hotline/transcripts",
                                (DATA / "hl01_wage_zhang.json").read_bytes(), "good-operator")
    finally:
        server.close()
        await server.wait_closed()
    assert status == 503


def test_channel_registers_under_the_name_hotline():
    channel = HotlineInput.from_credentials({"backend_url": "http://backend:8000"})
    assert HotlineInput.name() == "hotline"
    assert channel.backend_url == "http://backend:8000"
