"""Facts from citizens' free text: who, how to reach them, against whom, when, where, what, why.

Pure Python (no Rasa): used by the petition form and by the hotline
transcript reader. All functions work on raw text; it is normalised with
:func:`actions.normalize.normalize_text` first, so values come back with
Arabic digits and simplified characters.

Public API::

    extract_facts(text)            -> {field: Fact}   facts stated with cue words
    extract_answer(field, text)    -> Fact | None     text answers a question about field
    find_correction(text)          -> (field, Fact | None) | None
    is_plausible_name(candidate, allow_rare=False) -> bool

Chat is loose, so beside cue words ("我叫", "电话", "家住") the rules read a name
opening a message before contact details, a surname the citizen declares
("我姓苗，苗小红"), a respondent named after its label ("开发商是锦华置业") or
by surname and role ("姓孙的老板" -> 孙老板), an address finished in the next
clause ("幸福里小区，5栋"), holidays and ranges as dates, and a correction
that says the old value too ("是苗小虹，不是苗小红").
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, NamedTuple

from actions.normalize import normalize_text
from actions.validators import clean_free_text, is_refusal, iter_id_numbers, iter_phones

__all__ = ["FIELDS", "Fact", "extract_facts", "extract_answer", "find_correction", "is_plausible_name"]

FIELDS = (
    "name", "phone", "id_number", "address", "respondent",
    "occurred", "location", "description", "demand",
)


@dataclass(frozen=True)
class Fact:
    """One extracted value and how sure the extractor is (0..1)."""

    value: str
    confidence: float


class _Hit(NamedTuple):
    value: str
    confidence: float
    start: int
    end: int

    def fact(self) -> Fact:
        return Fact(self.value, round(self.confidence, 2))


_HAN = "\u4e00-\u9fff"
_CLAUSE_END = "，,。；;！!？?\n"
_SENTENCE_END = "。；;！!？?\n"
_EDGE_PUNCT = _CLAUSE_END + "、:：\"'“”‘’ ~～…"
_CLAUSE = re.compile(f"[^{_CLAUSE_END}]+")


def _clauses(text: str) -> list[tuple[int, int]]:
    """Spans of the clauses of *text*."""
    return [(m.start(), m.end()) for m in _CLAUSE.finditer(text) if m.group().strip()]


def _clause_end(text: str, start: int, ends: str = _CLAUSE_END) -> int:
    for i in range(start, len(text)):
        if text[i] in ends:
            return i
    return len(text)


def _cut_at(value: str, stop_words: tuple[str, ...]) -> str:
    """*value* up to the first stop word it contains."""
    cut = len(value)
    for word in stop_words:
        i = value.find(word)
        if 0 <= i < cut:
            cut = i
    return value[:cut]


def _blank(text: str, spans: list[tuple[int, int]]) -> str:
    """*text* with *spans* replaced by newlines, so positions stay valid."""
    chars = list(text)
    for start, end in spans:
        chars[start:end] = "\n" * (end - start)
    return "".join(chars)


# ---------------------------------------------------------------------- names

_SINGLE_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方邹熊孟秦邱侯江尹薛闫段雷龙黎史陶贺毛郝"
    "顾龚邵万覃武钱戴严欧莫孔向常汤康易乔赖文施洪辛柯庄涂牛葛祝阎宁柴殷倪蒙鲁于焦郑樊安齐"
    "申温翟耿关兰管卜邢单包凌费左尚纪岳颜谷麦霍项童伍聂白栾隋冉阮鲍蓝梅甘舒宫练路成景詹"
    "符蒲卓滕褚牟游季艾池戚宗仇华吉裴骆邬解巩晏瞿房商仲饶尤佟"
)
# Less frequent surnames ("我姓苗", "佘", "禤"). Their characters also begin ordinary words
# ("毕业", "连老板都…"), so they are trusted only where a name is expected: after 我叫/姓名,
# in the reply to the name question, or opening a message before contact details.
_RARE_SURNAMES = frozenset(
    "苗佘禤仉靳冼岑盛粟阙寇桂敖巫乜钮晁缪翁鄢闵桑柏祁毕郁窦芦邸郗戈鞠荣雍储俞蔺冀娄邝扈燕冷"
    "訾辜茅帅姬宓庞郜郎亓连甄芮汲邴糜隗蓬仰戎韶蓟邰鄂胥莘逄郦郤璩濮郏茹宦暨庾弘匡殳夔厍阚"
    "蒯竺逯桓凤晋栗仝佴揣"
)
_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 诸葛 上官 东方 皇甫 尉迟 公孙 慕容 令狐 长孙 宇文 司徒 夏侯 轩辕 端木 南宫 "
    "独孤 西门 澹台 百里 呼延 赫连 申屠 万俟 闻人 濮阳 太史 钟离 宗政 公冶 东郭 第五".split()
)
# Words that show a phrase is a role or a filler, not a person's name.
_NOT_NAME_WORDS = (
    "业主", "住户", "居民", "村民", "市民", "农民", "公民", "网民", "群众", "百姓", "本地", "外地",
    "本人", "家属", "老师", "师傅", "学生", "家长", "先生", "女士", "小姐", "大爷", "大妈", "大娘",
    "大叔", "阿姨", "老人", "同志", "领导", "经理", "老板", "工头", "工人", "员工", "职工", "司机",
    "车主", "房东", "房主", "租户", "商户", "店主", "个体", "党员", "干部", "退伍", "军人", "医生",
    "护士", "律师", "记者", "路过", "知道", "你好", "您好", "谢谢", "没有", "不是", "什么", "怎么",
    "成年", "老年", "中年", "年轻", "病人", "残疾", "书记", "主任", "村长", "镇长", "乡长", "县长",
    "局长", "科长", "所长", "队长", "组长", "厂长", "校长", "院长", "站长", "支书", "会计", "部长",
    "处长", "总监", "师父", "某", "毕业",
)
_NAME_STOP_CHARS = frozenset("的是我俺在住啊呢吧了哈呀们跟给说也都还这那他她它被把让对到去今电手身从现想要就男女岁号打")
_NAME_STOP_WORDS = ("电话", "手机", "号码", "联系", "身份证", "家住", "家在", "住在", "来自", "今年", "现在", "反映", "投诉", "举报")


def _surname_of(candidate: str, allow_rare: bool = True) -> str | None:
    if candidate[:2] in _COMPOUND_SURNAMES:
        return candidate[:2]
    if candidate[:1] in _SINGLE_SURNAMES or (allow_rare and candidate[:1] in _RARE_SURNAMES):
        return candidate[:1]
    return None


def _is_name_shape(candidate: str, surname: str) -> bool:
    """*candidate* is *surname* plus a one- or two-character given name, and no role word."""
    return (
        bool(re.fullmatch(f"[{_HAN}]{{2,4}}", candidate or ""))
        and candidate.startswith(surname)
        and 1 <= len(candidate) - len(surname) <= 2
        and not candidate.endswith("人")  # 本地人, 江西人, 成年人
        and not any(word in candidate for word in _NOT_NAME_WORDS)
    )


def is_plausible_name(candidate: str, allow_rare: bool = False) -> bool:
    """A 2-4 character Chinese personal name starting with a known surname, not a role word.

    Less frequent surnames ("苗小红", "禤海燕") count only with ``allow_rare``, for text
    where a name is expected.
    """
    surname = _surname_of(candidate or "", allow_rare)
    return surname is not None and _is_name_shape(candidate, surname)


_NAME_CLAUSE_BREAK = re.compile(r"[，,。；;！!？?、…\s]+|\.{2,}|——")
_NAME_LEAD = re.compile(r"^(?:我|俺)?(?:全名|大名|名字|姓名)?(?:是|叫|就是|叫做|为)?[:：]?")
# a nickname or a form of address ("老张", "孙大爷"), or the spelling of a character ("孙子的孙")
_NOT_A_FULL_NAME = re.compile(r"^[老小]|(?:大爷|大妈|大娘|大叔|阿姨|师傅|老师|同志)$|的")


def full_name_clause(text: str) -> str | None:
    """The last clause that is only a full name, in a reply to "what is your name".

    "孙大爷，叫孙德明", "叫我小范就行。哦要全名啊，范思远", "孙德明，孙子的孙…".
    After "我姓佘" a name starting with that surname counts even when the
    surname is a rare one ("我姓佘，佘春生").
    """
    surname = re.search(f"姓([{_HAN}])", text)
    for clause in reversed(_NAME_CLAUSE_BREAK.split(text)):
        core = _NAME_LEAD.sub("", clause)
        if len(core) < 2 or _NOT_A_FULL_NAME.search(core):
            continue
        if is_plausible_name(core, allow_rare=True) or (
            surname and core[0] == surname.group(1) and re.fullmatch(f"[{_HAN}]{{2,3}}", core)
        ):
            return core
    return None


def _trim_name(
    raw: str, extra_stops: frozenset[str] = frozenset(), surname: str | None = None
) -> str:
    """The leading name-like part of *raw*: Chinese characters up to a stop char or stop word."""
    head = re.match(f"[{_HAN}]*", raw).group()
    head = _cut_at(head, _NAME_STOP_WORDS)
    surname = surname if surname and head.startswith(surname) else _surname_of(head) or head[:1]
    for i in range(len(surname), len(head)):
        if head[i] in _NAME_STOP_CHARS or head[i] in extra_stops:
            head = head[:i]
            break
    return head[: len(surname) + 2]


_STRONG_NAME_CUE = r"我的名字(?:叫|是)|名字(?:叫|是)|我叫|俺叫|我名叫|名叫|姓名(?:是|为|叫)?"
_WEAK_NAME_CUE = r"我是|俺是|本人(?:是|叫)?"
_NAME_CUE = re.compile(f"(?P<strong>{_STRONG_NAME_CUE})|(?P<weak>{_WEAK_NAME_CUE})")
_NAME_CUE_TAIL = re.compile(r"[:：\s]*")
# After a weak cue ("我是") the name must end the clause or be followed by contact details.
_AFTER_WEAK_NAME = re.compile(f"$|[{_EDGE_PUNCT}0-9]|" + "|".join(_NAME_STOP_WORDS) + "|住|男|女")
_SURNAME_ALT = "|".join(sorted(_COMPOUND_SURNAMES) + sorted(_SINGLE_SURNAMES))
# "我姓苗，苗小红", "免贵姓禤，叫禤志强": a surname the citizen states may be a rare one.
_SURNAME_THEN_NAME = re.compile(
    f"姓(?P<surname>{'|'.join(sorted(_COMPOUND_SURNAMES))}|(?![名的是什啥哪])[{_HAN}])"
    f"(?:名(?P<given>[{_HAN}]{{1,2}})"
    f"|[，,、\\s]*(?:叫|名叫|名字叫|全名|名字是|全名是|全名叫)?[，,、\\s]*(?P<full>[{_HAN}]{{2,4}}))"
)
# "叫我老李就行", "我是小王": what the citizen wants to be called when no full name is given.
_NICKNAME = re.compile(
    f"(?:叫我|喊我|称呼我|我是|俺是)(?P<nick>[老小](?:{_SURNAME_ALT}))"
    f"(?=就行|就好|就可以|就成|吧|好了|$|[{_EDGE_PUNCT}])"
)
# "叫我小唐就行……哦要全名是吧，唐诗雨": the full name told on its own after the nickname.
_FULL_NAME_LEAD = re.compile(
    r"^(?:哦|噢|喔|嗯|啊|呃|那|好|行)*(?:要|问)?(?:全名|大名|名字|姓名)?(?:的话)?(?:是|叫|就是|叫做)?"
)
_FULL_NAME_TAIL = re.compile(r"(?:吧|啊|呀|哈|哦)+$")
_GREETING = re.compile(r"^(?:(?:你好|您好|领导|同志|喂|嗯)[好啊呀，,！!\s]*)*")
# "司马青，电话0571…", "禤海燕住南宁市…": a name opening the message, then contact details.
_CONTACT_AFTER_NAME = re.compile(
    r"[，,、\s]*(?:电话|手机|联系|住|家住|家在|身份证|[0-9]|男|女|今年|[0-9一二三四五六七八九十]{1,3}岁)"
)
_FULL_NAME_CONFIDENCE = 0.7


def _expected_name(name: str, strong: bool) -> bool:
    """A name where one is expected: a rare surname needs a strong cue or a three-character name."""
    if is_plausible_name(name):
        return True
    return is_plausible_name(name, allow_rare=True) and (strong or len(name) >= 3)


def _name_hits(text: str) -> list[_Hit]:
    hits = []
    for m in _NAME_CUE.finditer(text):
        start = m.end() + _NAME_CUE_TAIL.match(text, m.end()).end() - m.end()
        name = _trim_name(text[start:start + 6])
        if not _expected_name(name, strong=bool(m.group("strong"))):
            continue
        if m.group("weak") and not _AFTER_WEAK_NAME.match(text, start + len(name)):
            continue
        hits.append(_Hit(name, 0.9 if m.group("strong") else 0.75, m.start(), start + len(name)))
    for m in _SURNAME_THEN_NAME.finditer(text):
        surname = m.group("surname")
        if m.group("given"):
            name = surname + _trim_name(m.group("given"))
        else:
            name = _trim_name(m.group("full") or "", surname=surname)
        if _is_name_shape(name, surname):
            hits.append(_Hit(name, 0.9, m.start(), m.end()))
    opening = _GREETING.match(text).end()
    name = _trim_name(text[opening:opening + 6])
    if _expected_name(name, strong=False) and _CONTACT_AFTER_NAME.match(text, opening + len(name)):
        hits.append(_Hit(name, _FULL_NAME_CONFIDENCE, opening, opening + len(name)))
    for m in _NICKNAME.finditer(text):
        hits.append(_Hit(m.group("nick"), 0.6, m.start(), m.end()))
        full = _full_name_after_nickname(text, m.end(), m.group("nick")[1:])
        if full:
            hits.append(full)
    return sorted(hits, key=lambda h: h.start)


def _full_name_after_nickname(text: str, start: int, surname: str) -> _Hit | None:
    """A later clause that is only a full name with the nickname's surname ("…哦要全名是吧，唐诗雨")."""
    for clause_start, clause_end in _clauses(text[start:]):
        clause = text[start + clause_start:start + clause_end].strip(_EDGE_PUNCT)
        core = _FULL_NAME_TAIL.sub("", _FULL_NAME_LEAD.sub("", clause, count=1)).strip(_EDGE_PUNCT)
        if _is_name_shape(core, surname):
            at = start + clause_start
            return _Hit(core, 0.75, at, at + len(clause))
    return None


