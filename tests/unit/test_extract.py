"""What the assistant understands from what citizens write or say."""
from __future__ import annotations

import pytest

from actions.extract import FIELDS, Fact, extract_answer, extract_facts, find_correction, is_plausible_name


def values(text: str) -> dict[str, str]:
    return {field: fact.value for field, fact in extract_facts(text).items()}


# ------------------------------------------------------ one rich message

ZHANG = (
    "你好，我叫张建国，电话一三八零零一二三四五六，住在朝阳区幸福路12号3单元，"
    "我们小区旁边的宏达建筑公司从上个月开始天天半夜施工，吵得根本睡不着，希望有关部门让他们晚上停工"
)


def test_zhang_tells_everything_in_one_message():
    assert values(ZHANG) == {
        "name": "张建国",
        "phone": "13800123456",
        "address": "朝阳区幸福路12号3单元",
        "respondent": "宏达建筑公司",
        "occurred": "从上个月开始",
        "description": "我们小区旁边的宏达建筑公司从上个月开始天天半夜施工，吵得根本睡不着",
        "demand": "让他们晚上停工",
    }


def test_zhang_gets_no_invented_location_when_only_his_address_is_known():
    assert "location" not in extract_facts(ZHANG)


def test_facts_carry_confidences_between_zero_and_one():
    facts = extract_facts(ZHANG)
    assert set(facts) <= set(FIELDS)
    assert all(isinstance(f, Fact) and 0.0 < f.confidence <= 1.0 for f in facts.values())
    assert facts["phone"].confidence > 0.9  # said right after 电话


def test_farmer_speaking_dialect_is_understood():
    facts = values("俺叫王富贵，俺家住河东村三组，村支书李某把俺家的地占了，已经三个月了，咋办啊，能不能管管")
    assert facts["name"] == "王富贵"
    assert facts["address"] == "河东村三组"
    assert facts["respondent"] == "村支书李某"
    assert facts["occurred"] == "已经三个月了"
    assert facts["description"] == "村支书李某把俺家的地占了，已经三个月了"
    assert facts["demand"] == "能不能管管"


def test_traditional_characters_are_read_as_simplified():
    facts = values("我叫陳小明，電話13912345678，我要投訴縣住建局")
    assert facts["name"] == "陈小明"
    assert facts["phone"] == "13912345678"
    assert facts["respondent"] == "县住建局"


def test_form_like_message_with_colons_and_semicolons():
    facts = values("姓名：赵六；联系电话：0571-87654321；地址：杭州市西湖区文三路100号")
    assert facts == {"name": "赵六", "phone": "0571-87654321", "address": "杭州市西湖区文三路100号"}


def test_accident_outside_a_hospital_has_time_place_and_id():
    facts = values("本人欧阳娜娜，身份证号110101199003074514，去年十月在城东区人民医院门口被车撞了")
    assert facts["name"] == "欧阳娜娜"
    assert facts["id_number"] == "110101199003074514"
    assert facts["occurred"] == "去年十月"
    assert facts["location"] == "城东区人民医院门口"


def test_message_with_typos_and_spaces_from_voice_input():
    facts = values("我 叫 刘 红梅 手机 幺五九 两两三三 四四五五 家住 城南区 和平路 8号")
    assert facts["name"] == "刘红梅"
    assert facts["phone"] == "15922334455"
    assert facts["address"] == "城南区和平路8号"


# ------------------------------------------------------------------ names


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我叫王小明", "王小明"),
        ("我叫张三，家住幸福路", "张三"),
        ("我叫李四电话13800123456", "李四"),
        ("俺叫赵铁柱", "赵铁柱"),
        ("我的名字叫孙丽", "孙丽"),
        ("名字是周杰", "周杰"),
        ("姓名：吴刚", "吴刚"),
        ("本人郑爱国，今年六十岁", "郑爱国"),
        ("我是马建华，住在城西", "马建华"),
        ("我姓李，叫李四", "李四"),
        ("我姓张名建国", "张建国"),
        ("我叫欧阳修文", "欧阳修文"),
        ("我叫诸葛亮", "诸葛亮"),
        ("我叫司马光，电话一三八零零一二三四五六", "司马光"),
        ("我叫王家明", "王家明"),
        ("我叫李建民", "李建民"),
    ],
)
def test_names_stated_with_cue_words(text, expected):
    assert values(text).get("name") == expected


