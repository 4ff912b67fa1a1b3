"""In order that a typo does not cost me my whole petition
As Liu Qiang, who types one digit too few
I want a clear Chinese explanation, a second try, and everything else kept.
"""
import pytest

from tests.support.forms import answer_until_summary

pytestmark = pytest.mark.needs_model


async def test_liu_gets_a_specific_reask_and_keeps_his_answers(meet, backend):
    liu = meet("刘强")
    await liu.says("我要举报，我们厂的老板拖了好几个月的环保整改，污水直接排进河里")
    await answer_until_summary(
        liu,
        {
            "respondent": "恒发化工厂",
            "occurred": "去年十月到现在",
            "location": "北岸工业园",
            "demand": "请环保部门查处",
            "petitioner_name": "刘强",
        },
        stop_at="phone",
    )
    reask = await liu.says("1391234567")
    assert "11位" in reask
    assert (await liu.slots())["petitioner_name"] == "刘强"

    await liu.says("幺三九 一二三四 五六七八")
    summary = await answer_until_summary(
        liu, {"address": "北岸新村3号楼", "id_number": "不提供"}
    )
    assert "13912345678" in summary
    await liu.says("确认")
    case = backend.wait_for_case(liu.case_number())
    assert case["petitioner"]["phone"] == "13912345678"
    assert "污水" in case["description"]
