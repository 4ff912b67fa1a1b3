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


# ------------------------------------------------------- where it happened


def test_a_place_told_in_pieces_is_joined_until_the_caller_moves_on():
    case = call(
        "O:请讲。", "C:我们那边的公厕好几个礼拜没人打扫了，味道很大。",
        "O:公厕在什么位置？", "C:嗯……就在那个，红旗街，菜场北门旁边，去年刚翻新过的那个。",
    )
    assert case["location"] == "红旗街菜场北门旁边"


@pytest.mark.parametrize("question", ["大概在什么方位？", "是哪一块？", "在哪条街上？", "具体是哪儿？"])
def test_the_operator_may_ask_for_the_place_in_other_words(question):
    case = call("O:请讲。", "C:路边的垃圾桶满了一个礼拜没人收。", f"O:{question}", "C:建设街和胜利路路口。")
    assert case["location"] == "建设街和胜利路路口"


def test_where_outside_an_institution_is_a_place_question_not_a_respondent_question():
    case = call("O:请讲。", "C:校门口的早点摊占了半条路。", "O:是哪个学校门口？", "C:光华中学东门对面。")
    assert case["location"] == "光华中学东门对面"
    assert case["respondent"] != "光华中学"


def test_a_place_the_operator_reads_back_and_the_caller_confirms_is_the_location():
    case = call(
        "O:请讲。", "C:有个下水井一直往外冒水。",
        "O:在什么地方？", "C:就那个，桥西，你从桥西往南，靠着供销社后墙那儿。",
        "O:桥西路供销社后墙，是吧？", "C:对对。",
    )
    assert case["location"] == "桥西路供销社后墙"
    assert case["confidence"]["location"] >= 0.9


def test_which_one_asks_to_make_the_last_place_precise():
    case = call(
        "O:请讲。", "C:有家超市卖过期牛奶。", "O:超市在哪儿？", "C:在百盛那边。",
        "O:哪个百盛？", "C:东城百盛购物中心，负一楼，进门右手边那家。",
    )
    assert case["location"].startswith("东城百盛购物中心负一楼")


def test_a_caller_taking_back_one_word_of_the_place_corrects_only_that_word():
    case = call(
        "O:请讲。", "C:路上的井盖碎了，骑车的差点摔了。", "O:在哪里？", "C:文化路南二巷，巷口往里一点。",
        "O:您怎么称呼？", "C:姓贾，贾明。哦刚才那个我说岔了，是南四巷，不是南二巷。",
    )
    assert case["location"] == "文化路南四巷巷口往里一点"
    assert case["occurred"] is None  # "刚才" is the moment of the call, not of the matter
    assert case["petitioner"]["name"] == "贾明"


def test_a_correction_during_the_final_read_back_fixes_the_address():
    case = call(
        "O:请讲。", "C:我们村自来水三天两头停。", "O:您住哪里？", "C:柳林村五组。",
        "O:好，我核对一下，您住柳林村五组，电话13600001111，对吧？", "C:对。住的是六组，不是五组，我说快了。",
    )
    assert case["petitioner"]["address"] == "柳林村六组"


def test_our_village_places_the_matter_in_the_callers_village():
    case = call(
        "O:请讲。", "C:我们村的会计把修路的钱挪去放贷了。", "O:您的住址？", "C:永丰镇马庄村八组。",
    )
    assert case["location"] == "永丰镇马庄村"
    assert "location" in case["needs_review"]  # a guess, for the operator to confirm


def test_a_named_place_in_the_account_keeps_its_district_and_position():
    case = call("O:请讲。", "C:在开发区的金港物流园工地，晚上一直在用探照灯照我们楼。")
    assert case["location"] == "开发区金港物流园工地"
    case = call("O:请讲。", "C:有人往白马河大桥下游倒建筑垃圾，都快把河道堵死了。")
    assert case["location"] == "白马河大桥下游"


def test_an_address_reply_that_starts_with_something_else_keeps_the_place():
    case = call("O:请讲。", "C:房东不退押金。", "O:您现在住哪？", "C:合租的房子，在高新区科园路绿洲公寓。")
    assert case["petitioner"]["address"] == "高新区科园路绿洲公寓"


# ----------------------------------------------------------- when and whom