@pytest.mark.parametrize(
    "text",
    [
        "我是本地人",
        "我是业主",
        "我是市民",
        "我是老百姓",
        "我是这个小区的住户",
        "我是江西人",
        "我是路过的",
        "我是高三学生",
        "我是包工头",
        "我是张三的家属",
        "老百姓反映问题难",
        "你好",
    ],
)
def test_roles_and_origins_are_not_taken_for_names(text):
    assert "name" not in extract_facts(text)


@pytest.mark.parametrize(
    "name, ok",
    [("张建国", True), ("欧阳娜娜", True), ("李四", True), ("你好", False), ("不知道", False),
     ("业主", False), ("市民", False), ("老百姓", False), ("张", False), ("王老师", False), ("张3", False)],
)
def test_plausible_names(name, ok):
    assert is_plausible_name(name) is ok


# ----------------------------------------------------------- phone and ID


@pytest.mark.parametrize(
    "text, expected",
    [
        ("手机是一三八零零一二三四五六", "13800123456"),
        ("有事打我电话+86 138-0012-3456", "13800123456"),
        ("联系方式（010）8888 6666", "010-88886666"),
        ("号码１３９００００１１１１", "13900001111"),
    ],
)
def test_phone_numbers_in_messages(text, expected):
    assert values(text).get("phone") == expected


def test_phone_without_cue_word_is_less_certain():
    assert extract_facts("13800123456")["phone"].confidence < extract_facts("电话13800123456")["phone"].confidence


@pytest.mark.parametrize(
    "text, expected",
    [
        ("身份证号110101199003074514", "110101199003074514"),
        ("身份证11010519491231002x，电话13800123456", "11010519491231002X"),
    ],
)
def test_id_numbers_in_messages(text, expected):
    assert values(text).get("id_number") == expected


def test_id_number_with_bad_check_digit_is_not_extracted():
    assert "id_number" not in extract_facts("身份证110101199003074515")


# --------------------------------------------------------------- address


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我住在城东区建设路8号", "城东区建设路8号"),
        ("家住幸福小区3栋2单元501，电话13800123456", "幸福小区3栋2单元501"),
        ("俺家住在李家庄村东头", "李家庄村东头"),
        ("住址：江苏省南京市鼓楼区中山路1号", "江苏省南京市鼓楼区中山路1号"),
        ("地址是幸福小区3-2-501", "幸福小区3-2-501"),
        ("我家在红星村五组我叫王五", "红星村五组"),
        ("现住城北区光明街道", "城北区光明街道"),
    ],
)
def test_addresses_stop_at_the_end_of_the_clause(text, expected):
    assert values(text).get("address") == expected


@pytest.mark.parametrize(
    "text",
    ["我住在这里十几年了", "公司地址在工业园区5号", "我家住附近", "住在家里"],
)
def test_vague_places_and_other_peoples_addresses_are_not_the_petitioners_address(text):
    assert "address" not in extract_facts(text)


# ------------------------------------------------------------- respondent


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我要投诉县住建局", "县住建局"),
        ("举报我们村的村支书王某贪污扶贫款", "村支书王某"),
        ("包工头老李拖欠我们工资半年了", "包工头老李"),
        ("楼下的好再来饭店油烟太大", "好再来饭店"),
        ("幸福里物业公司乱收停车费", "幸福里物业公司"),
        ("物业乱收费", "物业"),
        ("反映一下城关镇政府强拆的问题", "城关镇政府"),
        ("上个月宏达公司把路挖断了", "宏达公司"),
        ("光明村村委会主任王某某私分补偿款", "光明村村委会主任王某某"),
        ("王书记一直不给我们办", "王书记"),
        ("市第一人民医院乱收费", "市第一人民医院"),
        ("辖区派出所不立案", "辖区派出所"),
        ("华夏银行乱扣费", "华夏银行"),
    ],
)
def test_who_the_complaint_is_about(text, expected):
    assert values(text).get("respondent") == expected


