"""诉访分离: each matter is sent where it can be decided, and the citizen is told why."""
from pathlib import Path

import pytest
import yaml

from actions.routing import Routing, classify, load_routes

ROUTES = ["petition", "litigation", "arbitration", "labor_arbitration", "admin_reconsideration",
          "political_legal", "discipline_inspection", "consumer_12315", "emergency"]
KINDS = {"suggestion", "accusation", "appeal"}
CATEGORIES = {"land_housing", "labor_social_security", "agriculture_rural", "environment", "health",
              "education", "transport", "civil_affairs", "market_regulation", "public_security_legal",
              "discipline", "enterprise", "other"}

CASES = [
    # petition: public services and the government's own handling
    ("我们街道的公共厕所坏了半年没人修", "请街道尽快维修", "petition"),
    ("建议在社区多设几个老年食堂", "", "petition"),
    ("拆迁补偿标准不透明，拆迁办一直不给解释", "要求公开补偿标准", "petition"),
    ("小区物业不管垃圾清运，楼道里堆满了", "希望街道和住建部门督促物业", "petition"),
    ("夜里工地打桩噪音太大，孩子没法睡觉", "", "petition"),
    ("河边的养猪场粪水直接排进河里", "要求环保部门处理", "petition"),
    ("我申请低保半年了，村里一直没报上去", "", "petition"),
    ("异地就医的医保备案太麻烦，能不能简化", "", "petition"),
    ("孩子转学手续教育局一直不给办", "", "petition"),
    ("公交车改线以后我们村没有车了", "希望恢复原来的线路", "petition"),
    ("工地上几十个农民工的工钱被包工头卷走了", "求政府出面协调发放工资", "petition"),
    ("村里的路一下雨就没法走", "请镇政府修一修", "petition"),
    ("我想提个建议，政务服务中心周六也开放", "", "petition"),
    ("养老金调整后我的没有涨，社保局说不清楚", "请社保部门核实", "petition"),
    ("安置房交房时间一拖再拖", "要求政府兑现承诺", "petition"),
    # litigation: private civil disputes not yet in court
    ("同事借了我两万块钱，一直拖着不还，微信也拉黑了", "", "litigation"),
    ("我想起诉前夫，他不付孩子的抚养费", "", "litigation"),
    ("邻居装修把我家墙打穿了，不肯赔偿", "要求赔偿损失", "litigation"),
    ("父亲去世后兄弟几个为遗产分配闹翻了", "", "litigation"),
    ("房东不退押金，还说我弄坏了家具", "", "litigation"),
    ("朋友找我借钱写了借条，到期不还", "", "litigation"),
    ("我还没起诉，想问问欠钱不还怎么办", "", "litigation"),
    ("他在村里到处诽谤我，我的名誉受到损害", "", "litigation"),
    # political_legal: already in court, police, procuratorate
    ("我已经起诉了，法院立案半年还没开庭", "", "political_legal"),
    ("法院判决生效了，对方就是不履行", "请求强制执行", "political_legal"),
    ("二审判决维持原判，我认为认定事实错误", "要求再审", "political_legal"),
    ("执行法官说对方名下没有财产，案子拖了两年", "", "political_legal"),
    ("我去派出所报案，民警说不归他们管，一直不立案", "", "political_legal"),
    ("我弟弟被刑拘一个月了，家属什么消息都得不到", "", "political_legal"),
    ("检察院对我的控告一直没有答复", "", "political_legal"),
    ("劳动争议的案子法院已经判了，公司还是不给钱", "", "political_legal"),
    # arbitration
    ("我们两家公司签的买卖合同约定由仲裁委员会仲裁，对方违约", "", "arbitration"),
    ("工程承包合同里有仲裁条款，发包方不结工程款", "", "arbitration"),
    ("物流合同约定争议提交仲裁，货物丢了对方不赔", "", "arbitration"),
    ("土地流转合同约定申请仲裁，现在对方不付流转费", "", "arbitration"),
    # labor_arbitration
    ("公司拖欠我三个月工资，我已经离职了", "要求支付工资", "labor_arbitration"),
    ("老板不签劳动合同，还随时让我走人", "", "labor_arbitration"),
    ("我被公司辞退了，没有任何补偿", "要求经济补偿", "labor_arbitration"),
    ("上班时摔伤了腰，单位不给申报工伤", "", "labor_arbitration"),
    ("单位一直没给我交社保", "要求补缴社保", "labor_arbitration"),
    ("天天加班到半夜，加班费一分没有", "", "labor_arbitration"),
    ("试用期被公司无故解雇", "", "labor_arbitration"),
    ("厂里克扣工资，说是管理费", "", "labor_arbitration"),
    # admin_reconsideration
    ("交警罚了我两百块还扣了三分，我没有闯红灯", "要求撤销处罚", "admin_reconsideration"),
    ("市场监管局对我的店罚款三万，我不服", "", "admin_reconsideration"),
    ("城管下了限期拆除通知书，我家的棚子是合法的", "", "admin_reconsideration"),
    ("卫健委对我的申请作出不予许可决定", "请求撤销该决定", "admin_reconsideration"),
    ("我的驾驶证被吊销了，我认为处罚不公", "", "admin_reconsideration"),
    ("县政府的征收决定没有依法公告", "要求撤销征收决定", "admin_reconsideration"),
    ("人社局作出不予认定工伤决定，我不认可", "", "admin_reconsideration"),
    ("公安局对我行政拘留十日，我认为不合理", "", "admin_reconsideration"),
    # discipline_inspection
    ("村干部侵占集体土地收入", "", "discipline_inspection"),
    ("举报镇长收受开发商贿赂", "", "discipline_inspection"),
    ("办事窗口的人吃拿卡要，不送礼就不给办", "", "discipline_inspection"),
    ("村主任贪污扶贫款", "请纪委调查", "discipline_inspection"),
    ("领导经常用公款吃喝", "", "discipline_inspection"),
    ("社区主任把低保名额给了自己亲属", "", "discipline_inspection"),
    ("局长公车私用，节假日开去旅游", "", "discipline_inspection"),
    # consumer_12315
    ("在网店买到假货，商家拒绝退款", "", "consumer_12315"),
    ("美容院的预付卡还剩五千，店突然跑路了", "", "consumer_12315"),
    ("超市卖过期面包", "要求赔偿", "consumer_12315"),
    ("新买的冰箱不制冷，商家不给退货", "", "consumer_12315"),
    ("商家不退款，客服一直推脱", "", "consumer_12315"),
    ("健身会员卡办了不到一个月就关门了", "要求退费", "consumer_12315"),
    # emergency beats everything
    ("法院判了也执行不了，我不想活了", "", "emergency"),
    ("公司欠薪，现在工地着火了", "", "emergency"),
]