@pytest.mark.parametrize(
    "account, occurred",
    [
        ("C:小区的路灯坏了三个多月了，上周有老人摔了。", "三个多月"),
        ("C:今年清明前后开始，每天夜里有车来偷倒渣土。", "今年清明前后"),
        ("C:我儿子去年结婚，去年十月份交的契税到现在没退。", "去年十月份"),
        ("C:他欠我七月、八月、九月的房租。", "七月、八月、九月"),
    ],
)
def test_when_it_happened_as_people_say_it(account, occurred):
    assert call("O:请讲。", account)["occurred"] == occurred


def test_how_long_reply_is_the_duration_without_hedges():
    case = call("O:请讲。", "C:楼下餐馆的油烟直接往我家窗户排。", "O:这种情况多久了？", "C:大概半年了吧。")
    assert case["occurred"] == "半年"


def test_i_dont_know_who_is_responsible_names_nobody():
    case = call("O:请讲。", "C:路边的电线杆歪了。", "O:知道归哪个单位管吗？", "C:不清楚，也没看到有牌子。")
    assert case["respondent"] is None


def test_a_name_asked_with_the_place_is_the_respondent_not_a_landmark():
    case = call(
        "O:请讲。", "C:有个棋牌室天天聚众赌博。",
        "O:这个棋牌室叫什么名字，在哪条路上？", "C:叫好运来棋牌，在和平路上，人民医院斜对面。",
    )
    assert case["respondent"] == "好运来棋牌"
    assert case["location"] == "和平路人民医院斜对面"
    assert case["petitioner"]["name"] is None


def test_someone_who_only_told_the_caller_something_is_not_the_respondent():
    case = call("O:请讲。", "C:我家的危房改造补助一直没发下来，组长说上面没拨款。")
    assert case["respondent"] is None


def test_a_neighbour_doing_the_harm_is_the_respondent():
    case = call("O:请讲。", "C:我家楼上那户人家在阳台上养了十几只鸽子，粪便全掉我家窗台上。")
    assert case["respondent"] == "楼上那户人家"


def test_a_school_short_name_is_the_respondent():
    case = call("O:请讲。", "C:育才三小每天放学拖堂一个多小时，家长在门口堵成一片。")
    assert case["respondent"] == "育才三小"


# -------------------------------------------------------- who is calling


def test_the_full_name_after_a_nickname_is_the_name():
    case = call("O:您怎么称呼？", "C:叫我小范就行。哦要全名啊，范思远。")
    assert case["petitioner"]["name"] == "范思远"


def test_a_rare_surname_stated_first_is_accepted_in_the_full_name():
    case = call("O:您贵姓？", "C:我姓佘，佘春生。")
    assert case["petitioner"]["name"] == "佘春生"


def test_hesitations_between_phone_digit_groups_are_ignored():
    case = call("O:您的电话？", "C:幺五二，呃……三六，幺幺，四八，零九。")
    assert case["petitioner"]["phone"] == "15236114809"


def test_asking_for_the_name_first_is_not_steering_away_from_the_account():
    case = call("O:请讲。", "C:我们厂停产半年了，工资一分没发。", "O:您先说一下您的姓名。", "C:单立新。")
    assert "工资一分没发" in case["description"]


# ------------------------------------------------------ demand and route


def test_reasons_and_threats_after_the_demand_are_left_out():
    case = call("O:您的诉求？", "C:要求物业把地下室的积水抽干，快入冬了，不抽的话我们就自己找人。")
    assert case["demand"] == "物业把地下室的积水抽干"


def test_danger_words_the_operator_did_not_treat_as_an_emergency_are_reviewed_not_emergency():
    from actions.routing import detect_emergency

    account = "村口的老戏台塌了一半，一直没人管，想让镇里修一修。"
    assert detect_emergency(account) is not None  # the bot alone would answer with 110/119
    case = call("O:请讲。", f"C:{account}", "O:您的诉求？", "C:希望镇政府出钱把戏台修好。")
    assert case["legal_route"] != "emergency"
    assert "legal_route" in case["needs_review"]


def test_an_emergency_the_operator_answered_as_one_stays_an_emergency():
    case = call("O:请讲。", "C:我们楼的外墙塌了，砸到了人！", "O:请马上拨打120和110，先离开危险地方。")
    assert case["legal_route"] == "emergency"


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
