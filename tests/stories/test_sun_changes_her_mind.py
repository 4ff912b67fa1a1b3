"""In order to stay in control of what is filed in my name
As Sun Li, who decides halfway that she would rather not
I want "算了" to cancel cleanly, with nothing filed.
"""
import pytest

pytestmark = pytest.mark.needs_model


async def test_sun_cancels_in_the_middle_and_nothing_is_kept(meet):
    sun = meet("孙丽")
    await sun.says("我想反映一下，我叫孙丽，电话13600001234，学校食堂饭菜太贵了")
    answer = await sun.says("算了，不弄了")
    assert "取消" in answer
    slots = await sun.slots()
    assert slots["petitioner_name"] is None and slots["phone"] is None
    assert slots["description"] is None
    assert "XF" not in "".join(sun.heard)

    again = await sun.says("你好")
    assert "登记信访事项" in again
