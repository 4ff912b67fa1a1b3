"""In order to be heard without a long interview
As Zhang Jianguo, kept awake by a building site
I want to say everything in one message and only answer what is missing.
"""
import pytest

from tests.support.forms import SUMMARY_CUE, answer_until_summary

pytestmark = pytest.mark.needs_model


async def test_zhang_is_not_asked_again_for_what_he_already_said(meet, backend):
    zhang = meet("张建国")
    first = await zhang.says(
        "你好，我叫张建国，电话一三八零零一二三四五六，住在朝阳区幸福路12号3单元。"
        "我们小区旁边的宏达建筑公司从上个月开始天天半夜施工，吵得根本睡不着，"
        "希望有关部门让他们晚上停工"
    )
    for already_given in ("怎么称呼", "联系到您的电话", "您的住址", "具体诉求", "被反映对象"):
        assert already_given not in first

    summary = await answer_until_summary(
        zhang,
        {"location": "就在幸福路小区旁边的工地", "id_number": "不提供", "occurred": "上个月"},
    )
    assert "13800123456" in summary and "宏达建筑公司" in summary

    filed = await zhang.says("确认")
    case = backend.wait_for_case(zhang.case_number())
    assert case["petitioner"]["name"] == "张建国"
    assert case["petitioner"]["phone"] == "13800123456"
    assert "幸福路12号" in case["petitioner"]["address"]
    assert case["petitioner"]["id_number"] is None
    assert "宏达建筑" in case["respondent"]
    assert "停工" in case["demand"]
    assert case["legal_route"] == "petition"
    assert case["status"] == "registered"
    assert "15日" in filed and zhang.query_code()
    assert SUMMARY_CUE not in filed
