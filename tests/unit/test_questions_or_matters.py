"""A message the knowledge base cannot answer is either a question or a matter to take down."""
import pytest

from actions.service import looks_like_question


@pytest.mark.parametrize("text", ["信访要带什么材料", "多久能答复？", "你们几点上班", "举报会被报复吗", "能不能帮我查一下"])
def test_questions_are_recognised(text):
    assert looks_like_question(text)


@pytest.mark.parametrize("text", ["我在商场买的冰箱是假货，商家不给退货", "邻居家狗天天叫，吵得睡不着"])
def test_statements_of_a_matter_are_not_questions(text):
    assert not looks_like_question(text)
