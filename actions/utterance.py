"""What kind of utterance a message is, judged from its wording alone.

Shared by the actions (is this a question for the knowledge base or a matter
to take down?) and by the NLU component that keeps a matter from being read
as a short reply (``bot.nlu.matter``). Rules, not learning: they are the
floor under the classifier, so they stay small and conservative.
"""
from __future__ import annotations

import re
import unicodedata

#: wording that asks something ("几" of 好几个/十几 and "啥" of 啥也没 do not);
#: also "能反映不" (a question ending in 不/没) and "X的受理范围" (a topic named on its own)
_QUESTION_CUES = re.compile(
    r"[?？]|[吗嘛么呢]\s*$|(?:能|会|可以|行|要|是|有|用)[^，。,]{0,10}[不没]\s*$|"
    r"(?:范围|规定|期限|时限|流程|程序|条件)\s*$|"
    r"怎么|怎样|如何|多久|多长|什么|(?<![好十这那])几(?![乎十])|啥(?![也都])|哪|"
    r"能不能|可不可以|可以吗|是否|有没有|要不要|会不会|行不行|对不对|是不是|属不属于|多少|咋|"
    r"找谁|归谁|谁管|问谁|该找|还是(?:走|找|去|打|申请|起诉|信访|劳动|仲裁|复议|法院|纪委|12315)|"
    r"想(?:了解|知道|问|咨询)|请问|咨询|介绍一下|讲讲|说说|告诉我"
)

#: characters that carry content (letters, digits, CJK); punctuation and spaces do not
_CONTENT = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")


def looks_like_question(text: str) -> bool:
    """Whether ``text`` asks something rather than states a matter."""
    return bool(_QUESTION_CUES.search(unicodedata.normalize("NFKC", text or "")))


def content_length(text: str) -> int:
    """How many letters, digits and Chinese characters ``text`` has."""
    return len(_CONTENT.findall(text or ""))
