"""In order to petition from my phone or computer without installing anything
As a citizen using the web chat page in an ordinary browser
I want a plain Chinese page I can use with the keyboard or my thumb, that keeps
my conversation, shows my case number and query code plainly, and tells me
what happened to my case when I come back.

Everything here runs in headless chromium (see conftest.py).
"""
from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.browser.conftest import (
    HOSTILE_TEXT,
    NOTIFICATION_TEXT,
    SCRIPTED_CASE_ID,
    SCRIPTED_QUERY_CODE,
)
from tests.support.forms import SUMMARY_CUE, asked_slot

STATIC = Path(__file__).resolve().parents[2] / "channels" / "webchat_static"
REPLY_TIMEOUT_S = 60
FITS_THE_SCREEN = "return document.documentElement.scrollWidth <= window.innerWidth"


class ChatPage:
    """The web chat page as a citizen sees and uses it."""

    def __init__(self, driver, url: str) -> None:
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.url, self.By = driver, url, By
        self.wait = lambda timeout=REPLY_TIMEOUT_S: WebDriverWait(driver, timeout)

    def open(self) -> "ChatPage":
        self.driver.get(self.url)
        self.wait(15).until(lambda d: self.bot_texts())
        return self

    def reload(self) -> None:
        self.driver.refresh()
        self.wait(15).until(lambda d: self.bot_texts())

    def find(self, css: str):
        return self.driver.find_elements(self.By.CSS_SELECTOR, css)

    @property
    def input(self):
        return self.driver.find_element(self.By.ID, "input")

    def bot_texts(self) -> list[str]:
        return [e.text for e in self.find(".row-bot .bubble-text")]

    def user_texts(self) -> list[str]:
        return [e.text for e in self.find(".row-user .bubble-text")]

    def quick_replies(self) -> list[str]:
        return [e.text for e in self.find("#quick .quick-reply")]

    def typing_shown(self) -> bool:
        return self.driver.find_element(self.By.ID, "typing").is_displayed()

    def _await_reply(self, before: int) -> str:
        self.wait().until(lambda d: not self.typing_shown() and len(self.bot_texts()) > before)
        return "\n".join(self.bot_texts()[before:])

    def type(self, text: str) -> str:
        """Types ``text``, presses Enter and returns the assistant's reply."""
        from selenium.webdriver.common.keys import Keys

        before = len(self.bot_texts())
        self.input.send_keys(text)
        self.input.send_keys(Keys.ENTER)
        return self._await_reply(before)

    def click(self, title: str) -> str:
        """Clicks the quick-reply button ``title`` and returns the reply."""
        buttons = [b for b in self.find("#quick .quick-reply") if b.text == title]
        assert buttons, f"no button {title!r} among {self.quick_replies()}"
        before = len(self.bot_texts())
        buttons[0].click()
        return self._await_reply(before)

    def session_id(self) -> str:
        return self.driver.execute_script("return localStorage.getItem('xf-webchat-session')")


def post_json(url: str, body: dict) -> tuple[int, object]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


# ---------------------------------------------------------------------------
# The page itself, with the scripted assistant


def test_the_page_is_chinese_phone_ready_and_loads_nothing_from_elsewhere(browser, scripted_chat):
    page = ChatPage(browser, scripted_chat).open()
    assert browser.execute_script("return document.documentElement.lang") == "zh-CN"
    viewport = browser.execute_script(
        "return document.querySelector('meta[name=viewport]').content"
    )
    assert "width=device-width" in viewport
    assert "信访" in browser.title
    assert "隐私说明" in page.find("#privacy summary")[0].text
    origin = scripted_chat.split("/webhooks/")[0]
    resources = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert resources and all(name.startswith(origin) for name in resources), resources
    for name in ("index.html", "app.js", "style.css"):
        source = (STATIC / name).read_text(encoding="utf-8")
        assert not re.search(r"https?://|//[a-z0-9.-]+\.[a-z]{2,}/|@import|url\(", source), name
        assert "innerHTML" not in source and "insertAdjacentHTML" not in source, name


