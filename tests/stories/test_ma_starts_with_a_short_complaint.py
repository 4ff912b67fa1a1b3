"""In order to be heard even when I say it briefly
As Ma Jun, who starts with one short sentence about what went wrong
I want the assistant to take my matter down, not to read it as a "no",
a question about an old case or something it did not understand.
"""
import pytest

from tests.support.forms import asked_slot

pytestmark = pytest.mark.needs_model

SHORT_COMPLAINTS = [
    "社区一直不给我开居住证明",
    "厂里拖欠的加班费老板就是不给",
    "村委会把我家的承包地分给了别人",
    "退休以后单位一直不给办养老保险手续",
]


@pytest.mark.parametrize("complaint", SHORT_COMPLAINTS)
async def test_ma_is_asked_about_his_matter(meet, complaint):
    ma = meet("马骏")
    answer = await ma.says(complaint)
    assert asked_slot(answer) is not None, answer
    assert "没能理解" not in answer
    assert complaint in ((await ma.slots()).get("description") or "")