def _name_hit(text: str) -> _Hit | None:
    """The first full name in *text*; a nickname ("老李") only when no full name is given."""
    hits = _name_hits(text)
    return _first([h for h in hits if h.confidence >= _FULL_NAME_CONFIDENCE]) or _first(hits)


def _bare_name(cleaned: str) -> _Hit | None:
    """A reply that is just a name ("王小明", "李四。", "王芳吧") or what to be called ("老李")."""
    name = cleaned.strip(_EDGE_PUNCT)
    if is_plausible_name(name, allow_rare=True):
        return _Hit(name, 0.6, 0, len(name))
    if re.fullmatch(f"[老小](?:{_SURNAME_ALT})", name):
        return _Hit(name, 0.5, 0, len(name))
    return None


# --------------------------------------------------------- phone and ID number

_PHONE_CUE_BEFORE = re.compile(r"(?:电话|手机|联系方式|号码|座机|联系|打|拨|微信)[^，。；;\n]{0,6}$")


def _phone_hits(text: str) -> list[_Hit]:
    hits = []
    for value, start, end in iter_phones(text):
        cued = _PHONE_CUE_BEFORE.search(text[max(0, start - 10):start])
        hits.append(_Hit(value, 0.95 if cued else 0.8, start, end))
    return hits


def _id_hits(text: str) -> list[_Hit]:
    hits = []
    for value, start, end in iter_id_numbers(text):
        cued = "身份证" in text[max(0, start - 12):start]
        hits.append(_Hit(value, 0.99 if cued else 0.95, start, end))
    return hits