def test_a_citizen_sees_the_assistant_typing_and_answers_with_the_keyboard(browser, scripted_chat):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    page = ChatPage(browser, scripted_chat).open()
    page.input.send_keys("你好")
    page.input.send_keys(Keys.ENTER)
    page.wait(5).until(lambda d: page.typing_shown())
    assert "正在输入" in browser.find_element(page.By.ID, "typing").text
    page.wait().until(lambda d: "收到：你好" in page.bot_texts())
    assert page.user_texts() == ["你好"]
    assert page.input.get_attribute("value") == ""
    assert browser.switch_to.active_element == page.input

    # the quick replies sit just before the input: Shift+Tab reaches them
    assert page.quick_replies() == ["确认提交", "需要修改"]
    backwards = ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.TAB, Keys.TAB)
    backwards.key_up(Keys.SHIFT).perform()
    assert browser.switch_to.active_element.text == "确认提交"
    before = len(page.bot_texts())
    ActionChains(browser).send_keys(Keys.ENTER).perform()
    reply = page._await_reply(before)

    assert page.user_texts()[-1] == "确认提交"  # the citizen sees the title ...
    assert reply == "收到：/affirm"  # ... the assistant receives the payload
    assert browser.switch_to.active_element == page.input


def test_text_from_the_assistant_is_shown_as_text_and_never_run(browser, scripted_chat):
    page = ChatPage(browser, scripted_chat).open()
    reply = page.type("说点危险的")
    assert reply.splitlines() == [HOSTILE_TEXT, "第二行"]
    assert browser.execute_script("return window.__pwned === undefined")
    assert not page.find("#log script") and not page.find("#log img")
    assert len(page.find(".row-bot:last-child .bubble-text br")) == 1  # newline -> line break


def test_a_filed_case_shows_its_number_and_query_code_on_a_card(browser, scripted_chat):
    page = ChatPage(browser, scripted_chat).open()
    page.type("登记")
    card = page.find(".case-card")
    assert len(card) == 1 and card[0].is_displayed()
    assert page.find(".case-card .case-id")[0].text == SCRIPTED_CASE_ID
    assert page.find(".case-card .query-code")[0].text == SCRIPTED_QUERY_CODE
    assert "请截图或抄下保存" in card[0].text


def test_the_conversation_is_still_there_after_a_reload(browser, scripted_chat):
    page = ChatPage(browser, scripted_chat).open()
    session = page.session_id()
    page.type("你好")
    page.type("登记")
    shown = page.bot_texts()

    page.reload()

    assert page.session_id() == session
    kept = browser.execute_script(
        "return JSON.parse(localStorage.getItem('xf-webchat-transcript'))"
    )
    assert [entry["text"] for entry in kept if entry["from"] == "user"] == ["你好", "登记"]
    assert page.user_texts() == ["你好", "登记"]
    assert page.bot_texts() == shown
    assert page.find(".case-card .case-id")[0].text == SCRIPTED_CASE_ID
    assert page.type("我回来了") == "收到：我回来了"


def test_a_conversation_kept_only_on_the_server_is_restored(browser, scripted_chat):
    page = ChatPage(browser, scripted_chat).open()
    page.type("你好")
    page.click("需要修改")
    browser.execute_script("localStorage.removeItem('xf-webchat-transcript')")

    page.reload()

    assert page.user_texts() == ["你好", "需要修改"]  # the button's title, not "/deny"
    assert "收到：/deny" in page.bot_texts()


def test_a_returning_citizen_sees_status_notifications_once(browser, scripted_chat):
    page = ChatPage(browser, scripted_chat).open()
    page.wait(15).until(lambda d: page.find(".notice"))
    notice = page.find(".notice")[0].text
    assert NOTIFICATION_TEXT in notice  # markup in it shown as text
    assert SCRIPTED_CASE_ID in notice
    assert not page.find(".notice b")

    page.reload()
    page.type("你好")  # give a second poll time to happen
    assert len(page.find(".notice")) == 1