@pytest.mark.parametrize("description,demand,route", CASES)
def test_matter_goes_to_the_right_legal_route(description, demand, route):
    assert classify(description, demand).legal_route == route


def test_cases_cover_every_route():
    assert {route for _, _, route in CASES} == set(ROUTES)
    assert len(CASES) >= 60


@pytest.mark.parametrize("description,demand,_route", CASES)
def test_every_routing_is_complete_and_explained(description, demand, _route):
    r = classify(description, demand)
    assert isinstance(r, Routing)
    assert r.kind in KINDS and r.category in CATEGORIES and r.legal_route in ROUTES
    assert 0 < len(r.route_reason) <= 60
    assert r.explanation and 0.0 <= r.confidence <= 1.0


def test_already_sued_goes_to_political_legal_but_wanting_to_sue_is_litigation():
    assert classify("我已经起诉了，对方一直拖着不还钱").legal_route == "political_legal"
    assert classify("他欠钱不还，我想起诉他").legal_route == "litigation"


def test_a_negated_cue_does_not_route():
    assert classify("这不是借钱不还的事，是村里的路灯一直不亮").legal_route == "petition"


def test_mass_wage_arrears_asking_government_is_petition_but_one_worker_is_labour_arbitration():
    assert classify("工地上一百多个农民工被欠工资", "请政府出面协调").legal_route == "petition"
    assert classify("公司欠了我两个月工资").legal_route == "labor_arbitration"


