"""A complaint is taken down as a matter, even when the classifier hears a "no" in it.

"社区不给我开证明" is not a refusal and "装修质量有问题他们不赔" is not a
question about an old case: the citizen is telling us their matter. Real
replies, corrections and progress questions keep their intent.
"""
import pytest
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.matter import FIELD_ENTITIES, MatterOverride, is_misread_matter
from bot.paths import ROOT

COMPLAINTS_MISREAD = [
    ("社区不给我开证明", "deny"),
    ("装修质量有问题他们不赔", "deny"),
    ("派出所不给我上户口", "correct"),
    ("我和装修公司签的合同约定了仲裁条款，现在装修质量有问题他们不赔", "query_progress"),
    ("单位把我的岗位取消了也没给补偿", "request_review"),
    ("小区门口的垃圾堆了一个星期没人清理", "evaluate"),
]


@pytest.mark.parametrize("text,intent", COMPLAINTS_MISREAD)
def test_a_complaint_taken_for_a_reply_is_a_matter(text, intent):
    assert is_misread_matter(text, intent)


@pytest.mark.parametrize("text,intent", [
    ("不对，地址写错了", "deny"),
    ("身份证我不想提供", "deny"),
    ("没有，以前没反映过", "deny"),
    ("电话说错了，换成另外一个", "correct"),
    ("我上个月反映的事有结果了吗", "query_progress"),
    ("都一个多月了还没有任何消息", "query_progress"),
    ("对处理意见不服，我要申请复查", "request_review"),
    ("问题没解决，不太满意", "evaluate"),
])
def test_real_replies_keep_their_intent(text, intent):
    assert not is_misread_matter(text, intent)


def test_short_replies_questions_and_answers_with_a_number_are_left_alone():
    assert not is_misread_matter("他们不管", "deny")  # too short to be sure
    assert not is_misread_matter("为什么社区不给我开证明呢", "deny")  # a question
    assert not is_misread_matter("电话改成一三九零零零零一二三四", "correct", gives_a_field=True)
    assert not is_misread_matter("号码是13912345678不是那个", "correct")
    assert not is_misread_matter("/deny", "deny")


def test_a_fallback_is_a_matter_only_when_routing_recognises_one():
    assert is_misread_matter("我的养老金少发了好几个月", "nlu_fallback")
    assert not is_misread_matter("今天天气真不错出去走走", "nlu_fallback")


@pytest.mark.parametrize("source", ["data/nlu", "tests/data/nlu_heldout.yml"])
def test_no_reply_of_the_training_or_held_out_data_is_relabelled(source):
    relabelled = [
        (example.get(INTENT), example.get(TEXT))
        for example in load_data(str(ROOT / source)).training_examples
        if example.get(INTENT) != "file_petition"
        and is_misread_matter(
            example.get(TEXT),
            example.get(INTENT),
            any(e["entity"] in FIELD_ENTITIES for e in example.get("entities") or []),
        )
    ]
    assert relabelled == []


def test_the_component_relabels_and_keeps_the_ranking():
    message = Message({TEXT: "社区不给我开证明"})
    message.set(INTENT, {"name": "deny", "confidence": 0.88})
    message.set(INTENT_RANKING_KEY, [{"name": "deny", "confidence": 0.88}, {"name": "inform", "confidence": 0.05}])
    MatterOverride().process([message])
    assert message.get(INTENT) == {"name": "file_petition", "confidence": 0.88}
    assert [entry["name"] for entry in message.get(INTENT_RANKING_KEY)] == ["file_petition", "deny", "inform"]


def test_the_component_leaves_an_emergency_alone():
    message = Message({TEXT: "他们再不赔钱我就从楼上跳下去"})
    message.set(INTENT, {"name": "emergency", "confidence": 1.0})
    MatterOverride().process([message])
    assert message.get(INTENT)["name"] == "emergency"
