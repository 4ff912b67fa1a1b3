"""Facts from citizens' free text: who, how to reach them, against whom, when, where, what, why.

Pure Python (no Rasa): used by the petition form and by the hotline
transcript reader. All functions work on raw text; it is normalised with
:func:`actions.normalize.normalize_text` first, so values come back with
Arabic digits and simplified characters.

Public API::

    extract_facts(text)            -> {field: Fact}   facts stated with cue words
    extract_answer(field, text)    -> Fact | None     text answers a question about field
    find_correction(text)          -> (field, Fact | None) | None
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
    "成年", "老年", "中年", "年轻", "病人", "残疾",
)
_NAME_STOP_CHARS = frozenset("的是我俺在住啊呢吧了哈呀们跟给说也都还这那他她它被把让对到去今电手身从现想要就男女岁号打")
_NAME_STOP_WORDS = ("电话", "手机", "号码", "联系", "身份证", "家住", "家在", "住在", "来自", "今年", "现在", "反映", "投诉", "举报")


def _surname_of(candidate: str) -> str | None:
    if candidate[:2] in _COMPOUND_SURNAMES:
        return candidate[:2]
    if candidate[:1] in _SINGLE_SURNAMES:
        return candidate[:1]
    return None


def is_plausible_name(candidate: str) -> bool:
    """A 2-4 character Chinese personal name starting with a known surname, not a role word."""
    if not re.fullmatch(f"[{_HAN}]{{2,4}}", candidate or ""):
        return False
    surname = _surname_of(candidate)
    if surname is None or not 1 <= len(candidate) - len(surname) <= 2:
        return False
    if candidate.endswith("人"):  # 本地人, 江西人, 成年人
        return False
    return not any(word in candidate for word in _NOT_NAME_WORDS)


def _trim_name(raw: str, extra_stops: frozenset[str] = frozenset()) -> str:
    """The leading name-like part of *raw*: Chinese characters up to a stop char or stop word."""
    head = re.match(f"[{_HAN}]*", raw).group()
    head = _cut_at(head, _NAME_STOP_WORDS)
    surname = _surname_of(head) or head[:1]
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
_SURNAME_THEN_NAME = re.compile(
    f"姓(?P<surname>{_SURNAME_ALT})(?:名(?P<given>[{_HAN}]{{1,2}})"
    f"|[，,、\\s]*(?:叫|名叫|名字叫|全名|名字是|全名是)?[，,、\\s]*(?P<full>[{_HAN}]{{2,4}}))"
)


def _name_hits(text: str) -> list[_Hit]:
    hits = []
    for m in _NAME_CUE.finditer(text):
        start = m.end() + _NAME_CUE_TAIL.match(text, m.end()).end() - m.end()
        name = _trim_name(text[start:start + 6])
        if not is_plausible_name(name):
            continue
        if m.group("weak") and not _AFTER_WEAK_NAME.match(text, start + len(name)):
            continue
        hits.append(_Hit(name, 0.9 if m.group("strong") else 0.75, m.start(), start + len(name)))
    for m in _SURNAME_THEN_NAME.finditer(text):
        surname = m.group("surname")
        if m.group("given"):
            name = surname + _trim_name(m.group("given"))
        else:
            name = _trim_name(m.group("full") or "")
            if not name.startswith(surname):
                continue
        if is_plausible_name(name):
            hits.append(_Hit(name, 0.9, m.start(), m.end()))
    return sorted(hits, key=lambda h: h.start)


def _bare_name(cleaned: str) -> _Hit | None:
    """A reply that is just a name ("王小明", "李四。", "王芳吧")."""
    name = cleaned.strip(_EDGE_PUNCT)
    if is_plausible_name(name):
        return _Hit(name, 0.6, 0, len(name))
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
    r"(?:家庭住址|居住地址|现住址|通讯地址|住址|地址|家住|现住|居住在|住在|家在|户籍地?在)"
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


def _address_hits(text: str) -> list[_Hit]:
    hits = []
    for m in _ADDRESS_CUE.finditer(text):
        if any(w in text[max(0, m.start() - 4):m.start()] for w in _NOT_OWN_ADDRESS_BEFORE):
            continue
        end = _clause_end(text, m.end())
        value = _clean_place(_cut_at(text[m.end():end], _ADDRESS_STOP_WORDS))
        if _is_place(value):
            hits.append(_Hit(value, 0.9, m.start(), m.end() + len(value)))
    return hits


def _bare_place(cleaned: str) -> _Hit | None:
    value = _clean_place(re.sub(r"^(?:我|俺)?家?就?(?:住在|住|在|是)", "", cleaned))
    if not value or value in _DEICTIC_PLACES or re.search(r"[?？]", value):
        return None
    return _Hit(value, 0.65 if _is_place(value) else 0.4, 0, len(cleaned))


# ---------------------------------------------------------------------- time

_CN_NUM = "[0-9一二两三四五六七八九十]"
_YEAR = r"(?:(?:19|20)[0-9]{2}|[0-9]{2}(?=年[0-9一二三四五六七八九十]{1,2}月|年[底初])|大前|前|去|今|明)年"
_MONTH = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九]|正|腊)月份?"
_DAY = r"(?:[12][0-9]|3[01]|0?[1-9]|[一二三]?十[一二三四五六七八九]?|[一二三四五六七八九])[日号]"
_PART = r"(?:初|底|末|中旬|上旬|下旬|中|左右)"
_SEASON = r"(?:春天|夏天|秋天|冬天|春季|夏季|秋季|冬季|上半年|下半年|春节|过年|国庆|中秋|年底|年初|年末)"
_RELATIVE = (
    rf"(?:上上|上|这|本)个?月(?:{_DAY}|初|底|末|中旬|上旬|下旬)?"
    r"|(?:上上|上|这|本)个?(?:周|星期|礼拜)(?:[一二三四五六日天末])?"
    r"|大前天|前天|昨天|今天|昨晚|前晚|今早|昨日|今日|前几天|前些天|前段时间|前阵子|"
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
    f"(?:从|自从|自)?(?:{_TIME_CORE}){_DAYTIME}(?:开始|起|以来|至今|到现在)?"
    f"(?!{_CN_NUM}{{1,4}}多?(?:岁|了))"  # "今年35岁", "今年七十六了" is an age, not a date
)
_VAGUE_TIME = re.compile(r"最近|近期|近来|这段时间|这几天|前段时间|前阵子")
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
}
_ORG = re.compile(
    f"([{_HAN}A-Za-z0-9]{{0,16}}?)("
    + "|".join(sorted(map(re.escape, _ORG_SUFFIXES), key=len, reverse=True))
    + ")"
)
# Words after which an organisation's own name starts.
_ORG_LEFT_BOUNDARY = re.compile(
    r"的|是|被|把|跟|与|在|到|去|从|让|找|了|[一那这哪某两几每该]个|[一那这哪某两几每该]家|[一那这哪某每该]所"
    r"|我们|咱们|他们|俺们|我|俺|咱|反映|投诉|举报|控告|检举|起诉|状告|一下|关于|附近|旁边|对面|隔壁|楼下|楼上"
    r"|名叫|叫|对(?!面|外)"
)
_ORG_SUFFIX_AT = re.compile("|".join(sorted(map(re.escape, _ORG_SUFFIXES), key=len, reverse=True)))
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
        body = body[max(cuts, default=0):]
        value = body + suffix
        if len(body) < _ORG_SUFFIXES[suffix] or value in _NOT_ORG or value[-2:] in _NOT_ORG:
            continue
        start = m.end() - len(value)
        end = m.end()
        # "中心" + "小学": one name with a chain of suffixes
        chained = _ORG_SUFFIX_AT.match(text, end)
        while chained:
            end = chained.end()
            chained = _ORG_SUFFIX_AT.match(text, end)
        value = text[start:end]
        # "在/到/去…医院" names a place; it is a respondent only with a cue word.
        placed = re.search(r"(?:在|到|去|从|进)$", text[max(0, start - 1):start]) and not re.match(
            r"(?:上班|工作|打工|干活|上学|任职|做工)", text[end:]
        )
        confidence = 0.7
        if placed:  # "在育才路中心小学门口" is rather where than who
            confidence = 0.3 if _LANDMARK_AFTER.match(text, end) else 0.45
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


def _merge_adjacent(hits: list[_Hit]) -> list[_Hit]:
    """Join an organisation and the person right after it ("村委会" + "主任王某")."""
    hits = sorted(hits, key=lambda h: (h.start, -h.end))
    merged: list[_Hit] = []
    for hit in hits:
        if merged and hit.start < merged[-1].end:  # overlapping: keep the longer, earlier one
            continue
        if merged and hit.start == merged[-1].end:
            prev = merged.pop()
            hit = _Hit(prev.value + hit.value, max(prev.confidence, hit.confidence), prev.start, hit.end)
        merged.append(hit)
    return merged


def _respondent_hits(text: str) -> list[_Hit]:
    hits = []
    for hit in _merge_adjacent(_org_hits(text) + _person_hits(text)):
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
    r"|请(?=政府|有关|相关|领导|你们|上级)|麻烦(?:你们|您们|政府|有关部门|相关部门))"
    r"(?:就是|是|为)?[:：\s]*"
)
_HELP_QUESTION = re.compile(
    r"(?:能不能|能否|可不可以|可以不可以|有没有人|谁来|谁能)(?:快点|尽快|赶紧|早点|早日|出面)?"
    r"(?:帮|管|给|让|处理|解决|过问|查|治|整治|协调)"
)
_ADDRESSEE = re.compile(
    rf"^(?:有关部门|相关部门|政府部门|政府|有关领导|各位领导|领导|你们|上级部门|上级|相关单位|有关单位|贵单位"
    rf"|[{_HAN}]{{1,6}}(?:局|委员会|部门|政府|街道办|办事处))?"
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
    found["name"] = _first(_name_hits(norm))
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
        hits = _all_hits(normalize_text(text))
        if field in hits and field not in _PREFER_WHOLE_ANSWER:
            return hits[field].fact()
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
_CUE_THEN_FIELD = re.compile(
    f"(?P<cue>{_CORRECTION_CUE})[^，,。；;！!？?]{{0,6}}?"
    "(?P<field>" + "|".join(f"(?P<{f}2>{w})" for f, w in _FIELD_WORDS) + ")"
)
_LEADING_NO = re.compile(r"^(?:不对|错了|说错了|搞错了|不是|更正|纠正)(?:一下)?[，,\s]+")
_NOT_BUT = re.compile(r"不是(?P<old>[^，,。；;]+?)[，,\s]*(?:而|应该|应当)?是(?P<new>[^。；;！!？?]+)")
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
    return None


def _new_value(field: str, tail: str) -> Fact | None:
    """The corrected value stated in *tail* (text after the correction cue), if any."""
    tail = tail.strip(_EDGE_PUNCT)
    if not tail:
        return None
    cued = extract_facts(tail).get(field)
    if cued and field not in _PREFER_WHOLE_ANSWER:
        return cued
    marker = _VALUE_MARKER.match(tail) or _VALUE_MARKER.search(tail[:6])
    candidate = tail[marker.end():] if marker else tail
    return extract_answer(field, candidate)


def find_correction(text: str) -> tuple[str, Fact | None] | None:
    """(field, new value or None) when *text* corrects an earlier answer, else None."""
    try:
        norm = normalize_text(text)
        m = _FIELD_THEN_CUE.search(norm)
        if m:
            field = _field_of(m)
            return field, _new_value(field, norm[m.end():])
        m = _CUE_THEN_FIELD.search(norm)
        if m:
            field = _field_of(m, "2")
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