# -------------------------------------------------------------------- address

_ADDRESS_CUE = re.compile(
    r"(?:家庭住址|居住地址|现住址|通讯地址|住址|地址|家住|现住|居住在|住在|家在|户籍地?在"
    r"|住(?![了过院宿户房建址着得不的人进满]))"  # "禤海燕住南宁市…", "住东风路5号"
    r"(?:是|为|在)?[:：\s]*"
)
_NOT_OWN_ADDRESS_BEFORE = ("公司", "单位", "工地", "厂", "店", "他", "她", "对方", "户人", "别人", "邻居")
_ADDRESS_STOP_WORDS = (
    "电话", "手机", "联系", "我叫", "俺叫", "我是", "名字", "姓名", "身份证", "今年", "已经", "快",
    "十几年", "几十年", "多年", "的时候",
)
_PLACE_MARKERS = re.compile(
    r"省|市|区|县|镇|乡|村|路|街|大道|巷|弄|胡同|号|楼|栋|幢|单元|室|小区|花园|苑|庄|屯|组|社区|大厦|公寓|院|湾|坊|城|园|府|里"
)
_DEICTIC_PLACES = frozenset(
    "这里 那里 这边 那边 附近 隔壁 楼上 楼下 本地 外地 城里 乡下 农村 家里 这儿 那儿 老家".split()
)


def _clean_place(raw: str) -> str:
    place = raw.strip(_EDGE_PUNCT)
    place = re.sub(r"(?:的(?:居民|业主|住户|村民))?(?:这边|那边|这里|那里|一带)?的?$", "", place)
    return place


def _is_place(value: str) -> bool:
    return (
        len(value) >= 3
        and value not in _DEICTIC_PLACES
        and not any(value.startswith(d) for d in _DEICTIC_PLACES)
        and bool(_PLACE_MARKERS.search(value))
    )


# "幸福里小区，5栋2单元": building, unit and room told in the next clause.
_ADDRESS_DETAIL = re.compile(
    r"[，,、\s]*((?:[0-9A-Za-z一二三四五六七八九十]+(?:号楼|栋|幢|楼|单元|层|室|号|组|队|排|座|巷|弄|胡同))+[0-9]{0,4}室?)"
    f"(?=$|[{_CLAUSE_END}])"
)
# A home address names at least a street, village or estate, not only a floor ("住十八楼").
_AREA_MARKERS = re.compile(
    r"省|市|区|县|镇|乡|村|路|街|大道|巷|弄|胡同|小区|花园|家园|新村|苑|庄|屯|组|社区|大厦|公寓|院|湾|坊|城|园|府|里|宿舍"
)


def _address_hits(text: str) -> list[_Hit]:
    hits = []
    for m in _ADDRESS_CUE.finditer(text):
        if any(w in text[max(0, m.start() - 4):m.start()] for w in _NOT_OWN_ADDRESS_BEFORE):
            continue
        end = _clause_end(text, m.end())
        value = _clean_place(_cut_at(text[m.end():end], _ADDRESS_STOP_WORDS))
        if not _is_place(value) or not _AREA_MARKERS.search(value):
            continue
        value_end = m.end() + len(value)
        detail = _ADDRESS_DETAIL.match(text, value_end) if value_end == end else None
        if detail and not value[-1].isdigit():
            value, value_end = value + detail.group(1), detail.end()
        hits.append(_Hit(value, 0.9, m.start(), value_end))
    return hits


def _bare_place(cleaned: str) -> _Hit | None:
    value = _clean_place(re.sub(r"^(?:我|俺)?家?就?(?:住在|住|在|是)", "", cleaned))
    if not value or value in _DEICTIC_PLACES or re.search(r"[?？]", value):
        return None
    return _Hit(value, 0.65 if _is_place(value) else 0.4, 0, len(cleaned))


# ---------------------------------------------------------------------- time