@pytest.mark.parametrize(
    "text",
    ["这就是结局", "我在一家公司上班", "希望政府管一管", "住在市中心"],
)
def test_words_that_only_look_like_organisations_are_not_respondents(text):
    assert "respondent" not in extract_facts(text)


def test_employer_named_as_workplace_is_the_respondent():
    facts = extract_facts("我在宏达公司上班，公司拖欠了我三个月工资，老板一直躲着不见")
    assert facts["respondent"] == Fact("宏达公司", 0.7)


def test_place_where_it_happened_is_a_weak_respondent():
    facts = extract_facts("去年十月在城东区人民医院门口被车撞了")
    assert facts["respondent"].confidence < 0.5


def test_respondent_after_a_complaint_verb_is_more_certain():
    assert extract_facts("投诉宏达公司")["respondent"].confidence > extract_facts("宏达公司半夜施工")["respondent"].confidence


# ------------------------------------------------------------------- time


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2024年3月5日发生的", "2024年3月5日"),
        ("3月5号那天", "3月5号"),
        ("去年十月开始漏水", "去年十月开始"),
        ("上个月就报修了", "上个月"),
        ("前天晚上被打了", "前天晚上"),
        ("上周三来过", "上周三"),
        ("从去年开始一直拖欠", "从去年开始"),
        ("已经三个月了还没修", "已经三个月了"),
        ("2023年底就该交房", "2023年底"),
        ("二〇二三年十二月的事", "2023年十二月"),
        ("今年春节前后", "今年春节前后"),
        ("半年前签的合同", "半年前"),
        ("2024-03-05下午", "2024-03-05下午"),
        ("最近老停水", "最近"),
    ],
)
def test_when_it_happened(text, expected):
    assert values(text).get("occurred") == expected


@pytest.mark.parametrize("text", ["住在幸福路12号", "天天半夜施工", "希望下个月之前解决", "我今年35岁", "今年六十五岁了"])
def test_house_numbers_habits_and_deadlines_are_not_when_it_happened(text):
    assert "occurred" not in extract_facts(text)


def test_vague_time_is_less_certain_than_a_date():
    assert extract_facts("最近老停水")["occurred"].confidence < extract_facts("3月5号停水")["occurred"].confidence


# --------------------------------------------------------------- location


@pytest.mark.parametrize(
    "text, expected",
    [
        ("在幸福路路段挖沟没填", "幸福路路段"),
        ("在学校门口卖东西", "学校门口"),
        ("有人在幸福路与建设路交叉口摆摊", "幸福路与建设路交叉口"),
        ("地点：城南菜市场", "城南菜市场"),
        ("他们正在小区门口施工", "小区门口"),
    ],
)
def test_where_it_happened(text, expected):
    assert values(text).get("location") == expected


@pytest.mark.parametrize("text", ["我住在幸福路12号", "现在路上全是垃圾", "我在公司上班", "医生把纱布落在肚子里了"])
def test_home_and_unrelated_words_are_not_where_it_happened(text):
    assert "location" not in extract_facts(text)


# ----------------------------------------------------------------- demand


@pytest.mark.parametrize(
    "text, expected",
    [
        ("希望有关部门让他们晚上停工", "让他们晚上停工"),
        ("要求退钱", "退钱"),
        ("我的诉求是把工资结清", "把工资结清"),
        ("诉求：赔偿医药费", "赔偿医药费"),
        ("请求政府帮我们讨回工资", "讨回工资"),
        ("想让他们把路修好", "让他们把路修好"),
        ("恳请领导尽快解决", "尽快解决"),
        ("政府能不能管管？", "政府能不能管管"),
        ("强烈要求恢复供水，尽快给个说法。别的没了", "恢复供水，尽快给个说法"),
        ("盼政府早日解决", "早日解决"),
        ("孩子要高考了，能不能让他们晚点开工", "能不能让他们晚点开工"),
        ("你们能不能快点处理啊", "你们能不能快点处理"),
        ("我想要回工资", "要回工资"),
    ],
)
def test_what_the_citizen_asks_for(text, expected):
    assert values(text).get("demand") == expected


