"""A citizen in crisis is told at once which number to call; figures of speech are not crises."""
import pytest

from actions.routing import classify, detect_emergency

CRISES = [
    # self-harm: 12356 and 110/120
    ("我不想活了", "self_harm"),
    ("真的好想死", "self_harm"),
    ("活着真没意思，什么盼头都没有", "self_harm"),
    ("再不给我解决我就去跳楼", "self_harm"),
    ("我现在在河边，准备跳河", "self_harm"),
    ("刚才割腕了，流了一地血", "self_harm"),
    ("我已经喝了农药", "self_harm"),
    ("俺不想活咧，太难了", "self_harm"),
    ("活得没意思，想一了百了", "self_harm"),
    ("我想自杀", "self_harm"),
    ("今晚我就上吊", "self_harm"),
    ("我写好遗书了", "self_harm"),
    ("这日子没法活了", "self_harm"),
    ("讨不到工钱，我现在就去楼顶", "self_harm"),
    ("我准备烧炭", "self_harm"),
    ("我就是想不开", "self_harm"),
    ("路口两辆车相撞，有人受伤了躺在地上", "medical"),
    ("小区门口出车祸了，快叫人", "medical"),
    ("我人在塔吊上，不给钱不下来", "self_harm"),
    ("我要死给他们看", "self_harm"),
    ("我想死了算了", "self_harm"),
    ("割婉了，止不住", "self_harm"),
    ("吃了一整瓶安眠药", "self_harm"),
    # violence: 110
    ("有人正在打人，快来", "violence"),
    ("有人拿刀砍人", "violence"),
    ("家暴正在发生，他在打我", "violence"),
    ("我老公拿着菜刀要杀我", "violence"),
    ("外面有人持刀，已经捅伤两个人", "violence"),
    ("救命！有人闯进我家", "violence"),
    ("一群人在砸门，说要弄死我", "violence"),
    ("他又在打我和孩子", "violence"),
    # fire: 119
    ("着火了！", "fire"),
    ("楼下起火了，好多烟", "fire"),
    ("厨房冒烟了，闻到烧焦味", "fire"),
    ("仓库着伙了快来人", "fire"),
    ("对面楼烧起来了", "fire"),
    ("电动车充电的时候冒黑烟了", "fire"),
    # medical: 120
    ("我爸晕倒了", "medical"),
    ("老人不省人事了", "medical"),
    ("我妈心脏病犯了", "medical"),
    ("孩子抽搐，口吐白沫", "medical"),
    ("他大出血，血流不止", "medical"),
    ("我喘不上气，胸口好疼", "medical"),
    ("奶奶摔倒以后叫不醒", "medical"),
    # danger: 110/119/120
    ("家里煤气泄漏了", "danger"),
    ("天然气味道很大，好像漏气", "danger"),
    ("孩子掉水里了", "danger"),
    ("房子塌了，有人在里面", "danger"),
    ("有人困在电梯里出不来", "danger"),
    ("山上泥石流下来了", "danger"),
    ("有人落水了", "danger"),
    ("煤汽泄露了咋办", "danger"),
    # present: the crisis is still going on, even when the text also complains
    ("村干部开车撞了人，现在人躺在路上流血", "medical"),
    ("书记喝了酒撞了人，快叫救护车", "medical"),
    ("我爸晕倒了，到现在还没醒", "medical"),
    ("有人被困在电梯里，物业到现在还没来", "danger"),
]

NUMBERS = {
    "self_harm": ["12356", "110"],
    "violence": ["110"],
    "fire": ["119"],
    "medical": ["120"],
    "danger": ["110"],
}

NOT_CRISES = [
    "前年出过车祸，保险公司到现在都不理赔",
    "今年七月起工厂天天冒黑烟，找县生态环境局没人管，要求停产整改",
    "我家在楼顶层，楼顶漏水好几年了",
    "去年着过一次火的仓库现在还没修",
    "急死我了，补贴到现在还没发",
    "烦死了，天天被吵",
    "笑死，他们说过两天就办",
    "气死我了，窗口又让我补材料",
    "我想打官司",
    "我在外地打工，工资被拖欠",
    "打电话一直没人接",
    "火车站门口乱停车",
    "楼下火锅店油烟太大",
    "前年这里起火过一次，消防通道到现在还被堵着",
    "万一着火了怎么办，楼道全是杂物",
    "建议加强小区消防安全检查",
    "小区有安全隐患，电线乱拉，要是起火就麻烦了",
    "去年我爸晕倒过一次，医保报销一直没办好",
    "我家老房子以前塌过一角，想申请危房改造",
    "跳楼价甩卖的那家店卖假货",
    "我想死你们了，终于办好了",
    "这事把我累死了",
    "热死了，公交站没有遮阳棚",
    "饿死了，食堂饭菜太差",
    "打听一下低保怎么申请",
    "我打算去法院起诉",
    "打车软件乱收费",
    "吓死我了，差点被电动车撞到",
    "天塌了也得把这事说清楚",
    "我爸有心脏病史，想问慢性病医保",
    "救命钱都被村干部挪用了",
    "感觉身体垮了，看病太贵",
    "轮胎漏气了，修路的石子太多",
    "手机掉河里了，补办身份证要去哪",
    "他之前打过我一次，现在想离婚要抚养费",
    "没有着火，只是邻居家烧烤烟很大",
    "打扫卫生的阿姨工资没发",
    # a completed event recalled as the ground of an accusation
    "副县长那次喝酒开车撞了人，后来也没受处分",
    "村支书酒驾撞伤了人，至今还在当干部",
    "那个老板开车撞了人，到现在还逍遥法外",
    "当时仓库着火烧了我的货，到现在也没人追究",
    "前几天有老人在广场上晕倒，建议多安排几个保安",
]


@pytest.mark.parametrize("text,kind", CRISES)
def test_crisis_is_recognised_with_the_right_numbers(text, kind):
    em = detect_emergency(text)
    assert em is not None, text
    assert em.kind == kind
    for number in NUMBERS[kind]:
        assert number in em.reply


@pytest.mark.parametrize("text", NOT_CRISES)
def test_figures_of_speech_and_past_events_are_not_crises(text):
    assert detect_emergency(text) is None


def test_self_harm_reply_offers_psychological_help_and_emergency_numbers():
    reply = detect_emergency("我真的不想活了").reply
    assert "12356" in reply and "110" in reply and "120" in reply


def test_a_threat_of_self_harm_in_a_grievance_is_still_taken_seriously():
    assert detect_emergency("要是再不给钱，我就从楼上跳下去").kind == "self_harm"


def test_emergency_beats_every_other_route():
    r = classify("拆迁补偿不合理，现在有人拿着棍子在砸我家门", demand="要求依法赔偿")
    assert r.legal_route == "emergency"
    assert "110" in r.explanation
    assert r.confidence == 1.0


def test_emergency_in_the_demand_field_is_found_too():
    assert classify("工资拖欠半年了", demand="不给钱我就喝农药").legal_route == "emergency"


def test_an_accident_told_as_an_accusation_goes_to_discipline_inspection():
    r = classify("乡长酒驾撞伤了人，到如今还在任上")
    assert (r.legal_route, r.kind) == ("discipline_inspection", "accusation")
    # the same accident happening now is an emergency
    assert classify("乡长酒驾撞伤了人，人还躺在地上").legal_route == "emergency"
