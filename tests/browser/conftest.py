"""Fixtures for the web chat page in a real browser.

Headless Debian ``chromium`` driven by Selenium through ``/usr/bin/chromedriver``
(``scripts/install-browser.sh`` installs both). Two servers host the page:

- ``scripted_chat``: the real ``WebChatInput`` channel in a small Sanic app whose
  "agent" answers from a script (fast; no model), with a fake backend
  notifications route beside it;
- ``rasa_chat``: ``rasa run`` with the trained model, the webchat channel and the
  running stack of ``tests/support/stack.py`` (files real cases).

Without chromium the browser tests skip with a loud reason, except under
``CI=true`` where they fail.
"""
from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from bot.paths import ROOT
from tests.support.fixtures import backend, model_path, stack  # noqa: F401  (shared fixtures)
from tests.support.stack import free_port, rasa_server, wait_for_http

CHROMIUM = Path(os.environ.get("XF_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("XF_CHROMEDRIVER", "/usr/bin/chromedriver"))
ARTIFACTS = ROOT / "tests" / "artifacts"
IN_CI = os.environ.get("CI", "").lower() == "true"
#: reasons browser tests were skipped, repeated loudly at the end of the run
NOT_RUN: set[str] = set()

#: what the scripted bot says to particular messages
SCRIPTED_CASE_ID = "XF20261126-7K3P9Q"
SCRIPTED_QUERY_CODE = "AB12CD"
HOSTILE_TEXT = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
NOTIFICATION_TEXT = "您反映的事项已受理，承办单位：区城市管理局。<b>请留意</b>"


def _missing(reason: str) -> None:
    """Skip loudly, or fail under CI=true."""
    message = f"BROWSER TESTS NOT RUN: {reason}. Run scripts/install-browser.sh."
    if IN_CI:
        pytest.fail(message)
    NOT_RUN.add(message)
    pytest.skip(message)


@pytest.fixture(scope="session")
def browser_available() -> None:
    """Chromium, chromedriver and selenium are all present."""
    for path in (CHROMIUM, CHROMEDRIVER):
        if not (path.exists() and os.access(path, os.X_OK)):
            _missing(f"{path} is not installed")
    try:
        import selenium  # noqa: F401
    except ImportError:
        _missing("selenium is not installed in the bot environment (requirements/bot.txt)")


def _driver(user_data: Path, *, phone: bool):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={user_data}", "--lang=zh-CN",
    ):
        options.add_argument(flag)
    if phone:
        options.add_experimental_option(
            "mobileEmulation",
            {
                "deviceMetrics": {"width": 390, "height": 844, "pixelRatio": 2, "touch": True},
                "userAgent": (
                    "Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 "
                    "(KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36"
                ),
            },
        )
    else:
        options.add_argument("--window-size=1280,900")
    service = Service(executable_path=str(CHROMEDRIVER))
    driver = webdriver.Chrome(service=service, options=options)
    driver.set_page_load_timeout(30)
    return driver


@pytest.fixture
def make_browser(browser_available, tmp_path):
    """``make_browser(phone=False)`` starts a headless chromium with its own profile."""
    drivers = []

    def make(*, phone: bool = False):
        driver = _driver(Path(tempfile.mkdtemp(dir=tmp_path, prefix="profile-")), phone=phone)
        drivers.append(driver)
        return driver

    yield make
    for driver in drivers:
        driver.quit()


@pytest.fixture
def browser(make_browser):
    """A desktop-sized headless chromium."""
    return make_browser()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """tests/artifacts/ (gitignored), for screenshots."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


# ---------------------------------------------------------------------------
# The scripted bot: the real channel, a scripted agent, a fake backend route


def serve_scripted_bot(port: int) -> None:
    """Runs the webchat channel on ``port`` with a scripted agent (a subprocess)."""
    from sanic import Sanic, response

    from rasa.core.channels.channel import register
    from rasa.shared.core.events import BotUttered, UserUttered

    from channels.webchat import WebChatInput

    class Tracker:
        def __init__(self) -> None:
            self.events = []

    class TrackerStore:
        def __init__(self) -> None:
            self.trackers = {}

        async def retrieve(self, sender_id):
            return self.trackers.get(sender_id)

    class ScriptedAgent:
        """Answers like the assistant would, from a fixed script."""

        def __init__(self) -> None:
            self.tracker_store = TrackerStore()

        async def handle_message(self, message) -> None:
            await asyncio.sleep(0.8)  # long enough to see "正在输入…"
            text = message.text
            if text == "让系统出错":
                raise RuntimeError("the assistant is down")
            if text == "登记":
                answer = {
                    "text": (
                        f"您的信访事项已登记。\n事项编号：{SCRIPTED_CASE_ID}\n"
                        f"查询码：{SCRIPTED_QUERY_CODE}\n请妥善保存编号和查询码。"
                    )
                }
            elif text == "说点危险的":
                answer = {"text": HOSTILE_TEXT + "\n第二行"}
            else:
                answer = {
                    "text": f"收到：{text}",
                    "buttons": [
                        {"title": "确认提交", "payload": "/affirm"},
                        {"title": "需要修改", "payload": "/deny"},
                    ],
                }
            tracker = self.tracker_store.trackers.setdefault(message.sender_id, Tracker())
            tracker.events.append(UserUttered(text, metadata=message.metadata))
            data = {"buttons": answer.get("buttons")}
            tracker.events.append(BotUttered(answer["text"], data=data))
            if answer.get("buttons"):
                await message.output_channel.send_text_with_buttons(
                    message.sender_id, answer["text"], answer["buttons"]
                )
            else:
                await message.output_channel.send_text_message(message.sender_id, answer["text"])

    app = Sanic("scripted_webchat")
    app.ctx.agent = ScriptedAgent()
    register([WebChatInput(backend_url=f"http://127.0.0.1:{port}")], app, route="/webhooks/")

    @app.get("/health")
    async def health(request):
        return response.text("ok")

    @app.get("/api/v1/notifications")
    async def notifications(request):
        # the page's sessions ("wc-…") have one notification; anyone else: 404
        user = request.args.get("user", "")
        if request.args.get("channel") != "webchat" or not user.startswith("wc-"):
            return response.json({"detail": "not found"}, status=404)
        return response.json(
            [{"id": "n-1", "case_id": SCRIPTED_CASE_ID, "text": NOTIFICATION_TEXT,
              "created_at": "2026-11-27T10:00:00+08:00"}]
        )

    app.run(host="127.0.0.1", port=port, access_log=False)


@pytest.fixture(scope="session")
def scripted_chat(tmp_path_factory) -> str:
    """URL of the web chat page, answered by the scripted bot."""
    port = free_port()
    log = tmp_path_factory.mktemp("scripted") / "server.log"
    code = f"from tests.browser.conftest import serve_scripted_bot; serve_scripted_bot({port})"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [sys.executable, "-c", code], cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            wait_for_http(f"http://127.0.0.1:{port}/health", timeout_s=60, process=server)
            yield f"http://127.0.0.1:{port}/webhooks/webchat/"
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()


# ---------------------------------------------------------------------------
# The real assistant: rasa run with the trained model and the running stack


@pytest.fixture(scope="session")
def rasa_chat(model_path, stack, tmp_path_factory) -> str:
    """URL of the web chat page served by `rasa run` with the trained model."""
    var = tmp_path_factory.mktemp("webchat-rasa")
    credentials = "rest:\nchannels.webchat.WebChatInput:\n"
    with rasa_server(model_path, stack, var, credentials=credentials, ready_path="/webhooks/webchat/") as server:
        yield server.url + "/webhooks/webchat/"


def pytest_terminal_summary(terminalreporter):
    """Says loudly that the page was not tested in a browser."""
    for reason in sorted(NOT_RUN):
        terminalreporter.write_line("!" * 72, red=True, bold=True)
        terminalreporter.write_line(f"!! {reason}", red=True, bold=True)
        terminalreporter.write_line("!" * 72, red=True, bold=True)