@pytest.mark.parametrize("text", ["他们要求我们搬走", "物业的要求不合理"])
def test_demands_of_others_are_not_the_citizens_demand(text):
    assert "demand" not in extract_facts(text)


# ------------------------------------------------------------ description


def test_description_leaves_out_greeting_contact_details_and_demand():
    facts = values("您好，我叫李梅，电话13800123456。楼上邻居天天往下扔垃圾，说了也不听。希望社区出面处理。")
    assert facts["description"] == "楼上邻居天天往下扔垃圾，说了也不听。"
    assert facts["demand"] == "社区出面处理"


def test_pure_narrative_is_kept_whole():
    text = "小区门口的路灯坏了三个月了，晚上老人出门摔了好几次"
    assert values(text)["description"] == text


def test_self_introduction_alone_has_no_description():
    assert "description" not in extract_facts("你好，我叫王小明，电话13800123456")


# ---------------------------------------------------- answers to questions


@pytest.mark.parametrize(
    "field, text, expected",
    [
        ("name", "王小明", "王小明"),
        ("name", "李四。", "李四"),
        ("name", "姓李，李四", "李四"),
        ("name", "嗯，王芳吧", "王芳"),
        ("name", "我叫赵六", "赵六"),
        ("name", "欧阳娜娜", "欧阳娜娜"),
        ("phone", "一三八零零一二三四五六", "13800123456"),
        ("phone", "打这个 139 0000 1111", "13900001111"),
        ("id_number", "11010519491231002x", "11010519491231002X"),
        ("address", "城东区建设路8号", "城东区建设路8号"),
        ("address", "在李家庄村", "李家庄村"),
        ("address", "住在幸福小区3栋", "幸福小区3栋"),
        ("respondent", "县住建局", "县住建局"),
        ("respondent", "就是那个包工头老李", "包工头老李"),
        ("respondent", "隔壁老王", "隔壁老王"),
        ("occurred", "去年夏天", "去年夏天"),
        ("occurred", "大概是3月5号吧", "3月5号"),
        ("occurred", "记得是下雪那天", "记得是下雪那天"),
        ("location", "幸福路路口", "幸福路路口"),
        ("demand", "退钱", "退钱"),
        ("demand", "希望赔偿损失", "赔偿损失"),
        ("demand", "能不能帮忙管管", "能不能帮忙管管"),
        ("description", "嗯，就是他们天天半夜施工，吵得睡不着", "他们天天半夜施工，吵得睡不着"),
        ("description", "不方便出门的老人很多，电梯坏了没人修", "不方便出门的老人很多，电梯坏了没人修"),
    ],
)
def test_short_answers_to_the_question_just_asked(field, text, expected):
    fact = extract_answer(field, text)
    assert fact is not None and fact.value == expected


@pytest.mark.parametrize(
    "field, text",
    [
        ("name", ""),
        ("name", "你好"),
        ("name", "不知道"),
        ("name", "业主"),
        ("name", "为什么要名字？"),
        ("name", "不想说"),
        ("phone", "为什么要电话？"),
        ("phone", "1380012345"),
        ("phone", "不方便"),
        ("id_number", "算了吧身份证就不填了"),
        ("id_number", "110101199003074515"),
        ("address", "嗯"),
        ("address", "我不知道"),
        ("address", "地址一定要填吗？"),
        ("address", "就住这儿"),
        ("respondent", "不知道是哪个单位"),
        ("occurred", "记不清了"),
        ("phone", "我没有手机"),
        ("id_number", "不记得身份证号了"),
        ("address", "哪个地址？"),
        ("respondent", "随便"),
        ("occurred", "？"),
        ("demand", "没有"),
        ("description", "跳过"),
        ("unknown_field", "王小明"),
    ],
)
def test_non_answers_give_nothing(field, text):
    assert extract_answer(field, text) is None