_CN_NUM = "[0-9一二两三四五六七八九十]"
_YEAR = (
    r"(?:(?:19|20)[0-9]{2}"
    r"|[0-9]{2}(?=年[0-9一二三四五六七八九十]{1,2}月|年[底初]|年(?:的时候|那会|那年|开始|起|到|至))"
    r"|(?<=从)[0-9]{2}(?=年)"  # "从21年开始"
    r"|大前|前|去|今|明)年"
)
_MONTH = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九]|正|腊)月份?"
_DAY = r"(?:[12][0-9]|3[01]|0?[1-9]|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])[日号]"
_PART = r"(?:初|底|末|中旬|上旬|下旬|中|左右)"
_SEASON = (
    r"(?:春天|夏天|秋天|冬天|春季|夏季|秋季|冬季|上半年|下半年|年底|年初|年末"
    r"|(?:春节|过年|国庆|中秋|五一|元旦|清明|端午|元宵|七夕|重阳|冬至|腊八|除夕|大年三十|暑假|寒假)"
    r"(?:节|假期|长假|放假)?(?:前后|左右|之前|之后|过后|以后|前|后|期间|那几天|那天|的时候)?)"
)
_RELATIVE = (
    rf"(?:上上|上|这|本)个?月(?:{_DAY}|初|底|末|中旬|上旬|下旬)?"
    r"|(?:上上|上|这|本)个?(?:周|星期|礼拜)(?:[一二三四五六日天末])?"
    r"|(?<![每逢])(?:周|星期|礼拜)[一二三四五六日天]"  # "周三晚上", not "每周三"
    r"|大前天|前天|昨天|今天|昨晚|前晚|今早|昨日|今日|昨儿个?|前儿个?|今儿个?|前几天|前些天|前[一两三]天"
    r"|这[两几]天|前段时间|前阵子|"
    r"(?:今年|去年)?(?:这几天|这段时间|最近|近期|近来|刚才)"
    r"|(?:这|本|上|下)个?学期(?:开学)?(?:的时候|时)?|开学(?:的时候|时)"
)
_AMOUNT = f"(?:{_CN_NUM}{{1,4}}|半|几|好几|十几|一两)"
_DURATION = (
    f"{_AMOUNT}个?多?(?:天|周|星期|礼拜|月|年)多?(?:前|以前|之前)"
    f"|已经(?:有)?{_AMOUNT}个?多?(?:天|周|星期|礼拜|月|年)多?了?"
)
_NUMERIC_DATE = r"(?:19|20)[0-9]{2}[-./](?:1[0-2]|0?[1-9])[-./](?:[12][0-9]|3[01]|0?[1-9])"
_TIME_CORE = (
    f"{_NUMERIC_DATE}"
    f"|(?:{_YEAR})?{_MONTH}(?:{_DAY})?(?:{_PART})?"
    f"|(?:{_YEAR})?{_SEASON}"
    f"|{_YEAR}(?:{_PART})?"
    f"|{_DURATION}"
    f"|(?:{_RELATIVE})"
)
_DAYTIME = r"(?:上午|下午|早上|中午|晚上|夜里|半夜|凌晨|傍晚)?"
_TIME = re.compile(
    f"(?:从|自从|自)?(?:{_TIME_CORE}){_DAYTIME}"
    f"(?:(?:到|至|一直到)(?:{_TIME_CORE}){_DAYTIME})?"  # "2023年11月到今年2月"
    f"(?:(?<!前后)(?<!左右)(?:开始|起|以来|至今|到现在))?"  # "清明前后" is the time, not "清明前后开始"
    f"(?!{_CN_NUM}{{1,4}}多?(?:岁|了))"  # "今年35岁", "今年七十六了" is an age, not a date
)
_VAGUE_TIME = re.compile(r"最近|近期|近来|这段时间|这几天|这两天|前段时间|前阵子")
_ABSOLUTE_TIME = re.compile(r"[0-9]{4}|年|月")


def _time_confidence(value: str) -> float:
    if _VAGUE_TIME.search(value):
        return 0.5
    return 0.9 if _ABSOLUTE_TIME.search(value) else 0.75


def _time_hits(text: str) -> list[_Hit]:
    hits = []
    for m in _TIME.finditer(text):
        value = m.group()
        if value in ("从", "自", "自从") or not value.strip():
            continue
        hits.append(_Hit(value, _time_confidence(value), m.start(), m.end()))
    return hits


# ---------------------------------------------------------------- respondent

# suffix -> minimum characters of the name before it ("宏达建筑" + "公司").
_ORG_SUFFIXES = {
    "有限责任公司": 2, "股份有限公司": 2, "有限公司": 2, "分公司": 2, "公司": 2, "集团": 2,
    "管委会": 0, "居委会": 0, "村委会": 0, "委员会": 1, "村委": 0,
    "街道办事处": 0, "街道办": 0, "办事处": 1, "物业公司": 0, "物业管理处": 0, "物业": 0,
    "派出所": 0, "司法所": 1, "供电所": 1, "税务所": 1, "卫生所": 1, "事务所": 2,
    "卫生院": 1, "医院": 2, "法院": 1, "检察院": 1, "学院": 2, "学校": 2, "小学": 2,
    "中学": 2, "大学": 2, "幼儿园": 2, "政府": 1, "局": 1, "厂": 2, "店": 2, "中心": 2,
    "银行": 2, "信用社": 1, "项目部": 1, "工地": 2, "商场": 2, "超市": 2, "酒店": 2,
    "饭店": 2, "餐馆": 2, "餐厅": 2, "网吧": 2, "养殖场": 1, "屠宰场": 1, "搅拌站": 1,
    "加油站": 1, "开发商": 0, "城管": 0, "大队": 2, "中队": 2, "执法队": 1, "施工队": 0,
    "工程队": 0, "合作社": 2, "培训机构": 0, "房地产": 2, "办公室": 2, "摊": 2,
    "置业": 2, "地产": 2, "实业": 2, "中介": 2, "菜馆": 1, "饭馆": 1, "面馆": 1, "宾馆": 1,
    "旅馆": 1, "酒楼": 2, "诊所": 1, "药房": 1, "驾校": 1,
}
# Suffixes that name a kind of body and are often said alone ("开发商", "物业") as a label.
_KIND_WORDS = frozenset(suffix for suffix, least in _ORG_SUFFIXES.items() if least == 0)
# Kinds that say who is meant even without a name ("开了家网吧", "那家饭店"), unlike "一家公司".
_COUNTED_KINDS = frozenset(
    suffix for suffix in _ORG_SUFFIXES
    if len(suffix) >= 2 and suffix not in {"公司", "分公司", "集团", "工地", "中心", "办公室", "项目部", "大队", "中队"}
)
# A shop or works that is built or opened ("建厂", "开店", "摆摊") is an action, not a name.
_BUILT_SUFFIXES = frozenset("厂店摊")
_BUILD_VERBS = frozenset("建开办盖设摆")
_ORG = re.compile(
    f"([{_HAN}A-Za-z0-9]{{0,16}}?)("
    + "|".join(sorted(map(re.escape, _ORG_SUFFIXES), key=len, reverse=True))
    + ")"
)
# Words after which an organisation's own name starts.
_ORG_LEFT_BOUNDARY = re.compile(
    r"了[一这那]?[个家间]|的|是|被|把|跟|与|在|到|去|从|让|找|了|给|[一那这哪某两几每该]个|[一那这哪某两几每该]家|[一那这哪某每该]所"
    r"|我们|咱们|他们|俺们|我|俺|咱|反映|投诉|举报|控告|检举|起诉|状告|一下|关于|附近|旁边|对面|隔壁|楼下|楼上"
    r"|名叫|叫|对(?!面|外)"
)
_ORG_SUFFIX_ALT = "|".join(sorted(map(re.escape, _ORG_SUFFIXES), key=len, reverse=True))
_ORG_SUFFIX_AT = re.compile(_ORG_SUFFIX_ALT)
# "街道办的人", "城管的工作人员": the body whose people acted.
_ACTORS_AFTER = re.compile(r"的(?:人|工作人员|执法人员|领导|负责人|员工|保安|师傅)")
# "水利局和公安去查一查", "环保部门来督促": a body asked to look into the matter is an authority.
_OVERSIGHT = r"(?:查|调查|核查|督促|监督|处罚|整治|取缔|执法|追究|问责|管)"
_AUTHORITY_AFTER = re.compile(
    r"(?:(?:和|与|跟|及|或)[\u4e00-\u9fff]{1,8}?)?"
    rf"(?:(?:能|能够|赶紧|尽快|马上|出面|帮忙|去|来|过来)+{_OVERSIGHT}|{_OVERSIGHT}(?:一下|一[查管]|[查管]))"
)
# "我在小学旁边开了家文具店": the citizen's own business is not the one complained about.
_OWN_BUSINESS_BEFORE = re.compile(
    r"(?:(?:我|俺|自己)(?:申请|想|打算|准备|原来|以前|之前|一直|自己)?(?:在[^，,。；;！!？?\n]{1,15})?"
    r"(?:开|摆|办)(?:了|的)?[一这那]?[个家间]?"
    r"|(?:我|俺|我们|俺们|自己|我家|俺家)的)$"
)
_LANDMARK_AFTER = re.compile(r"门口|门前|旁边|附近|对面|后面|前面|一带|路口|楼下|边上")
_NOT_ORG = frozenset("结局 布局 格局 饭局 骗局 当局 大局 赌局 僵局 出局 全局 开局 对局 市中心 城中心 镇中心".split())
_ROLES = (
    "党支部书记", "村支书", "支书", "村书记", "书记", "村长", "村主任", "主任", "镇长", "乡长", "县长",
    "局长", "科长", "所长", "队长", "组长", "物业经理", "经理", "老板娘", "老板", "包工头", "工头",
    "厂长", "校长", "院长", "站长", "房东", "网格员", "开发商", "村干部",
)
_ROLE_ALT = "|".join(sorted(_ROLES, key=len, reverse=True))
_PERSON_AFTER_ROLE = re.compile(f"({_ROLE_ALT})((?:老|小)[{_HAN}]|[{_HAN}]{{1,2}}(?:某某|某|XX|xx|××)|[{_HAN}]{{1,3}})?")
_PERSON_BEFORE_ROLE = re.compile(f"([{_HAN}]{{1,2}})({_ROLE_ALT})")
_RESPONDENT_CUE = re.compile(r"(?:投诉|举报|反映|控告|检举|起诉|状告|告)(?:一下)?[^，。；;！!？?\n]{0,8}$")
_PERSON_STOPS = frozenset("贪收拖欠占打骂强私违不经一天总天长期多次")


