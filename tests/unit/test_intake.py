"""What one message contributes to the petition form, and how values are checked."""
import pytest

from actions.intake import DECLINED_VALUES, check_slot, facts_from_turn, find_swaps, missing_slots, replace_part

EMPTY = {}


def test_a_rich_first_message_fills_every_slot_it_states():
    found = facts_from_turn(
        "你好，我叫张建国，电话一三八零零一二三四五六，住在朝阳区幸福路12号3单元。"
        "我们小区旁边的宏达建筑公司从上个月开始天天半夜施工，吵得根本睡不着，希望有关部门让他们晚上停工",
        requested_slot="description",
        filled=EMPTY,
    )
    assert found["petitioner_name"] == "张建国"
    assert found["phone"] == "13800123456"
    assert "幸福路12号" in found["address"]
    assert "宏达建筑公司" in found["respondent"]
    assert "停工" in found["demand"]
    assert found["description"]


def test_a_bare_answer_fills_the_slot_that_was_asked():
    assert facts_from_turn("王芳", requested_slot="petitioner_name", filled=EMPTY) == {"petitioner_name": "王芳"}


def test_a_filled_slot_is_not_overwritten_by_a_passing_mention():
    filled = {"petitioner_name": "王芳"}
    found = facts_from_turn("我叫李四的邻居也遇到了", requested_slot="demand", filled=filled)
    assert "petitioner_name" not in found


def test_an_explicit_correction_overrides_a_filled_slot():
    filled = {"phone": "13912345678"}
    found = facts_from_turn("电话说错了，是13987654321", requested_slot=None, filled=filled)
    assert found["phone"] == "13987654321"


def test_a_correction_without_a_new_value_clears_the_slot_to_ask_again():
    filled = {"address": "光明路3号"}
    assert facts_from_turn("地址不对", requested_slot=None, filled=filled) == {"address": None}


@pytest.mark.parametrize("slot", sorted(DECLINED_VALUES))
def test_optional_items_can_be_declined(slot):
    found = facts_from_turn("不方便提供", requested_slot=slot, filled=EMPTY)
    assert found == {slot: DECLINED_VALUES[slot]}
    assert check_slot(slot, found[slot]).value == DECLINED_VALUES[slot]


def test_a_phone_number_with_a_missing_digit_is_explained_not_ignored():
    found = facts_from_turn("1391234567", requested_slot="phone", filled=EMPTY)
    check = check_slot("phone", found["phone"])
    assert check.value is None
    assert "11位" in check.problem


def test_a_wrong_id_checksum_is_explained():
    check = check_slot("id_number", "110105194912310021")
    assert check.value is None and "18位" in check.problem


def test_a_valid_id_with_lower_case_x_is_accepted():
    assert check_slot("id_number", "11010519491231002x").value == "11010519491231002X"


def test_empty_filler_is_refused_with_the_field_named():
    check = check_slot("demand", "嗯")
    assert check.value is None and "诉求" in check.problem


def test_missing_slots_follow_the_order_of_the_form():
    assert missing_slots({"description": "停水", "phone": "13800001111"})[:2] == ["respondent", "occurred"]


# --------------------------------------------- corrections that change one part

# Stories: what the citizen has on record, what they write, what the record becomes.
PARTIAL_CORRECTIONS = [
    ({"address": "幸福里小区3栋2单元"}, "地址不对，不是3栋，是5栋", {"address": "幸福里小区5栋2单元"}),
    ({"address": "幸福里小区3栋2单元"}, "地址写错了，是5栋，不是3栋", {"address": "幸福里小区5栋2单元"}),
    ({"address": "幸福里小区三栋2单元"}, "住址有误，不是3栋，而是5栋", {"address": "幸福里小区5栋2单元"}),
    ({"address": "和平路13栋"}, "地址不对，不是13栋，是15栋", {"address": "和平路15栋"}),
    (
        {"respondent": "市公安局城东派出所"},
        "单位说错了，不是城东派出所，是城西派出所",
        {"respondent": "市公安局城西派出所"},
    ),
    ({"respondent": "市公安局城东派出所"}, "不是城东派出所，是城西派出所", {"respondent": "市公安局城西派出所"}),
    ({"occurred": "2023年3月初"}, "时间不对，不是3月，是5月", {"occurred": "2023年5月初"}),
    ({"occurred": "2023年3月初"}, "不是3月，是5月", {"occurred": "2023年5月初"}),
    ({"petitioner_name": "苗小红"}, "是苗小虹，不是苗小红", {"petitioner_name": "苗小虹"}),
    ({"location": "红旗街南二巷口"}, "不是南二巷，是南四巷", {"location": "红旗街南四巷口"}),
]