def test_discipline_matters_are_accusations():
    r = classify("村支书挪用集体资金")
    assert (r.kind, r.category) == ("accusation", "discipline")


def test_suggestion_is_recognised_as_suggestion():
    assert classify("建议在公园里多装几个路灯").kind == "suggestion"


def test_labour_and_consumer_routes_fix_their_category():
    assert classify("公司拖欠工资").category == "labor_social_security"
    assert classify("网购买到假货商家不退款").category == "market_regulation"


def test_nothing_recognisable_is_an_ordinary_petition_with_low_confidence():
    r = classify("你好，我想反映个情况")
    assert r.legal_route == "petition" and r.confidence <= 0.5


def test_every_route_explanation_cites_an_article_or_names_a_hotline_and_never_just_refuses():
    book = load_routes()
    for route in ROUTES:
        text = book.explanation(route)
        assert "条" in text or any(p in text for p in ("12315", "110")), route
        assert "不予受理" not in text, route


@pytest.mark.parametrize("route,number", [("consumer_12315", "12315"), ("labor_arbitration", "12333"),
                                          ("emergency", "12356")])
def test_explanations_give_the_relevant_hotline(route, number):
    assert number in load_routes().explanation(route)


def test_route_reasons_fit_the_case_record_for_every_kind_and_category():
    book = load_routes()
    for route in book.routes:
        for kind in book.kind_labels:
            for category in book.category_labels:
                text = book.routes[route].route_reason.format(
                    kind_label=book.kind_labels[kind], category_label=book.category_labels[category])
                assert len(text) <= 60, (route, text)


def test_routes_file_names_exactly_the_contract_routes():
    data = yaml.safe_load((Path("actions/knowledge/routes.yml")).read_text(encoding="utf-8"))
    assert set(data["routes"]) == set(ROUTES)
    assert set(data["categories"]) == CATEGORIES
    assert set(data["kinds"]) == KINDS


def test_routes_file_is_read_once():
    assert load_routes() is load_routes()


# ------------------------------------------------ wording written by other people


def test_traditional_characters_are_read_like_simplified_ones():
    assert classify("我被公司無故辭退了，還拖欠兩個月工資").legal_route == "labor_arbitration"
    assert classify("我要舉報鄉長貪污救災款").legal_route == "discipline_inspection"
    assert classify("樓道裡著火了，煙很大").legal_route == "emergency"


def test_common_typos_are_corrected_before_matching():
    assert classify("小区门口的拉圾站一直没人清运").category == "environment"
    assert classify("判决下来了我不服，要申述").legal_route == "political_legal"


def test_a_word_followed_by_a_place_word_only_says_where_something_is():
    r = classify("法院门口那个路口的红绿灯坏了一个星期")
    assert (r.legal_route, r.category) == ("petition", "transport")
    assert classify("学校旁边的饭馆油烟太大，熏得没法开窗").category == "environment"


def test_a_pure_suggestion_stays_a_petition_even_with_words_of_another_route():
    r = classify("建议市场监管部门加强对农贸市场缺斤短两的检查")
    assert (r.kind, r.legal_route) == ("suggestion", "petition")
    assert classify("建议对乱停车多罚款").legal_route == "petition"
    # asking something for oneself is not a pure suggestion
    assert classify("我建议撤销对我的罚款决定，这个处罚不公").legal_route == "admin_reconsideration"


def test_more_suggestion_wording_is_recognised():
    assert classify("我觉得公园应该多装几把椅子").kind == "suggestion"
    assert classify("咱们社区能不能搞个儿童游乐场").kind == "suggestion"


def test_category_follows_the_subject_not_a_word_said_in_passing():
    assert classify("路口的红绿灯坏了，昨天我送孩子去学校差点被车撞").category == "transport"
    assert classify("我们厂房的审批材料交了三个月，消防、住建来回让补").category == "enterprise"


def test_context_words_alone_do_not_name_a_category():
    assert classify("我在公司上班，想反映一下政务大厅排队太久").category == "other"


def test_a_negated_word_still_names_the_category():
    assert classify("我们这栋楼三年了还没通暖气").category == "land_housing"


def test_a_negation_does_not_reach_across_a_comma():
    assert classify("家里被偷得一分钱都没有，报警了也没人管").legal_route == "political_legal"


