"""In order to report a problem without knowing the procedure
As Wang Fang, who starts with a simple "你好"
I want the assistant to ask me one thing at a time and file my case.
"""
import pytest

from tests.support.forms import answer_until_summary

pytestmark = pytest.mark.needs_model

WANG = {
    "description": "我们村的自来水已经停了半个月了，村里老人孩子吃水都要去三里外挑",
    "respondent": "城关镇自来水厂",
    "occurred": "这个月初开始",
    "location": "城关镇石桥村",
    "demand": "尽快恢复供水",
    "petitioner_name": "王芳",
    "phone": "0571-87654321",
    "address": "城关镇石桥村二组15号",
    "id_number": "11010519491231002X",
}


async def test_wang_is_guided_from_hello_to_a_filed_case(meet, backend):
    wang = meet("王芳")
    hello = await wang.says("你好")
    assert "登记信访事项" in hello

    await wang.says("我要反映问题")
    summary = await answer_until_summary(wang, WANG)
    assert "王芳" in summary and "0571-87654321" in summary

    await wang.says("对，提交吧")
    case = backend.wait_for_case(wang.case_number())
    assert case["petitioner"] == {
        "name": "王芳",
        "phone": "0571-87654321",
        "id_number": "11010519491231002X",
        "address": "城关镇石桥村二组15号",
    }
    assert "自来水厂" in case["respondent"]
    assert "停" in case["description"]
    assert case["channel"] == "api"
    assert case["source"]["turns"] >= 10
