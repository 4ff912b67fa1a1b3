"""What kind of utterance a message is, judged from its wording alone.

Shared by the actions (is this a question for the knowledge base or a matter
to take down?) and by the NLU component that keeps a matter from being read
as a short reply (``bot.nlu.matter``). Rules, not learning: they are the
floor under the classifier, so they stay small and conservative.
"""
from __future__ import annotations

import re
import unicodedata

from actions.normalize import to_simplified

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

#: the words without which an intent cannot be meant (simplified characters:
#: carries_intent_words folds the message first); a message classified as
#: one of these intents but carrying none of its words was misread (a complaint
#: "社区不给我开证明" is no "no"; "赶紧把坑填了" is no "算了")
INTENT_WORDS = {
    "deny": re.compile(
        r"^[\W\d]*(?:不|没|别|否|错|算|先别|还没|暂时)|不对|不是|不用|不要|不行|不必|不需要|不提供|不想|不愿|"
        r"不留|不给了|不透露|不告诉|不说|不方便|不同意|不确认|不太对|不准|没有|没错|有误|错了|要改|改一下|修改|别交|别提交|等等|等一下"
    ),
    "correct": re.compile(
        r"有误|正确的是|说错|写错|记错|打错|填错|搞错|弄错|错了|不对|不是|改成|改为|改一下|更正|修改|应该是|换成|重新|其实是|准确地?说"
    ),
    "query_progress": re.compile(
        r"进度|进展|查询|查一下|查下|帮我查|结果|消息|受理|办理|处理|到哪|怎么样|有人管|谁在|回复|答复|编号|查询码|xf\d|"
        r"办得|办到|在办|动静|下文|回音|信儿|着落|反馈|跟进|多久|什么时候|收到没|信访件|看看我的|我的(?:事|案|件)|"
        r"咋样|状态|情况|有人联系|落实|办结|办完|查了没|转给|^\s*[a-z0-9]{6}\s*$",
        re.IGNORECASE,
    ),
    "request_review": re.compile(r"复查|复核|不服|重新|上级|上一级|再查|再审|不认|申请"),
    "evaluate": re.compile(r"满意|评价|打分|评分|好评|差评|解决|态度|太慢|敷衍|糊弄"),
    "cancel": re.compile(
        r"算了|不弄了|不办了|不整了|不搞了|不登记|不反映|不投诉|不举报|不告了|不想(?:弄|办|登|反映|提交|填|说|继续)|"
        r"不要了|不填了|不提交|不用|不了|取消|放弃|撤回|撤销|撤了|删掉|删了|先不|别弄|别登|拉倒|停止|中止|退出|结束|"
        r"算球|不上访|不信访|不想信访|不想再|不告|cancel|stop",
        re.IGNORECASE,
    ),
    "goodbye": re.compile(
        r"再见|再会|回见|回聊|拜|白白|88|先这样|就这样|回头|下次|下回|改天|走了|先走|先退|撤了|挂了|下了|下线|晚安|告辞|"
        r"明天再|有空再|到这|不聊|聊到|说到这|退出|结束|没事了|后会有期|bye",
        re.IGNORECASE,
    ),
}


#: a phone or ID number (7+ digits): the message answers or corrects the form
_NUMBER_ANSWER = re.compile(r"\d{7,}")

#: characters that carry content (letters, digits, CJK); punctuation and spaces do not
_CONTENT = re.compile(r"[0-9A-Za-z\u3400-\u9fff]")


def looks_like_question(text: str) -> bool:
    """Whether ``text`` asks something rather than states a matter."""
    return bool(_QUESTION_CUES.search(unicodedata.normalize("NFKC", text or "")))


def carries_intent_words(intent: str, text: str) -> bool:
    """Whether ``text`` has a word ``intent`` needs (True for intents without such words)."""
    words = INTENT_WORDS.get(intent)
    return words is None or bool(words.search(to_simplified(unicodedata.normalize("NFKC", text or ""))))


def gives_a_number(text: str) -> bool:
    """Whether ``text`` carries a phone or ID number (so it answers the form)."""
    return bool(_NUMBER_ANSWER.search(unicodedata.normalize("NFKC", text or "")))


def content_length(text: str) -> int:
    """How many letters, digits and Chinese characters ``text`` has."""
    return len(_CONTENT.findall(text or ""))
