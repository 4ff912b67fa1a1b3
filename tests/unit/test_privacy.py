"""Personal data never reaches a log in clear."""
from __future__ import annotations

import pytest

from actions.privacy import mask_id, mask_name, mask_phone, redact


@pytest.mark.parametrize(
    "name, masked",
    [("张建国", "张**"), ("李四", "李*"), ("欧阳娜娜", "欧***"), ("王", "*"), ("", ""), (" 王芳 ", "王*")],
)
def test_names_keep_only_the_first_character(name, masked):
    assert mask_name(name) == masked


@pytest.mark.parametrize(
    "phone, masked",
    [
        ("13800123456", "138****3456"),
        ("010-88886666", "010-****6666"),
        ("0571-8765432", "0571-***5432"),
        ("12345", "*****"),
        ("", ""),
    ],
)
def test_phones_keep_only_prefix_and_last_four_digits(phone, masked):
    assert mask_phone(phone) == masked


@pytest.mark.parametrize(
    "id_number, masked",
    [
        ("110101199003074514", "1101**********4514"),
        ("11010519491231002X", "1101**********002X"),
        ("", ""),
    ],
)
def test_id_numbers_hide_the_birth_date(id_number, masked):
    assert mask_id(id_number) == masked


def test_redact_hides_every_phone_and_id_number_in_a_message():
    text = "我叫张建国，电话一三八零零一二三四五六，身份证110101199003074514，座机(010)8888 6666"
    out = redact(text)
    assert out == "我叫张**，电话138****3456，身份证1101**********4514，座机010-****6666"


@pytest.mark.parametrize(
    "text, secret",
    [
        ("手机 138 0012 3456", "0012"),
        ("１３８００１２３４５６", "00123"),
        ("+86 13800123456", "0012"),
        ("身份证号11010519491231002x", "19491231"),
        ("身份证110101199003074515（可能打错了）", "19900307"),
        ("银行卡6222021234567890123被扣钱", "1234567890"),
        ("号码是138001234567", "0012345"),
    ],
)
def test_redact_leaves_no_long_number_readable(text, secret):
    assert secret not in redact(text)


def test_redact_masks_names_the_form_already_knows():
    assert redact("李四说王芳也去了", names=["李四", "王芳"]) == "李*说王*也去了"


def test_redact_keeps_ordinary_text_and_short_numbers():
    text = "幸福路12号3单元，上个月开始施工"
    assert redact(text) == text


def test_redact_of_nothing_is_empty():
    assert redact("") == ""
    assert redact(None) == ""
