"""In order to know what happened to my petition and to have a say on the answer
As Qian Hui, who filed a case about a broken bus stop
I want to check its progress with my case number and query code, rate the
answer, and ask for 复查 when I disagree.
"""
import pytest

from tests.support.forms import answer_until_summary

pytestmark = pytest.mark.needs_model

QIAN = {
    "description": "公交站的候车亭被车撞坏了三个月，下雨天大家只能站在雨里等车",
    "respondent": "市公交集团",
    "occurred": "今年8月",
    "location": "建设路公交站",
    "demand": "尽快修好候车亭",
    "petitioner_name": "钱慧",
    "phone": "13500001111",
    "address": "建设路18号",
    "id_number": "不提供",
}


async def file_a_case(citizen) -> tuple[str, str]:
    await citizen.says("我要反映问题")
    await answer_until_summary(citizen, QIAN)
    await citizen.says("确认")
    return citizen.case_number(), citizen.query_code()


async def test_qian_checks_progress_rates_the_answer_and_asks_for_review(meet, backend):
    qian = meet("钱慧")
    case_id, code = await file_a_case(qian)
    backend.wait_for_case(case_id)

    answer = await qian.says(f"帮我查一下进度，编号{case_id}，查询码{code}")
    assert "已登记" in answer and "13500001111" not in answer and "钱慧" not in answer

    for step in ({"to": "accepted"}, {"to": "in_progress"}, {"to": "concluded", "opinion": "reject", "note": "经核查，候车亭由保险理赔后修复"}):
        status, body = backend.post(f"/api/v1/cases/{case_id}/transitions", step)
        assert status == 200, body

    answer = await qian.says(f"查询进度 {case_id} {code}")
    assert "已办结" in answer and "不予支持" in answer
    assert "复查" in answer

    rated = await qian.says("不满意，三个月了还没修")
    assert "感谢您的评价" in rated
    _, case = backend.get(f"/api/v1/cases/{case_id}")

    review = await qian.says("我要申请复查，他们根本没有来现场看")
    assert "复查申请已提交" in review
    _, case = backend.get(f"/api/v1/cases/{case_id}")
    assert case["status"] == "review_requested"


async def test_a_wrong_query_code_reveals_nothing(meet, backend):
    stranger = meet("陌生人")
    qian = meet("钱慧")
    case_id, _code = await file_a_case(qian)
    backend.wait_for_case(case_id)

    answer = await stranger.says(f"查进度 {case_id} 查询码 ZZZZZ9")
    assert "没有查到" in answer
    assert "建设路" not in answer and "已登记" not in answer
