"""Case numbers and query codes as a citizen reads them back over the phone."""
import re

import pytest

from actions.ids import (
    find_case_id,
    find_query_code,
    hash_query_code,
    new_case_id,
    new_query_code,
    verify_query_code,
)


def test_a_case_number_has_the_date_and_six_crockford_characters():
    case_id = new_case_id()
    assert re.fullmatch(r"XF\d{8}-[0-9A-HJKMNP-TV-Z]{6}", case_id)


def test_case_numbers_do_not_repeat():
    assert len({new_case_id() for _ in range(2000)}) == 2000


@pytest.mark.parametrize(
    "text",
    ["我的编号是XF20261126-7K3P9Q", "xf20261126-7k3p9q", "XF 20261126 7K3P9Q", "编号：XF20261126－7K3P9Q"],
)
def test_a_case_number_is_found_however_it_is_typed(text):
    assert find_case_id(text.replace("－", "-")) == "XF20261126-7K3P9Q"


def test_look_alike_letters_in_a_query_code_are_read_as_digits():
    assert find_query_code("查询码是 4f7kzo") == "4F7KZ0"
    assert find_query_code("XF20261126-7K3P9Q 查询码 AB12CD") == "AB12CD"


def test_the_query_code_is_only_stored_as_a_salted_hash():
    code = new_query_code()
    stored = hash_query_code(code)
    assert code not in stored
    assert stored != hash_query_code(code)
    assert verify_query_code(code, stored)
    assert verify_query_code(code.lower(), stored)
    assert not verify_query_code("ZZZZZZ", stored)
    assert not verify_query_code(code, "garbage")
