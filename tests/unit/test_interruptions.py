"""Inside the petition form, only a message really meant to interrupt leaves it.

Mr Zhou is in the middle of the form. What he types is an answer unless it
is plainly a question, a cancellation, a goodbye, a progress question or an
emergency: a wrong guess would throw away what he has told us.
"""
import pytest
from rasa_sdk import Tracker

from actions.forms import is_interruption


def zhou_says(text: str, intent: str, confidence: float = 0.95) -> Tracker:
    return Tracker(
        sender_id="zhou",
        slots={"requested_slot": "demand"},
        latest_message={"text": text, "intent": {"name": intent, "confidence": confidence}},
        events=[],
        paused=False,
        followup_action=None,
        active_loop={"name": "petition_form"},
        latest_action_name="petition_form",
    )


@pytest.mark.parametrize("text,intent", [
    ("算了，不弄了", "cancel"),
    ("好了，先这样，再见", "goodbye"),
    ("我上个月反映的事有结果了吗", "query_progress"),
    ("这个要多久才能办完？", "ask_question"),
    ("我不想活了", "emergency"),
    ("/cancel", "cancel"),
])
def test_a_real_interruption_leaves_the_form(text, intent):
    assert is_interruption(zhou_says(text, intent))


@pytest.mark.parametrize("text,intent", [
    ("赶紧把坑填了", "cancel"),  # "填了" is not "不填了"
    ("那我先在这登完吧，13031112345", "goodbye"),  # he is giving his phone number
    ("查查他", "query_progress"),  # his demand: investigate the man
    ("单位拖着不给我办退休手续", "ask_question"),  # a statement, no topic
])
def test_an_answer_the_classifier_took_for_an_interruption_stays_an_answer(text, intent):
    assert not is_interruption(zhou_says(text, intent))


def test_an_unsure_classifier_does_not_interrupt():
    assert not is_interruption(zhou_says("算了吧", "cancel", confidence=0.5))
