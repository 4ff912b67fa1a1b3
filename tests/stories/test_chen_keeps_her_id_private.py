"""In order to keep my identity number to myself
As Chen Xiaomei
I want to decline the optional ID number and still file my petition.
"""
import pytest

from tests.support.forms import answer_until_summary

pytestmark = pytest.mark.needs_model

CHEN = {
    "description": "县医院收费不透明，住院一周多收了两千多块钱",
    "respondent": "县人民医院",
    "occurred": "今年8月",
    "location": "县人民医院住院部",
    "demand": "希望核查收费并退还多收的费用",
    "petitioner_name": "陈小梅",
    "phone": "15800001111",
    "address": "县城解放路66号",
    "id_number": "不想提供身份证",
}


async def test_chen_declines_the_id_number_and_files(meet, backend):
    chen = meet("陈小梅")
    await chen.says("我要信访")
    summary = await answer_until_summary(chen, CHEN)
    assert "未提供" in summary
    await chen.says("确认")
    case = backend.wait_for_case(chen.case_number())
    assert case["petitioner"]["id_number"] is None
    assert case["petitioner"]["name"] == "陈小梅"


async def test_a_wrong_id_number_is_explained_and_nothing_is_lost(meet):
    chen = meet("陈小梅")
    await chen.says("我要信访，县医院多收我钱，我叫陈小梅，电话15800001111，住在县城解放路66号")
    await answer_until_summary(chen, CHEN, stop_at="id_number")

    refused = await chen.says("110105194912310021")
    assert "18位" in refused

    slots = await chen.slots()
    assert slots["id_number"] is None
    assert slots["petitioner_name"] == "陈小梅"
    assert slots["phone"] == "15800001111"