def _org_hits(text: str) -> list[_Hit]:
    hits = []
    for m in _ORG.finditer(text):
        body, suffix = m.group(1), m.group(2)
        cuts = [b.end() for b in _ORG_LEFT_BOUNDARY.finditer(body)]
        cuts += [t.end() for t in _TIME.finditer(body)]
        cut = max(cuts, default=0)
        # "开了家网吧", "那家饭店"; not "在一家饭店当服务员", "孩子在那个学校" (where, not who)
        counted = cut > 0 and body[cut - 1] in "家个间所" and not re.search(
            r"(?:在|到|去|从|进|上)[一那这]?[个家间所]$", text[max(0, m.start() + cut - 4):m.start() + cut]
        )
        body = body[cut:]
        value = body + suffix
        if value in _NOT_ORG or value[-2:] in _NOT_ORG:
            continue
        bare_kind = counted and not body and suffix in _COUNTED_KINDS
        if len(body) < _ORG_SUFFIXES[suffix] and not bare_kind:
            continue
        if suffix in _BUILT_SUFFIXES and body[-1:] in _BUILD_VERBS:
            continue
        start = m.end() - len(value)
        end = m.end()
        # "中心" + "小学": one name with a chain of suffixes
        chained = _ORG_SUFFIX_AT.match(text, end)
        while chained:
            end = chained.end()
            chained = _ORG_SUFFIX_AT.match(text, end)
        value = text[start:end]
        if _OWN_BUSINESS_BEFORE.search(text[max(0, start - 24):start]):
            continue  # "我的小饭馆被罚了", "我在夜市摆了个水果摊": the citizen's own business
        # "在/到/去…医院" names a place; it is a respondent only with a cue word.
        placed = re.search(r"(?:在|到|去|从|进)$", text[max(0, start - 1):start]) and not re.match(
            r"(?:上班|工作|打工|干活|上学|任职|做工)", text[end:]
        )
        confidence = 0.7 if len(body) >= _ORG_SUFFIXES[suffix] else 0.5
        if placed:  # "在育才路中心小学门口" is rather where than who
            confidence = 0.3 if _LANDMARK_AFTER.match(text, end) else 0.45
        elif _ACTORS_AFTER.match(text, end):
            confidence = 0.8
        elif _AUTHORITY_AFTER.match(text, end):
            confidence = 0.45
        hits.append(_Hit(value, confidence, start, end))
    return hits


def _person_hits(text: str) -> list[_Hit]:
    hits = []
    for m in _PERSON_AFTER_ROLE.finditer(text):
        person = m.group(2) or ""
        if person and not re.search("某|XX|xx|××", person):
            person = person if person[0] in "老小" else _trim_name(person, _PERSON_STOPS)
            if person[:1] not in "老小" and not is_plausible_name(person):
                person = ""
        confidence = 0.65 if person else 0.5
        hits.append(_Hit(m.group(1) + person, confidence, m.start(), m.start(1) + len(m.group(1) + person)))
    for m in _PERSON_BEFORE_ROLE.finditer(text):
        surname = m.group(1)[-1]
        if surname in _SINGLE_SURNAMES:
            start = m.start(2) - 1
            hits.append(_Hit(surname + m.group(2), 0.65, start, m.end()))
    return hits


# People named by what they do, who may be given a surname ("姓何的交警" -> 何交警).
_PERSON_NOUNS = "|".join(sorted(
    set(_ROLES) | set(
        "交警 民警 警察 辅警 协警 医生 大夫 老师 班主任 保安 司机 师傅 城管 干部 会计 护士 法官 工作人员".split()
    ),
    key=len, reverse=True,
))
_DECLARED_SURNAME = f"(?P<surname>{'|'.join(sorted(_COMPOUND_SURNAMES))}|(?![名的是什啥哪])[{_HAN}])"
# "姓孙的老板" -> 孙老板, "所长姓高" -> 高所长, "房东，姓钟" -> 钟房东, "一个姓王的" -> 王某
_SURNAME_ROLE = re.compile(
    f"姓{_DECLARED_SURNAME}的(?:那个|这个|那位|这位)?(?:(?P<role>{_PERSON_NOUNS})|人|男的|女的|家伙)?"
    rf"|(?P<role2>{_PERSON_NOUNS})的?[，,、\s]*姓{_DECLARED_SURNAME.replace('surname', 'surname2')}"
    f"(?=$|[{_EDGE_PUNCT}的叫])"
)
# "开发商是锦华置业", "老板叫黄大伟", "物业公司，名字叫祥和物业", "被反映单位：区住建局"
_LABELS = (
    "被反映(?:的)?(?:单位|人|对象)|被投诉(?:的)?(?:单位|人|对象)|(?:反映|投诉|举报)(?:的)?对象"
    "|用人单位|施工单位|建设单位|施工方|建设方|单位|厂家|商家|店家|卖家|店名|负责人|对方|"
    + _ROLE_ALT + "|" + _ORG_SUFFIX_ALT
)
# A kind word ("开发商", "物业") may follow anything ("我们小区开发商是…"); any other label must
# stand alone, or "宏达公司是锦华置业的子公司" would name 锦华置业.
_KIND_ALT = "|".join(sorted(map(re.escape, _KIND_WORDS), key=len, reverse=True))
_LABELLED = re.compile(
    rf"(?:(?P<kind>{_KIND_ALT})|(?:^|(?<![{_HAN}])|(?<=[的个家位那这们俺咱该]))(?P<label>{_LABELS}))"
    r"[，,\s]*(?:的)?(?:名字|名称|全称|全名)?[，,\s]*(?:是|叫做|叫|名叫|为|[:：])[:：\s]*"
    f"(?P<value>[{_HAN}A-Za-z0-9（）()]{{2,24}})"
)
_LABELLED_VALUE_STOPS = (
    "一直", "已经", "拖欠", "欠", "不", "没", "把", "给", "在", "从", "就", "都", "还", "也", "又", "才",
    "说", "让", "收", "占", "的", "了", "他", "她", "我", "俺", "这", "那",
)
_ORG_NAME = re.compile(f"[{_HAN}A-Za-z0-9（）()]{{1,22}}(?:{_ORG_SUFFIX_ALT})$")


