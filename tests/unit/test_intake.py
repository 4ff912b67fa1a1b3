"""What one message contributes to the petition form, and how values are checked."""
import pytest

from actions.intake import DECLINED_VALUES, check_slot, facts_from_turn, missing_slots

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
