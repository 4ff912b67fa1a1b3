"""A message the knowledge base cannot answer is either a question or a matter to take down."""
import pytest

from actions.knowledge import load_knowledge
from actions.utterance import looks_like_question


@pytest.mark.parametrize("text", [
    "信访要带什么材料", "多久能答复？", "你们几点上班", "举报会被报复吗", "能不能帮我查一下",
    "劳动纠纷是走信访还是劳动仲裁", "农村宅基地纠纷归谁管", "编号忘了咋查", "信访局电话多少",
    "我想了解一下复查的规定",
])
def test_questions_are_recognised(text):
    assert looks_like_question(text)


@pytest.mark.parametrize("text", [
    "我在商场买的冰箱是假货，商家不给退货", "邻居家狗天天叫，吵得睡不着",
    "我的养老金少发了好几个月", "村里的路修了一半啥也没说就停了",
])
def test_statements_of_a_matter_are_not_questions(text):
    assert not looks_like_question(text)


def test_a_statement_that_only_brushes_a_topic_is_not_answered_from_the_knowledge_base():
    # Mr Ma tells his matter; it shares words with "which bodies the 条例 covers" but asks nothing
    assert load_knowledge().answer("单位拖着不给我办退休手续") is None


@pytest.mark.parametrize("text,topic", [
    ("信访条例规定的办理期限", "handling_60_days_extension_30"),
    ("集体上访的规定", "group_visit_5_representatives"),
])
def test_a_request_for_information_worded_as_a_statement_is_still_answered(text, topic):
    answer = load_knowledge().answer(text)
    assert answer is not None and answer.topic == topic


@pytest.mark.parametrize("text", ["网上能信访不？还是非得跑一趟", "拿手机能反映不", "信访事项的受理范围"])
def test_questions_in_everyday_forms_are_recognised(text):
    assert looks_like_question(text)
