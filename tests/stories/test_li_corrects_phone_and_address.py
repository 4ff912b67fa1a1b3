"""In order that the office can reach me
As Li Na, who notices two mistakes at the read-back
I want to correct my phone number and my address before filing.
"""
import pytest

from tests.support.forms import answer_until_summary

pytestmark = pytest.mark.needs_model

LI = {
    "description": "楼上住户长期往楼下扔垃圾，物业管了几次都不听",
    "respondent": "阳光花园物业公司",
    "occurred": "今年五月份开始",
    "location": "阳光花园小区7栋",
    "demand": "让物业加强管理，处理乱扔垃圾的住户",
    "petitioner_name": "李娜",
    "phone": "13912345678",
    "address": "阳光花园小区7栋2单元301",
    "id_number": "不方便提供",
}


async def test_li_fixes_phone_and_address_at_the_summary(meet, backend):
    li = meet("李娜")
    await li.says("我想投诉我们小区的物业")
    await answer_until_summary(li, LI)

    after_phone = await li.says("电话说错了，是13987654321")
    assert "13987654321" in after_phone
    after_address = await li.says("地址写错了，应该是阳光花园小区8栋1单元502")
    assert "8栋1单元502" in after_address

    await li.says("确认")
    case = backend.wait_for_case(li.case_number())
    assert case["petitioner"]["phone"] == "13987654321"
    assert "8栋1单元502" in case["petitioner"]["address"]
    assert case["petitioner"]["id_number"] is None


async def test_li_corrects_her_phone_in_the_middle_of_the_form(meet):
    li = meet("李娜")
    await li.says("我想投诉我们小区的物业，楼上天天往下扔垃圾，我叫李娜，电话13912345678")
    await li.says("手机号说错了，是13987654321")
    slots = await li.slots()
    assert slots["phone"] == "13987654321"
    assert slots["petitioner_name"] == "李娜"