def test_bare_answer_is_less_certain_than_one_with_a_cue_word():
    bare = extract_answer("name", "王小明")
    cued = extract_answer("name", "我叫王小明")
    assert bare.value == cued.value and bare.confidence < cued.confidence


def test_answer_prefers_the_fact_stated_with_a_cue():
    fact = extract_answer("address", "我叫王五，家住红星村五组")
    assert fact.value == "红星村五组"


# ------------------------------------------------------------- corrections


@pytest.mark.parametrize(
    "text, field, value",
    [
        ("电话说错了，是13900001111", "phone", "13900001111"),
        ("手机号应该是139 0000 1111", "phone", "13900001111"),
        ("我的电话写错了，改成一三九零零零零一一一一", "phone", "13900001111"),
        ("更正一下我的电话，是13900001111", "phone", "13900001111"),
        ("不对，电话是13900001111", "phone", "13900001111"),
        ("不是13800123456，是13900001111", "phone", "13900001111"),
        ("我的地址写错了，应该是城东区建设路8号", "address", "城东区建设路8号"),
        ("住址改成幸福路21号", "address", "幸福路21号"),
        ("名字写错了，我叫李四", "name", "李四"),
        ("姓名有误，应该是王芳", "name", "王芳"),
        ("身份证号码填错了，是11010519491231002X", "id_number", "11010519491231002X"),
        ("时间说错了，是去年十月", "occurred", "去年十月"),
        ("地点不对，应该是幸福路路口", "location", "幸福路路口"),
        ("诉求改一下，改成赔偿损失", "demand", "赔偿损失"),
        ("被反映单位写错了，是县住建局", "respondent", "县住建局"),
        ("我刚才电话号码说错了，139 0000 1111才对", "phone", "13900001111"),
        ("不是张三，是李四", "name", "李四"),
        ("改一下时间，应该是上个月", "occurred", "上个月"),
    ],
)
def test_corrections_with_the_new_value(text, field, value):
    result = find_correction(text)
    assert result is not None
    assert result[0] == field
    assert result[1] is not None and result[1].value == value


@pytest.mark.parametrize(
    "text, field",
    [
        ("地址不对", "address"),
        ("刚才说的电话不对", "phone"),
        ("名字写错了", "name"),
        ("身份证号填错了", "id_number"),
        ("电话号码不对", "phone"),
    ],
)
def test_corrections_without_a_new_value_name_the_field(text, field):
    assert find_correction(text) == (field, None)


@pytest.mark.parametrize(
    "text",
    [
        "施工时间不对，半夜还在干",
        "他们这样做不对",
        "我叫张建国，电话13800123456",
        "希望尽快解决",
        "",
    ],
)
def test_complaints_and_new_information_are_not_corrections(text):
    assert find_correction(text) is None


@pytest.mark.parametrize("func", [extract_facts, find_correction])
def test_extractors_do_not_raise_on_odd_input(func):
    assert func(None) in ({}, None)


# =================================================================================
# What people really type in a chat: rare surnames, labelled respondents, loose
# addresses, colloquial dates, polite demands, several facts at once, corrections.
# =================================================================================

from actions.intake import check_slot, facts_from_turn  # noqa: E402


def form_records(text: str, asked: str | None = None, filled: dict | None = None) -> dict:
    """What the petition form keeps from one message (slot -> checked value)."""
    found = facts_from_turn(text, requested_slot=asked, filled=filled or {})
    return {slot: check_slot(slot, value).value for slot, value in found.items()}


# ------------------------------------------------------------ Miao's first message


MIAO = (
    "你好，我姓苗，苗小红，住在城关镇幸福里小区3栋2单元501，电话13912345678。"
    "我们小区开发商是锦华置业，交房三年了房产证一直办不下来，想让政府督促开发商尽快给我们办证。"
)


def test_miao_with_a_rare_surname_fills_the_form_in_one_message():
    record = form_records(MIAO)
    assert record["petitioner_name"] == "苗小红"
    assert record["address"] == "城关镇幸福里小区3栋2单元501"
    assert record["phone"] == "13912345678"
    assert record["respondent"] == "锦华置业"
    assert record["demand"] == "让政府督促开发商尽快给我们办证"  # who should act is kept
    assert "房产证一直办不下来" in record["description"]


