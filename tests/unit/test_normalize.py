"""How citizens' typed and spoken text is brought to one canonical form."""
from __future__ import annotations

import pytest

from actions.normalize import (
    TRADITIONAL_CHARS_FILE,
    _read_character_pairs,
    digits_in,
    fix_typos,
    normalize_text,
    to_simplified,
)


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("幺三八零零一二三四五六", "13800123456"),
        ("一三八零零一二三四五六", "13800123456"),
        ("一三八 零零一二 三四五六", "13800123456"),
        ("幺三八洞洞幺二三四五六", "13800123456"),
        ("一五九两两三三四四五五", "15922334455"),
        ("138零零123456", "13800123456"),
        ("电话是一三九〇〇〇〇一一一一", "电话是13900001111"),
    ],
)
def test_spoken_chinese_digit_runs_become_arabic_digits(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "我们家两个人",
        "孩子上一二年级",
        "他把事情一五一十地说了",
        "三三两两的人围着看",
        "十三个人",
        "五六个月没发工资",
    ],
)
def test_ordinary_words_with_digit_characters_are_left_alone(text):
    assert normalize_text(text) == text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("１３８００１２３４５６", "13800123456"),
        ("电话：１３８ ００１２ ３４５６", "电话：13800123456"),
        ("ｘ", "x"),
        ("ＡＢＣ小区", "ABC小区"),
    ],
)
def test_full_width_digits_and_letters_become_half_width(raw, expected):
    assert normalize_text(raw) == expected


def test_chinese_punctuation_is_kept():
    assert normalize_text("你好，我叫王芳。电话：（010）88886666！") == "你好，我叫王芳。电话：（010）88886666！"


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("138 0012 3456", "13800123456"),
        ("138-0012-3456", "13800123456"),
        ("+86 138 0012 3456", "+8613800123456"),
        ("0571-87654321", "057187654321"),
        ("110101 19900307 4514", "110101199003074514"),
    ],
)
def test_spaces_and_hyphens_between_digit_groups_are_removed(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2024-03-05发生的",
        "幸福小区3-2-501",
        "2020-2023年一直拖欠",
        "两个号码13800123456 13900001111",
    ],
)
def test_dates_room_numbers_and_separate_numbers_are_not_glued(text):
    assert normalize_text(text) == text


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("我 叫 张 建国", "我叫张建国"),
        ("  住在   朝阳区  ", "住在朝阳区"),
        ("电\u200b话\ufeff13800123456", "电话13800123456"),
        ("施工\t\n太吵", "施工太吵"),
    ],
)
def test_whitespace_and_invisible_characters_are_cleaned(raw, expected):
    assert normalize_text(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("我叫陳小明，電話號碼", "我叫陈小明，电话号码"),
        ("拖欠勞動報酬", "拖欠劳动报酬"),
        ("醫療費還沒給", "医疗费还没给"),
        ("這裡的問題", "这里的问题"),
        ("縣國土資源局", "县国土资源局"),
    ],
)
def test_common_traditional_characters_become_simplified(raw, expected):
    assert normalize_text(raw) == expected


def test_spoken_year_becomes_a_date_citizens_recognise():
    assert normalize_text("二〇二三年十二月") == "2023年十二月"


def test_empty_text_stays_empty():
    assert normalize_text("") == ""


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("一三八 零零一二 三四五六", "13800123456"),
        ("住12号，电话139", "12139"),
        ("没有数字", ""),
    ],
)
def test_digits_in_returns_every_digit_in_order(raw, expected):
    assert digits_in(raw) == expected


def test_the_one_traditional_table_maps_each_character_once_and_never_to_another_key():
    table = _read_character_pairs(TRADITIONAL_CHARS_FILE)
    assert len(table) > 700
    assert all(chr(k) != v for k, v in table.items())
    assert not set(table) & {ord(v) for v in table.values()}


def test_a_message_typed_in_traditional_characters_reads_as_simplified():
    assert to_simplified("我要投訴，複查結果不滿意") == "我要投诉，复查结果不满意"


def test_common_slips_of_petition_words_are_put_right():
    assert fix_typos("我想信仿，复差要多久，小区拉圾没人管") == "我想信访，复查要多久，小区垃圾没人管"
