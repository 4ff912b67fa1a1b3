"""In order not to be alarmed or misunderstood when I just chat
As Sun Fugui, a retiree trying the assistant for the first time
I want small talk answered with what the assistant can do, and my form kept.
"""
import pytest

from tests.support.forms import asked_slot

pytestmark = pytest.mark.needs_model


@pytest.mark.parametrize("chat", ["今天天气真好啊", "给我唱首歌", "你喜欢吃什么"])
async def test_small_talk_gets_what_the_assistant_can_do(meet, chat):
    sun = meet("孙富贵")
    answer = await sun.says(chat)
    assert "信访事项受理助手" in answer
    assert "110" not in answer and "12356" not in answer
    assert asked_slot(answer) is None


async def test_small_talk_in_the_middle_of_the_form_keeps_the_form(meet):
    sun = meet("孙富贵")
    await sun.says("我要反映我们小区的路灯坏了半年没人修")
    question = asked_slot(sun.heard[-1])
    assert question is not None

    answer = await sun.says("哈哈，今天天气不错啊")
    assert asked_slot(answer) == question
    assert "路灯" in ((await sun.slots()).get("description") or "")


@pytest.mark.parametrize("question", ["你是机器人吗", "你能帮我干啥"])
async def test_sun_asks_who_he_is_talking_to(meet, question):
    sun = meet("孙富贵")
    answer = await sun.says(question)
    assert "自动应答程序" in answer and "转人工" in answer
    assert asked_slot(answer) is None
