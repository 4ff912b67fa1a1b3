"""What the form accepts as a phone number, an ID number, a refusal or a usable answer."""
from __future__ import annotations

import datetime as dt

import pytest

from actions.validators import clean_free_text, is_refusal, parse_id_number, parse_phone

# ------------------------------------------------------------------ phones


@pytest.mark.parametrize(
    "text, expected",
    [
        ("13800123456", "13800123456"),
        ("我的电话是13800123456", "13800123456"),
        ("一三八零零一二三四五六", "13800123456"),
        ("幺三八 洞洞幺二 三四五六", "13800123456"),
        ("一五九两两三三四四五五", "15922334455"),
        ("１３８００１２３４５６", "13800123456"),
        ("138 0012 3456", "13800123456"),
        ("138-0012-3456", "13800123456"),
        ("+86 138 0012 3456", "13800123456"),
        ("+8613800123456", "13800123456"),
        ("008613800123456", "13800123456"),
        ("86 13800123456", "13800123456"),
        ("手机：19912345678，谢谢", "19912345678"),
    ],
)
def test_mobile_numbers_in_any_spelling_are_recognised(text, expected):
    assert parse_phone(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("(010)8888 6666", "010-88886666"),
        ("（010）88886666", "010-88886666"),
        ("010-88886666", "010-88886666"),
        ("010 8888 6666", "010-88886666"),
        ("0571-87654321", "0571-87654321"),
        ("座机0571 8765432", "0571-8765432"),
        ("020-12345678", None),  # local numbers never start with 1
        ("0571-87654321转123", "0571-87654321"),
        ("单位电话零五七幺八七六五四三二幺", "0571-87654321"),
    ],
)
def test_landlines_need_an_area_code_and_are_written_with_a_hyphen(text, expected):
    assert parse_phone(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1380012345",  # 10 digits
        "138001234567",  # 12 digits
        "幺三八零零一二三四五六七",  # 12 spoken digits
        "12800123456",  # no such mobile prefix
        "110",
        "12345",
        "88886666",  # landline without area code
        "0138001234567",
        "",
        "没有电话",
        "110101199003074514",  # an ID number is not a phone
    ],
)
def test_wrong_lengths_and_service_numbers_are_not_phones(text):
    assert parse_phone(text) is None


def test_first_number_given_wins():
    assert parse_phone("打13800123456或者13900001111都行") == "13800123456"


def test_phone_next_to_an_id_number_is_found():
    assert parse_phone("身份证110101199003074514 电话13800123456") == "13800123456"


# -------------------------------------------------------------- ID numbers

TODAY = dt.date(2026, 11, 26)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("110101199003074514", "110101199003074514"),
        ("身份证号：110101199003074514。", "110101199003074514"),
        ("11010519491231002X", "11010519491231002X"),
        ("11010519491231002x", "11010519491231002X"),
        ("１１０１０５１９４９１２３１００２Ｘ", "11010519491231002X"),
        ("44030419851111123X", "44030419851111123X"),
        ("110101 19900307 4514", "110101199003074514"),
        ("幺幺零幺零幺幺九九零零三零七四五幺四", "110101199003074514"),
        ("一一零一零五一九四九一二三一零零二叉", "11010519491231002X"),
        ("510108200002291239", "510108200002291239"),  # 29 February of a leap year
    ],
)
def test_valid_resident_id_numbers_are_accepted(text, expected):
    assert parse_id_number(text, today=TODAY) == expected


@pytest.mark.parametrize(
    "text",
    [
        "110101199003074515",  # wrong check digit
        "11010519491231002Y",
        "110101199902301231",  # 30 February 1999 does not exist
        "110105203001011231",  # born in the future
        "110101189912311231",  # before 1900
        "010101199003074514",  # region code cannot start with 0
        "11010119900307451",  # 17 characters
        "1101011990030745140",  # 19 characters
        "身份证不方便给",
        "",
    ],
)
def test_invalid_id_numbers_are_rejected(text):
    assert parse_id_number(text, today=TODAY) is None


def test_id_born_today_is_accepted_but_not_tomorrow():
    assert parse_id_number("110101202611260016", today=dt.date(2026, 11, 26)) == "110101202611260016"
    assert parse_id_number("110101202611260016", today=dt.date(2026, 11, 25)) is None


# ---------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    "text",
    [
        "不想提供",
        "我不想提供身份证",
        "不方便",
        "这个我不方便说",
        "不给",
        "没有身份证",
        "没带身份证",
        "跳过",
        "不用了",
        "算了吧身份证就不填了",
        "保密",
        "不告诉你",
        "身份证不想给你",
        "手机号就不留了吧",
        "不提供",
        "身份证就算了",
        "不记得身份证号了",
        "下一个",
        "拒绝提供",
        "不愿意透露",
        "没有",
        "不记得了",
        "Skip",
    ],
)
def test_citizen_declining_an_optional_item_is_a_refusal(text):
    assert is_refusal(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "不是",
        "不是的",
        "110101199003074514",
        "好的",
        "出行很不方便",
        "不方便出门的老人很多，电梯坏了没人修",
        "没有人管",
        "能不能管管",
        "我家住在幸福路12号",
        "",
        "他们说什么都不给我们退钱，已经拖了半年了，我们实在没办法了才来反映",
    ],
)
def test_answers_and_complaints_are_not_refusals(text):
    assert is_refusal(text) is False


# --------------------------------------------------------------- free text


@pytest.mark.parametrize(
    "text, expected",
    [
        ("嗯，城东区建设路8号", "城东区建设路8号"),
        ("啊 那个，县住建局", "县住建局"),
        ("你好，我要反映小区噪音问题。", "我要反映小区噪音问题"),
        ("好的，退钱啊", "退钱"),
        ("就是，他们天天半夜施工", "他们天天半夜施工"),
        ("那个公司一直不发工资", "那个公司一直不发工资"),
        ("好几个月没发工资了", "好几个月没发工资了"),
    ],
)
def test_fillers_and_polite_openings_are_stripped(text, expected):
    assert clean_free_text(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "   ", "嗯", "嗯嗯嗯", "啊？", "好的", "不知道", "我也不知道", "没有", "随便", "？", "。。。", "你好",
     "不知道是哪个单位", "我也不清楚具体时间"],
)
def test_answers_with_nothing_in_them_are_none(text):
    assert clean_free_text(text) is None


@pytest.mark.parametrize("func", [parse_phone, parse_id_number, is_refusal, clean_free_text])
@pytest.mark.parametrize("bad", [None, 12345, b"13800123456"])
def test_validators_never_raise_on_odd_input(func, bad):
    assert func(bad) in (None, False)