def test_miao_answers_the_name_question_with_her_surname_first():
    assert form_records("我姓苗，苗小红", asked="petitioner_name") == {"petitioner_name": "苗小红"}


# ------------------------------------------------------------------------- names


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我叫佘德明，去年腊月在工地干活", "佘德明"),
        ("免贵姓禤，禤志强", "禤志强"),
        ("我姓付，叫付晓燕", "付晓燕"),
        ("我姓万俟，叫万俟青云", "万俟青云"),
        ("领导您好，我叫仉志刚，电话15966554433", "仉志刚"),
        ("本人阙志明，身份证110101199003074514", "阙志明"),
        ("我是靳卫东，13577889911，在城西开出租车", "靳卫东"),
    ],
)
def test_rare_surnames_after_a_name_cue(text, expected):
    assert values(text).get("name") == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("司马青，电话0571-86001234。医院多收了我的钱", "司马青"),
        ("禤海燕 住南宁市青秀区民族大道12号 手机13677889900", "禤海燕"),
        ("邝美玲，女，45岁，住东山区庙前街7号", "邝美玲"),
        ("李娜，18600123456，隔壁私搭乱建把消防通道堵了", "李娜"),
    ],
)
def test_a_name_opening_the_message_before_contact_details(text, expected):
    assert values(text).get("name") == expected


def test_a_citizen_who_only_wants_to_be_called_lao_li():
    assert form_records("叫我老李就行，我们村的村支书李某某把集体的地卖了")["petitioner_name"] == "老李"
    assert form_records("叫我老李就行", asked="petitioner_name") == {"petitioner_name": "老李"}
    assert extract_answer("name", "老郑").value == "老郑"


def test_a_full_name_wins_over_a_nickname_in_the_same_message():
    assert values("叫我老李就行，身份证上的名字叫李大山")["name"] == "李大山"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("叫我小唐就行……哦要全名是吧，唐诗雨", "唐诗雨"),
        ("叫我老周吧。要大名啊？周国强。", "周国强"),
        ("叫我小欧阳就行，全名欧阳明", "欧阳明"),
    ],
)
def test_a_full_name_given_after_a_nickname_wins(text, expected):
    assert values(text)["name"] == expected
    assert extract_answer("name", text).value == expected


def test_a_later_clause_about_someone_else_does_not_replace_the_nickname():
    assert values("叫我小王就行，王书记他们不管事")["name"] == "小王"


@pytest.mark.parametrize(
    "field, text, expected",
    [
        ("name", "欧阳春", "欧阳春"),
        ("name", "上官婉儿", "上官婉儿"),
        ("name", "苗建军", "苗建军"),
        ("name", "我是他女儿，我叫司马婷婷", "司马婷婷"),
    ],
)
def test_rare_and_compound_surnames_as_bare_answers(field, text, expected):
    assert extract_answer(field, text).value == expected


@pytest.mark.parametrize(
    "text",
    [
        "我是毕业生，找不到工作",
        "连老板都跑了",
        "堵路3天了",
        "查一下12345，我的事项到哪了",
        "姓孙的老板欠钱不给",
        "我要举报环卫所的所长姓高",
        "周末，楼上装修",
        "王某某，男，今年50岁，拖欠我工资",
    ],
)
def test_words_and_other_people_are_not_the_petitioners_name(text):
    assert "name" not in extract_facts(text)


def test_rare_surnames_need_a_context_that_expects_a_name():
    assert not is_plausible_name("苗小红")
    assert is_plausible_name("苗小红", allow_rare=True)
    assert not is_plausible_name("王书记")  # a role, not a name


def test_answer_to_the_name_question_also_gives_phone_and_address():
    record = form_records("佘建国，电话13812345678，住东风路5号", asked="petitioner_name")
    assert record == {"petitioner_name": "佘建国", "phone": "13812345678", "address": "东风路5号"}


# ---------------------------------------------------------------------- address


