"""In order to know what happens to my petition before I give my details
As Zhao Min, in the middle of the form
I want to ask how long it takes and then carry on where I stopped.
"""
import pytest

from tests.support.forms import answer_until_summary, asked_slot

pytestmark = pytest.mark.needs_model


async def test_zhao_asks_about_the_time_limit_and_the_form_resumes(meet, backend):
    zhao = meet("赵敏")
    await zhao.says("我要反映问题，街道办把我们小区的绿地改成了停车场")
    before = asked_slot(zhao.heard[-1])
    assert before is not None

    answer = await zhao.says("多久能给我答复？")
    assert "15日" in answer or "60日" in answer
    assert "《信访工作条例》第" in answer
    assert asked_slot(answer) == before

    await answer_until_summary(
        zhao,
        {
            "respondent": "和平街道办事处",
            "occurred": "今年3月",
            "location": "和平小区中心绿地",
            "demand": "恢复绿地",
            "petitioner_name": "赵敏",
            "phone": "18611112222",
            "address": "和平小区5号楼",
            "id_number": "不提供",
        },
    )
    await zhao.says("确认")
    case = backend.wait_for_case(zhao.case_number())
    assert "绿地" in case["description"]