def _labelled_hits(text: str) -> list[_Hit]:
    """Respondents named after a label: "开发商是锦华置业" -> 锦华置业, "老板叫黄大伟" -> 老板黄大伟."""
    hits = []
    for m in _LABELLED.finditer(text):
        label = m.group("kind") or m.group("label")
        raw = _cut_at(m.group("value"), _LABELLED_VALUE_STOPS)
        person = _trim_name(raw)
        named = _expected_name(person, strong=True)
        anonymous = re.fullmatch(f"[{_HAN}]{{1,2}}某某?", raw)  # "王某"
        if re.fullmatch(_ROLE_ALT, label) and (named or anonymous):
            value = label + (raw if anonymous else person)
        elif _ORG_NAME.fullmatch(raw) and raw not in _KIND_WORDS:
            value = raw
        elif named:
            value = person
        else:
            continue
        hits.append(_Hit(value, 0.85, m.start(), m.start("value") + len(raw)))
    for m in _SURNAME_ROLE.finditer(text):
        surname = m.group("surname") or m.group("surname2")
        role = m.group("role") or m.group("role2")
        hits.append(_Hit(surname + (role or "某"), 0.8 if role else 0.7, m.start(), m.end()))
    return hits


def _merge_adjacent(hits: list[_Hit]) -> list[_Hit]:
    """Join an organisation and the person right after it ("村委会" + "主任王某").

    A bare kind word before a name keeps only the name ("开发商" + "锦华置业" -> 锦华置业).
    """
    hits = sorted(hits, key=lambda h: (h.start, -h.end))
    merged: list[_Hit] = []
    for hit in hits:
        if merged and hit.start < merged[-1].end:  # overlapping: keep the longer, earlier one
            continue
        if merged and hit.start == merged[-1].end:
            prev = merged.pop()
            named = (
                prev.value in _KIND_WORDS
                and _ORG_NAME.fullmatch(hit.value)
                and hit.value[0] not in "和与跟及、"  # "村委会和镇政府" are two bodies
            )
            value = hit.value if named else prev.value + hit.value
            hit = _Hit(value, max(prev.confidence, hit.confidence), prev.start, hit.end)
        merged.append(hit)
    return merged


def _respondent_hits(text: str) -> list[_Hit]:
    labelled = _labelled_hits(text)
    others = [
        hit for hit in _org_hits(text) + _person_hits(text)
        if not any(hit.start < other.end and other.start < hit.end for other in labelled)
    ]
    hits = []
    for hit in _merge_adjacent(labelled + others):
        cued = _RESPONDENT_CUE.search(text[max(0, hit.start - 12):hit.start])
        hits.append(hit._replace(confidence=0.9) if cued else hit)
    return hits


# ------------------------------------------------------------------- location

_LOCATION_TAILS = (
    "门口|门前|路段|路口|十字路口|交叉口|附近|旁边|对面|楼下|楼道|路边|边上|一带|"
    "广场|公园|菜市场|市场|小区|工地|车站|大道|路|街|桥|村|组|号"
)
_LOCATION = re.compile(
    rf"(?<![住家居现存实所好])(?:在|于|位于)((?:(?![的了着过被把让给对向他她它我俺你])[{_HAN}0-9A-Za-z]){{1,20}}?"
    rf"(?:{_LOCATION_TAILS})(?:(?:(?![的了着过被把让给对向他她它我俺你])[{_HAN}0-9A-Za-z]){{0,10}}(?:{_LOCATION_TAILS}))?)"
)
_LOCATION_CUE = re.compile(r"(?:地点|发生地|事发地点?|地方)(?:是|在|为)?[:：]?")


def _location_hits(text: str) -> list[_Hit]:
    hits = []
    for m in _LOCATION_CUE.finditer(text):
        value = _clean_place(text[m.end():_clause_end(text, m.end())])
        if value:
            hits.append(_Hit(value, 0.9, m.start(), m.end() + len(value)))
    for m in _LOCATION.finditer(text):
        value = m.group(1)
        if value not in _DEICTIC_PLACES and len(value) >= 3:
            hits.append(_Hit(value, 0.75, m.start(), m.end()))
    return sorted(hits, key=lambda h: h.start)


# --------------------------------------------------------------------- demand

_DEMAND_CUE = re.compile(
    r"^(?:我们?|俺们?|本人|咱们?)?的?(?:强烈|只|就|主要|真诚|迫切|非常|很|特别|衷心|还是)?"
    r"(?:希望|要求|请求|恳请|恳求|诉求|想(?=让|要回|讨回|拿回|追回|讨个|要个)|想请|盼望|盼着|期盼|期望|盼"
    r"|请(?![问教假客])(?=政府|有关|相关|领导|你们|上级|[\u4e00-\u9fff]{0,6}?(?:部门|局|委|街道|社区|所|队|院|站))"
    r"|麻烦(?:你们|您们|政府|有关部门|相关部门))"
    r"(?:就是|是|为)?[:：\s]*"
)
_HELP_QUESTION = re.compile(
    r"(?:能不能|能否|可不可以|可以不可以|有没有人|谁来|谁能)(?:快点|尽快|赶紧|早点|早日|出面)?"
    r"(?:帮|管|给|让|处理|解决|过问|查|治|整治|协调)"
)
# Whom a demand is addressed to when that says nothing about the matter ("希望有关部门…",
# "盼政府早日解决"). A named body ("请环保部门来查", "想请劳动部门帮忙追讨") says who should
# act, and "让政府…" says whom the citizen wants to act: both are kept.
_ADDRESSEE = re.compile(
    r"^(?:有关部门|相关部门|政府部门|政府|有关领导|各位领导|领导|你们|您们|上级部门|上级|相关单位|有关单位|贵单位)?"
    r"(?:能够?|可以|出面|帮忙|帮助|帮帮|帮)*(?:我们|俺们|咱们|我|俺)?"
)


def _strip_addressee(value: str) -> str:
    stripped = _ADDRESSEE.sub("", value, count=1)
    return stripped if len(stripped) >= 2 else value