def test_misconduct_of_an_office_holder_is_for_discipline_inspection():
    for text in ("副镇长天天迟到早退，办事的群众找不到人",
                 "村里的低保名额给了村长的侄女",
                 "出纳把扶贫资金转到自己卡上了",
                 "我家的补助被村干部领走了"):
        r = classify(text)
        assert (r.legal_route, r.kind, r.category) == ("discipline_inspection", "accusation", "discipline"), text


def test_an_official_merely_mentioned_is_not_an_accusation():
    assert classify("镇长说会解决，但到现在还没有拿出方案").legal_route == "petition"
    assert classify("我的低保被取消了，村干部说我家有车，可那车是我儿子的").legal_route == "petition"


def test_work_injury_and_dismissal_in_plain_words_go_to_labour_arbitration():
    assert classify("我在车间干活的时候手被机器压伤了，厂里只给了两千块").legal_route == "labor_arbitration"
    assert classify("公司不给交五险一金，我想申请劳动仲裁").legal_route == "labor_arbitration"
    assert classify("厂里让我们签自愿放弃社保的承诺书").legal_route == "labor_arbitration"


def test_an_award_or_judgment_not_performed_goes_to_court_enforcement():
    assert classify("劳动仲裁裁决公司支付工资，公司拒不履行").legal_route == "political_legal"
    assert classify("官司打赢了，对方就是不给钱").legal_route == "political_legal"


def test_a_penalty_against_the_citizen_is_for_review_but_asking_for_enforcement_is_a_petition():
    assert classify("城管把我的三轮车收了，还罚了两百").legal_route == "admin_reconsideration"
    r = classify("我家小饭馆被市场监管局罚款五千，说后厨有过期调料，我不服")
    assert r.legal_route == "admin_reconsideration"
    assert classify("对面楼顶私自搭了个彩钢房", "请城管把它拆掉").legal_route == "petition"


def test_compensation_for_land_stays_a_petition_even_for_a_worker():
    assert classify("我在外地工厂打工，老家的地被征了，补偿款到现在没发").legal_route == "petition"


def test_shared_word_lists_are_expanded_in_every_cue():
    book = load_routes()
    cues = [c for r in book.routes.values() for c in r.cues]
    cues += [c for cs in (*book.kind_cues.values(), *book.category_cues.values()) for c in cs]
    assert all("<" + "official>" not in p.pattern and "<employer>" not in p.pattern
               for c in cues for p in c.patterns)


def test_a_relative_alone_is_not_misconduct_of_an_official():
    for text in ("亲戚借了我三万块，到期一直不还", "我亲属的医保报销一直没办下来", "亲戚家的房子漏水把我家淹了"):
        assert classify(text).legal_route != "discipline_inspection", text
    assert classify("亲戚借了我三万块，到期一直不还").legal_route == "litigation"


def test_public_benefits_steered_to_relatives_or_acquaintances_are_for_discipline_inspection():
    for text in ("村会计把危房改造名额报给了自家亲戚", "救助款全给了关系户，真正困难的没有",
                 "村里评贫困户全是熟人"):
        r = classify(text)
        assert (r.legal_route, r.kind) == ("discipline_inspection", "accusation"), text


def test_a_platform_taking_money_from_its_user_is_a_consumer_matter():
    for text in ("打车平台无故扣了我的钱", "外卖软件自动续费乱扣钱", "叫车的时候平台多收了我二十块"):
        assert classify(text).legal_route == "consumer_12315", text


def test_a_platform_deducting_a_workers_money_is_a_labour_matter():
    for text in ("我在平台上跑外卖，平台动不动就扣钱", "我是网约车司机，平台扣了我的提成",
                 "我给他干了三个月，走的时候乱扣钱"):
        assert classify(text).legal_route == "labor_arbitration", text


def test_a_company_that_took_the_money_and_left_the_work_undone_is_no_corruption_case():
    # Mrs Fang's renovation firm: no official, no public power
    assert classify("装修公司收了钱活没干完就不来了").legal_route != "discipline_inspection"
    assert classify("村主任收了钱才给他家办低保").legal_route == "discipline_inspection"