@pytest.mark.parametrize(
    "text, expected",
    [
        ("禤海燕住南宁市青秀区民族大道12号", "南宁市青秀区民族大道12号"),
        ("俺叫薛长青，住长岭乡坡底村", "长岭乡坡底村"),
        ("我就住在幸福里小区，5栋", "幸福里小区5栋"),
        ("家住阳光小区，3栋2单元501，电话13800001111", "阳光小区3栋2单元501"),
        ("家住桂城街道平洲村，3巷5号", "桂城街道平洲村3巷5号"),
        ("我住幸福小区，已经十年了", "幸福小区"),
    ],
)
def test_addresses_said_loosely(text, expected):
    assert values(text).get("address") == expected


@pytest.mark.parametrize(
    "text",
    ["我们住十八楼，老人下不了楼", "他住院了", "县住建局不管", "住了三年", "住户都很生气", "他住幸福路"],
)
def test_floors_hospital_stays_and_other_peoples_homes_are_not_the_address(text):
    assert "address" not in extract_facts(text)


def test_building_number_in_the_next_clause_completes_the_address_answer():
    assert form_records("住城北新村，12栋", asked="address") == {"address": "城北新村12栋"}


# ------------------------------------------------------------------- respondent


@pytest.mark.parametrize(
    "text, expected",
    [
        ("开发商是锦华置业", "锦华置业"),
        ("我们小区开发商是锦华置业，交房三年了", "锦华置业"),
        ("物业是恒通物业管理有限公司，电梯一直坏着", "恒通物业管理有限公司"),
        ("物业公司，名字叫祥和物业", "祥和物业"),
        ("对面那家饭店，叫老王川菜馆", "老王川菜馆"),
        ("被反映单位：区住建局", "区住建局"),
        ("用人单位是宏远建设工程有限公司", "宏远建设工程有限公司"),
        ("施工单位是中建八局，天天晚上打桩", "中建八局"),
        ("老板叫黄大伟，收了定金人就跑了", "老板黄大伟"),
        ("他是我们村支书，叫冯德福", "村支书冯德福"),
        ("开发商锦华置业", "锦华置业"),
    ],
)
def test_respondents_named_after_a_label(text, expected):
    assert values(text).get("respondent") == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("包工头是个姓孙的老板，欠我们工资", "孙老板"),
        ("就是那个姓孙的老板", "孙老板"),
        ("我要举报环卫所的所长姓高，他拿工人的工资去放贷", "高所长"),
        ("房东，姓钟", "钟房东"),
        ("被一个姓何的交警扣了车", "何交警"),
        ("一个姓王的把我打了", "王某"),
    ],
)
def test_a_person_known_only_by_surname_and_role(text, expected):
    assert values(text).get("respondent") == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("我在东方红小学旁边开了家文具店，街道办的人上周五来说我占道经营", "街道办"),
        ("我的小饭馆被市场监管局罚了五万块", "市场监管局"),
        ("我在夜市摆了个水果摊，城管说我占道经营", "城管"),
        ("村支书李某某把集体的地私自卖给外地老板建厂", "村支书李某某"),
        ("隔壁开了家网吧，天天吵到半夜", "网吧"),
        ("楼下新开了个洗车店，污水流到马路上", "洗车店"),
        ("宏达公司是锦华置业的子公司", "宏达公司"),
        ("村委会和镇政府协调了几次都不管用", "村委会和镇政府"),
    ],
)
def test_the_citizens_own_shop_and_plain_actions_are_not_the_respondent(text, expected):
    assert values(text).get("respondent") == expected


@pytest.mark.parametrize("text", ["物业是个摆设", "开发商是谁我也不知道", "老板是外地人"])
def test_a_label_followed_by_no_name_keeps_the_label(text):
    assert values(text)["respondent"] in ("物业", "开发商", "老板")


def test_a_body_asked_to_investigate_is_not_whom_the_matter_concerns():
    fact = extract_facts("环保局和公安去查一查，把偷排的抓起来")["respondent"]
    assert fact.confidence < 0.5


def test_a_surname_for_someone_else_does_not_become_the_petitioners_name():
    record = form_records("就是那个姓孙的老板", asked="respondent")
    assert record == {"respondent": "孙老板"}