def _demand_hits(text: str) -> list[_Hit]:
    hits = []
    for start, end in _clauses(text):
        clause = text[start:end]
        lead = re.match(r"[\s、:：]*(?:嗯|那|所以|因此|现在|就|还|另外|同时|最后)*[，,]?", clause).end()
        m = _DEMAND_CUE.match(clause, lead)
        if m:
            stop = _clause_end(text, start + m.end(), _SENTENCE_END)
            value = _strip_addressee(text[start + m.end():stop].strip(_EDGE_PUNCT))
            if len(value) >= 2:
                hits.append(_Hit(value, 0.85, start, stop))
        elif _HELP_QUESTION.search(clause):
            hits.append(_Hit(clean_free_text(clause) or clause.strip(_EDGE_PUNCT), 0.7, start, end))
    return hits


def _strip_demand_cue(cleaned: str) -> str:
    m = _DEMAND_CUE.match(cleaned)
    return _strip_addressee(cleaned[m.end():]) if m else cleaned


# ---------------------------------------------------------------- description

_INTRO_WORDS = re.compile(
    r"你好|您好|领导|同志|我叫|俺叫|我是|俺是|名字|姓名|本人|电话|手机|号码|联系方式|联系|身份证|"
    r"住在|家住|住址|地址|家在|现住|我的|俺的|是|叫|号|[^" + _HAN + "]"
)
_MIN_NARRATIVE = 4


#: "我要反映问题", "我想投诉我们小区的物业": saying one wants to petition is not yet a fact
_PREAMBLE = re.compile(
    r"^(?:你好|您好)?(?:我|俺|我们|咱)?(?:要|想|想要|来|准备)?"
    r"(?:信访|上访|反映|反应|投诉|举报|检举|控告|告状|提个?建议|说说|说一下)"
    r"(?:一下|个|一个)?(?:问题|情况|事情?)?"
)
_PREAMBLE_RESIDUE = re.compile(r"我们|咱们|我家|俺家|小区|村里|单位|的|了|那个|这个")


def _is_intro(clause: str, intro_values: list[str]) -> bool:
    residue = clause
    for value in intro_values:
        residue = residue.replace(value, "")
    if _PREAMBLE.match(residue):
        rest = _PREAMBLE_RESIDUE.sub("", _PREAMBLE.sub("", residue, count=1))
        if len(re.findall(f"[{_HAN}]", rest)) < 3:
            return True
    residue = _INTRO_WORDS.sub("", residue)
    return len(residue) < 3


def _description_hit(text: str, intro_values: list[str], demand_spans: list[tuple[int, int]]) -> _Hit | None:
    parts = []
    for start, end in _clauses(text):
        if any(s <= start < e for s, e in demand_spans):
            continue
        clause = text[start:end]
        cleaned = clean_free_text(clause)
        if cleaned is None or _is_intro(cleaned, intro_values):
            continue
        delimiter = text[end:end + 1]
        parts.append(cleaned + (delimiter if delimiter in _SENTENCE_END.replace("\n", "") else "，"))
    narrative = "".join(parts).rstrip("，")
    if len(re.findall(f"[{_HAN}]", narrative)) < _MIN_NARRATIVE:
        return None
    confidence = 0.8 if len(narrative) >= 8 else 0.6
    return _Hit(narrative, confidence, 0, len(text))


# ------------------------------------------------------------------ public API


def _first(hits: list[_Hit]) -> _Hit | None:
    return min(hits, key=lambda h: h.start) if hits else None


def _best(hits: list[_Hit]) -> _Hit | None:
    return max(hits, key=lambda h: (h.confidence, -h.start)) if hits else None


def _all_hits(norm: str) -> dict[str, _Hit]:
    """Field -> hit for text that is already normalised."""
    found: dict[str, _Hit | None] = {}
    demand_hits = _demand_hits(norm)
    demand_spans = [(h.start, h.end) for h in demand_hits]
    narrative = _blank(norm, demand_spans)
    found["demand"] = _first(demand_hits)
    found["name"] = _name_hit(norm)
    found["phone"] = _best(_phone_hits(norm))
    found["id_number"] = _best(_id_hits(norm))
    found["address"] = _first(_address_hits(norm))
    found["respondent"] = _best(_respondent_hits(narrative))
    found["occurred"] = _first(_time_hits(narrative))
    location = _first(_location_hits(narrative))
    address = found["address"]
    if location and not (address and (location.value in address.value or address.start <= location.start < address.end)):
        found["location"] = location
    intro = [h.value for h in (found["name"], found["address"], found["respondent"]) if h]
    found["description"] = _description_hit(norm, intro, demand_spans)
    return {field: hit for field, hit in found.items() if hit is not None}


def extract_facts(text: str) -> dict[str, Fact]:
    """Every fact stated explicitly in *text* (cue words, parsable numbers), by field."""
    try:
        norm = normalize_text(text)
        hits = _all_hits(norm)
        if _corrected_field(norm) not in (None, "description"):
            hits.pop("description", None)  # "电话说错了，是…" tells nothing about the matter
        return {field: hits[field].fact() for field in FIELDS if field in hits}
    except Exception:  # noqa: BLE001 - never break the conversation on odd input
        return {}


_META_QUESTION = re.compile(
    r"(?:为什么|为啥|干嘛|干什么|凭什么)(?:要|得|需要|问)|有什么用|什么意思|"
    r"(?:必须|一定)要?(?:填|给|提供|说|告诉)|可以不(?:填|给|提供|说)|不(?:填|给|说)(?:行|可以)(?:不|吗)|"
    r"(?:要|需要|得)(?:填|给|提供|留|说)(?:吗|么|嘛)|(?:安全|泄露)"
)
_QUESTION_END = re.compile(r"[?？]$|吗$|么$|嘛$")
_FREE_TEXT_FIELDS = frozenset({"description", "demand"})


def _bare_respondent(cleaned: str) -> _Hit | None:
    value = re.sub(r"^(?:就是|是|告|投诉|举报|反映)", "", cleaned).strip(_EDGE_PUNCT)
    if not value or len(value) > 30:
        return None
    return _Hit(value, 0.5, 0, len(cleaned))


def _bare_time(cleaned: str) -> _Hit | None:
    hit = _first(_time_hits(cleaned))
    if hit:
        return hit._replace(confidence=min(hit.confidence, 0.8))
    if len(cleaned) <= 15:
        return _Hit(cleaned, 0.4, 0, len(cleaned))
    return None


def _bare_demand(cleaned: str) -> _Hit | None:
    value = _strip_demand_cue(cleaned).strip(_EDGE_PUNCT)
    return _Hit(value, 0.6, 0, len(cleaned)) if len(value) >= 2 else None


def _bare_description(cleaned: str) -> _Hit | None:
    return _Hit(cleaned, 0.7, 0, len(cleaned)) if len(cleaned) >= 2 else None


_BARE: dict[str, Callable[[str], _Hit | None]] = {
    "name": _bare_name,
    "phone": lambda cleaned: None,
    "id_number": lambda cleaned: None,
    "address": _bare_place,
    "location": _bare_place,
    "respondent": _bare_respondent,
    "occurred": _bare_time,
    "demand": _bare_demand,
    "description": _bare_description,
}
# For these fields the whole answer is better than what extract_facts keeps.
_PREFER_WHOLE_ANSWER = frozenset({"description"})


