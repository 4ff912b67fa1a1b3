"""In order not to waste months in the wrong channel
As citizens whose matters belong to a court, an arbitration body, 行政复议,
the 政法机关, 纪检监察 or 12315
I want to be told plainly where to go and why, and still have my matter recorded.
"""
import pytest

from tests.support.forms import answer_until_summary

pytestmark = pytest.mark.needs_model

PERSON = {
    "respondent": "对方",
    "occurred": "今年6月",
    "location": "本市",
    "demand": "请帮我解决",
    "petitioner_name": "吴海",
    "phone": "13700001234",
    "address": "新华路9号",
    "id_number": "不提供",
}

MATTERS = [
    ("litigation", "邻居借了我五万块钱一直不还，打了欠条，我想让他还钱", "法院"),
    ("labor_arbitration", "公司无故把我辞退了，还拖欠我两个月工资不给，我要讨个说法", "劳动"),
    ("admin_reconsideration", "区市场监管局对我的小店罚款两万，我觉得处罚不合理，想撤销这个处罚决定", "行政复议"),
    ("political_legal", "法院已经判决了，我对判决结果不服，法院执行也不到位", "政法"),
    ("discipline_inspection", "我要举报村支书贪污扶贫款，还收受工程老板的贿赂", "纪检监察"),
    ("consumer_12315", "我在商场买的冰箱是假货，商家不给退货", "12315"),
    ("arbitration", "我和装修公司签的合同约定了仲裁条款，现在装修质量有问题他们不赔", "仲裁"),
]


@pytest.mark.parametrize("route,matter,destination", MATTERS, ids=[m[0] for m in MATTERS])
async def test_the_matter_is_routed_explained_and_recorded(meet, backend, route, matter, destination):
    wu = meet("吴海")
    await wu.says(matter)
    summary = await answer_until_summary(wu, {"description": matter, **PERSON})
    assert destination in summary
    assert "不予受理" not in summary

    answer = await wu.says("确认")
    assert destination in answer
    case = backend.wait_for_case(wu.case_number())
    assert case["legal_route"] == route
    assert case["route_reason"]
    assert case["status"] == "routed"