# ------------------------------------------------------------------------- time


@pytest.mark.parametrize(
    "text, expected",
    [
        ("今年五一前后开始动工的", "今年五一前后"),
        ("国庆节过后就没见车来拉过", "国庆节过后"),
        ("中秋节前收的钱", "中秋节前"),
        ("今年暑假", "今年暑假"),
        ("从21年开始一直到现在", "从21年开始"),
        ("22年的时候签的合同", "22年"),
        ("拖欠我2023年11月到今年2月的工资", "2023年11月到今年2月"),
        ("从3月到5月一直停水", "从3月到5月"),
        ("周三晚上他们又来了", "周三晚上"),
        ("前两天又来闹了", "前两天"),
        ("大年三十晚上停的电", "大年三十晚上"),
    ],
)
def test_dates_said_colloquially(text, expected):
    assert values(text).get("occurred") == expected


@pytest.mark.parametrize("text", ["每周三都来", "干了20年", "今年七十六了"])
def test_habits_durations_and_ages_are_still_not_dates(text):
    assert "occurred" not in extract_facts(text)


def test_this_week_or_so_is_vague():
    assert extract_facts("这两天又开始了")["occurred"].confidence < 0.6


@pytest.mark.parametrize(
    "text, expected",
    [("差不多是元旦前后吧", "元旦前后"), ("上星期五早上八点多", "上星期五早上"), ("19年到现在一直这样", "19年到现在")],
)
def test_answers_to_when_did_it_happen(text, expected):
    assert form_records(text, asked="occurred")["occurred"] == expected


# ----------------------------------------------------------------------- demand


@pytest.mark.parametrize(
    "text, expected",
    [
        ("想让政府出面协调一下", "让政府出面协调一下"),
        ("想让乡政府给个说法", "让乡政府给个说法"),
        ("请环保部门来查一下", "环保部门来查一下"),
        ("想请劳动部门帮忙追讨工资", "劳动部门帮忙追讨工资"),
        ("希望区住建局尽快处理", "区住建局尽快处理"),
        ("我想让城管把那些占道的摊子清理掉", "让城管把那些占道的摊子清理掉"),
        ("希望有关部门能给个说法", "给个说法"),  # a generic addressee says nothing
    ],
)
def test_polite_demands_keep_who_should_act(text, expected):
    assert values(text).get("demand") == expected


def test_asking_a_question_is_not_a_demand():
    assert "demand" not in extract_facts("请问信访怎么走")


# ------------------------------------------------------------------ corrections


@pytest.mark.parametrize(
    "text, field, value",
    [
        ("名字写错了，是苗小虹，不是苗小红", "name", "苗小虹"),
        ("名字写错了，不是苗小红，是苗小虹", "name", "苗小虹"),
        ("不好意思名字打错了，是冼秀瑛", "name", "冼秀瑛"),
        ("反映的不是物业，是开发商锦华置业", "respondent", "锦华置业"),
        ("被反映单位说错了，应该是华兴纺织有限公司", "respondent", "华兴纺织有限公司"),
        ("不是上个月，是上上个月", "occurred", "上上个月"),
        ("刚才地址说错了，我住幸福里小区12号楼，不是11号楼", "address", "幸福里小区12号楼"),
    ],
)
def test_more_corrections_with_the_new_value(text, field, value):
    result = find_correction(text)
    assert result is not None and result[0] == field
    assert result[1] is not None and result[1].value == value


def test_a_correction_answers_no_other_question_and_tells_no_story():
    record = form_records("时间说错了，是前年不是去年", asked="location", filled={"occurred": "去年"})
    assert record == {"occurred": "前年"}
    assert "description" not in extract_facts("电话说错了，是13900001111")
    assert extract_answer("address", "电话写错了，是13900001111") is None


def test_respondent_corrected_while_the_form_asks_for_the_time():
    record = form_records("反映的不是物业，是开发商锦华置业", asked="occurred", filled={"respondent": "物业公司"})
    assert record == {"respondent": "锦华置业"}