def extract_answer(field: str, text: str) -> Fact | None:
    """The value of *field* in *text*, a reply to the bot's question about *field*.

    Cue-based facts win; otherwise a bare reply is taken with lower confidence.
    None for empty, filler, refusals and questions back ("为什么要电话？").
    """
    if field not in _BARE:
        return None
    try:
        cleaned = clean_free_text(text)
        if cleaned is None or is_refusal(cleaned) or _META_QUESTION.search(cleaned):
            return None
        norm = normalize_text(text)
        hits = _all_hits(norm)
        if field in hits and field not in _PREFER_WHOLE_ANSWER:
            return hits[field].fact()
        if _corrected_field(norm) not in (None, field):
            return None  # "电话说错了，是…" corrects the phone; it does not answer this question
        asked = _QUESTION_END.search(cleaned) or _QUESTION_END.search(normalize_text(text).rstrip())
        if field not in _FREE_TEXT_FIELDS and asked:
            return None
        bare = _BARE[field](cleaned)
        return bare.fact() if bare else None
    except Exception:  # noqa: BLE001
        return None


# ----------------------------------------------------------------- corrections

_CORRECTION_CUE = (
    r"说错了?|写错了?|填错了?|记错了?|搞错了?|弄错了?|打错了?|输错了?|错了|不对|有误|有错|"
    r"更正(?:一下)?|纠正(?:一下)?|修改(?:一下)?|改一下|改成|改为|换成|换一个|重新说|应该是|正确的是"
)
# Order matters: "身份证号码" is an ID number, not a phone.
_FIELD_WORDS = (
    ("id_number", r"身份证(?:号码|号)?"),
    ("phone", r"(?:联系)?(?:电话|手机|号码|联系方式|座机)(?:号码|号)?"),
    ("address", r"(?:家庭)?(?:住址|地址|住的地方|家住)"),
    ("name", r"名字|姓名"),
    ("occurred", r"时间|日期|什么时候"),
    ("location", r"地点|事发地|地方"),
    ("demand", r"诉求|要求"),
    ("respondent", r"被反映(?:单位|人|对象)?|被投诉(?:单位|人|对象)?|(?:投诉|反映)对象|单位"),
    ("description", r"经过|情况|事情"),
)
# A field word must start a phrase ("我的电话", "刚才那个地址"), not end a longer noun ("施工时间").
_FIELD_START = r"(?:^|(?<=[，,。；;！!？?\s我的个俺他她才刚前面那这]))"
_FIELD_THEN_CUE = re.compile(
    _FIELD_START + "(?P<field>" + "|".join(f"(?P<{f}>{w})" for f, w in _FIELD_WORDS)
    + f")[^，,。；;！!？?]{{0,8}}?(?P<cue>{_CORRECTION_CUE})"
)
# "不好意思名字打错了": after these field words a "…错了" cue corrects them wherever they stand.
_CONTACT_FIELDS = ("id_number", "phone", "address", "name")
_CONTACT_FIELD_THEN_WRONG = re.compile(
    "(?P<field>" + "|".join(f"(?P<{f}>{w})" for f, w in _FIELD_WORDS if f in _CONTACT_FIELDS)
    + ")(?:号码|号)?[^，,。；;！!？?]{0,4}?(?P<cue>(?:说|写|填|记|打|输|搞|弄)错了?)"
)
_CUE_THEN_FIELD = re.compile(
    f"(?P<cue>{_CORRECTION_CUE})[^，,。；;！!？?]{{0,6}}?"
    "(?P<field>" + "|".join(f"(?P<{f}2>{w})" for f, w in _FIELD_WORDS) + ")"
)
_LEADING_NO = re.compile(r"^(?:不对|错了|说错了|搞错了|不是|更正|纠正)(?:一下)?[，,\s]+")
_NOT_BUT = re.compile(r"不是(?P<old>[^，,。；;]+?)[，,\s]*(?:而|应该|应当)?是(?P<new>[^。；;！!？?]+)")
_NOT_OLD = re.compile(r"(?:而|并)?(?:不是|并非)[^，,。；;！!？?]+")
_VALUE_MARKER = re.compile(r"(?:应该是|正确的是|改成|改为|换成|其实是|实际是|而是|是|为|叫|[:：])")


def _field_of(match: re.Match[str], suffix: str = "") -> str:
    return next(f for f, _ in _FIELD_WORDS if match.group(f + suffix))


def _infer_field(old: str, new: str) -> str | None:
    """Which field "不是<old>，是<new>" corrects, judged from the values themselves."""
    for field, hits in (("phone", _phone_hits), ("id_number", _id_hits), ("occurred", _time_hits)):
        if hits(normalize_text(new)) or hits(normalize_text(old)):
            return field
    if is_plausible_name(old.strip(_EDGE_PUNCT)) and is_plausible_name(new.strip(_EDGE_PUNCT)):
        return "name"
    if _respondent_hits(normalize_text(old)) and _respondent_hits(normalize_text(new)):
        return "respondent"  # "不是物业，是开发商锦华置业"
    return None


def _new_value(field: str, tail: str) -> Fact | None:
    """The corrected value stated in *tail* (text after the correction cue), if any."""
    tail = _NOT_OLD.sub("", tail).strip(_EDGE_PUNCT)  # "是苗小虹，不是苗小红"
    if not tail:
        return None
    cued = extract_facts(tail).get(field)
    if cued and field not in _PREFER_WHOLE_ANSWER:
        return cued
    marker = _VALUE_MARKER.match(tail) or _VALUE_MARKER.search(tail[:6])
    candidate = tail[marker.end():] if marker else tail
    return extract_answer(field, candidate)


def _correction_cue(norm: str) -> tuple[str, re.Match[str]] | None:
    """The field a correction cue names ("电话说错了", "更正一下地址") and the cue's match."""
    m = _FIELD_THEN_CUE.search(norm) or _CONTACT_FIELD_THEN_WRONG.search(norm)
    if m:
        return _field_of(m), m
    m = _CUE_THEN_FIELD.search(norm)
    if m:
        return _field_of(m, "2"), m
    return None


def _corrected_field(norm: str) -> str | None:
    cue = _correction_cue(norm)
    return cue[0] if cue else None


def find_correction(text: str) -> tuple[str, Fact | None] | None:
    """(field, new value or None) when *text* corrects an earlier answer, else None."""
    try:
        norm = normalize_text(text)
        cue = _correction_cue(norm)
        if cue:
            field, m = cue
            return field, _new_value(field, norm[m.end():])
        m = _NOT_BUT.search(norm)
        if m:
            field = _infer_field(m.group("old"), m.group("new"))
            if field:
                return field, extract_answer(field, m.group("new"))
        m = _LEADING_NO.match(norm)
        if m:
            facts = extract_facts(norm[m.end():])
            field = next((f for f in FIELDS if f in facts and f != "description"), None)
            if field:
                return field, facts[field]
        return None
    except Exception:  # noqa: BLE001
        return None