@pytest.mark.parametrize("filled, text, expected", PARTIAL_CORRECTIONS)
def test_a_correction_changes_only_the_part_the_citizen_takes_back(filled, text, expected):
    record = {"description": "小区门口的路灯坏了三个月", "demand": "尽快修好路灯", **filled}
    assert facts_from_turn(text, requested_slot=None, filled=record) == expected


def test_a_partial_correction_at_the_summary_passes_the_checks():
    found = facts_from_turn("地址不对，不是3栋，是5栋", requested_slot=None, filled={"address": "幸福里小区3栋2单元"})
    assert check_slot("address", found["address"]).value == "幸福里小区5栋2单元"


def test_a_partial_correction_inside_the_form_does_not_answer_the_question_asked():
    filled = {"description": "楼上漏水", "address": "幸福里小区3栋2单元"}
    found = facts_from_turn("不是3栋，是5栋", requested_slot="respondent", filled=filled)
    assert found == {"address": "幸福里小区5栋2单元"}


@pytest.mark.parametrize(
    "filled, text, expected",
    [
        # the wrong part is not in the recorded value: the stated value replaces it, as before
        ({"address": "光明路8号"}, "地址不对，不是3栋，是5栋", {"address": "5栋"}),
        ({"respondent": "区住建局"}, "单位说错了，不是城东派出所，是城西派出所", {"respondent": "城西派出所"}),
        # a different party altogether, not a part of the recorded one
        ({"respondent": "物业公司"}, "反映的不是物业，是开发商锦华置业", {"respondent": "锦华置业"}),
        # nothing recorded yet
        ({}, "地址不对，不是3栋，是5栋", {"address": "5栋"}),
        # a phone number given in full replaces the old one
        ({"phone": "13912345678"}, "电话说错了，不是13912345678，是13987654321", {"phone": "13987654321"}),
        ({"phone": "13912345678"}, "不是13912345678，是13987654321", {"phone": "13987654321"}),
    ],
)
def test_without_a_recorded_wrong_part_the_correction_works_as_before(filled, text, expected):
    assert facts_from_turn(text, requested_slot=None, filled=filled) == expected


def test_a_named_field_is_the_only_one_changed():
    filled = {"address": "光明路8号", "location": "幸福里小区3栋楼下"}
    assert facts_from_turn("地址不对，不是3栋，是5栋", requested_slot=None, filled=filled) == {"address": "5栋"}


def test_a_wrong_part_held_by_two_values_and_no_field_named_changes_neither():
    filled = {"address": "幸福里小区3栋", "location": "幸福里小区3栋楼下"}
    assert "address" not in facts_from_turn("不是3栋，是5栋", requested_slot=None, filled=filled)
    assert "location" not in facts_from_turn("不是3栋，是5栋", requested_slot=None, filled=filled)


@pytest.mark.parametrize("text", ["5栋不是3栋", "不是我不想说，是实在太忙", "不是物业，是开发商锦华置业"])
def test_ambiguous_or_unrelated_wording_is_no_partial_correction(text):
    assert find_swaps(text) == []


@pytest.mark.parametrize(
    "text, expected",
    [
        ("不是3栋，是5栋", [("3栋", "5栋")]),
        ("是5栋的，不是3栋啊", [("3栋", "5栋")]),
        ("不是南二巷而是南四巷", [("南二巷", "南四巷")]),
    ],
)
def test_both_orders_of_a_swap_are_read(text, expected):
    assert find_swaps(text) == expected


@pytest.mark.parametrize(
    "value, old, new, expected",
    [
        ("幸福里小区3栋2单元", "3栋", "5栋", "幸福里小区5栋2单元"),
        ("幸福里小区三栋", "3栋", "5栋", "幸福里小区5栋"),
        ("和平路13栋", "3栋", "5栋", None),
        ("光明路8号", "3栋", "5栋", None),
    ],
)
def test_replace_part(value, old, new, expected):
    assert replace_part(value, old, new) == expected


@pytest.mark.parametrize("reply,name", [
    ("孙大爷，叫孙德明", "孙德明"),
    ("老张，张国庆", "张国庆"),
    ("孙德明，孙子的孙，道德的德", "孙德明"),
])
def test_sun_gives_his_full_name_after_a_nickname_or_with_its_spelling(reply, name):
    found = facts_from_turn(reply, requested_slot="petitioner_name", filled={"description": "路灯坏了"})
    assert found == {"petitioner_name": name}  # and the 国庆 of 张国庆 is no date


@pytest.mark.parametrize("reply", ["行吧谢谢", "好的", "嗯嗯", "那好吧"])
def test_an_acknowledgement_is_not_recorded_as_the_respondent(reply):
    check = check_slot("respondent", reply)
    assert check.value is None and "被反映单位或对象" in check.problem