def test_a_message_that_could_not_be_answered_is_kept_for_sending_again(browser, scripted_chat):
    from selenium.webdriver.common.keys import Keys

    page = ChatPage(browser, scripted_chat).open()
    page.input.send_keys("让系统出错", Keys.ENTER)
    page.wait(15).until(lambda d: page.find(".system-message"))
    assert "没有发送成功" in page.find(".system-message")[0].text
    assert page.user_texts() == []
    assert page.input.get_attribute("value") == "让系统出错"
    assert not page.typing_shown()


def test_the_channel_refuses_what_the_page_never_sends(scripted_chat):
    message = scripted_chat + "message"
    assert post_json(message, {"session_id": "x", "message": "你好"})[0] == 400
    assert post_json(message, {"session_id": "wc-" + "0" * 32, "message": "  "})[0] == 400
    assert post_json(message, {"session_id": "wc-" + "0" * 32, "message": "长" * 2001})[0] == 413
    status, answer = post_json(message, {"session_id": "wc-" + "1" * 32, "message": "你好"})
    assert status == 200 and answer[0]["text"] == "收到：你好"
    assert answer[0]["buttons"][0] == {"title": "确认提交", "payload": "/affirm"}
    # the backend has no notifications for this session (404): the page gets []
    elsewhere = scripted_chat + "notifications?session_id=other-session-0000"
    with urllib.request.urlopen(elsewhere, timeout=10) as answer:
        assert json.loads(answer.read()) == []


# ---------------------------------------------------------------------------
# The real assistant: filing a case from a phone

ZHOU = {
    "description": "我们小区旁边的工地每天夜里施工到凌晨两点，噪音特别大，老人孩子都睡不好觉",
    "respondent": "宏达建筑公司",
    "occurred": "上个月开始",
    "location": "幸福路和建设街交叉口的工地",
    "demand": "希望夜间停止施工",
    "petitioner_name": "周敏",
    "phone": "13912345678",
    "address": "幸福路阳光小区2号楼",
}


@pytest.mark.needs_model
def test_zhou_files_a_case_on_her_phone_and_keeps_the_numbers(
    make_browser, rasa_chat, backend, artifacts
):
    browser = make_browser(phone=True)
    page = ChatPage(browser, rasa_chat).open()
    assert browser.execute_script(FITS_THE_SCREEN)

    answer = page.click("我要反映问题")
    for _ in range(14):
        if SUMMARY_CUE in answer:
            break
        slot = asked_slot(answer)
        assert slot is not None, f"unexpected question: {answer!r}"
        if slot == "id_number":
            answer = page.click("不提供")
        else:
            answer = page.type(ZHOU[slot])
    assert SUMMARY_CUE in answer, answer
    assert set(page.quick_replies()) >= {"确认提交", "需要修改", "取消登记"}

    page.click("确认提交")
    page.wait(30).until(lambda d: page.find(".case-card"))
    case_id = page.find(".case-card .case-id")[0].text
    query_code = page.find(".case-card .query-code")[0].text
    assert re.fullmatch(r"XF\d{8}-[0-9A-Z]{6}", case_id)
    assert re.fullmatch(r"[0-9A-Z]{6}", query_code)
    browser.save_screenshot(str(artifacts / "webchat-phone-case-filed.png"))

    case = backend.wait_for_case(case_id)
    assert case["petitioner"]["name"] == "周敏"
    assert case["petitioner"]["phone"] == "13912345678"
    assert case["channel"] == "webchat"
    assert case["channel_user"] == page.session_id()
    assert "噪音" in case["description"]

    page.reload()
    assert page.find(".case-card .case-id")[0].text == case_id
    assert browser.execute_script(FITS_THE_SCREEN)

    # with nothing kept in the browser, the assistant's own record restores it
    browser.execute_script("localStorage.removeItem('xf-webchat-transcript')")
    page.reload()
    page.wait(15).until(lambda d: page.find(".case-card"))
    assert page.find(".case-card .case-id")[0].text == case_id
    assert {"不提供", "确认提交"} <= set(page.user_texts())
