"""Channel speed, printed as a markdown table (``python -m tests.bench.channels_bench``, bot Python).

Measures on this machine, in one run:

- WeChat: round-trip latency p50/p95/p99 of signed, AES-encrypted ("safe" mode)
  callbacks through a real ``rasa run`` server with the WeChat channel, backed by
  the real action server and backend (``tests.support.stack``). The WeChat API is
  :class:`tests.channels.fake_wechat.FakeWeChatAPI` (``XF_WECHAT_API_BASE``), so
  answers that miss the reply budget arrive as customer-service messages; those are
  counted and timed until the first piece reaches the fake API. Each simulated
  citizen has its own openid and MsgIds and files a short case (greeting, "I want
  to report a problem", then answers each question the form asks, then "1" to
  confirm). One citizen at a time, then 32 at once.
- The same conversations in process (``Agent.handle_text``), for comparison.
- Hotline: transcripts per second of ``ingest`` (query-code hashing, embedded queue
  in a temporary ``XF_VAR_DIR``) and ``extract`` over copies of
  ``tests/data/transcripts`` with distinct call ids, in process and as the
  ``xinfang hotline ingest`` command; plus the cost of one query-code hash.

Nothing is asserted; numbers go into the README by hand. ``XF_BENCH_WECHAT_ROUNDS``
(default 3) sets the one-citizen conversations, ``XF_BENCH_WECHAT_USERS`` (default 32)
the concurrent citizens, ``XF_BENCH_HOTLINE_COPIES`` (default 4) the transcript copies.
"""
from __future__ import annotations

import asyncio
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from bot.paths import RASA, ROOT, latest_model
from tests.support.stack import free_port, running_stack, stack_environment, wait_for_http

TOKEN = "xinfang-bench-token"
APPID = "wx0123456789abcdef"
SECRET = "bench-app-secret"
#: WeChat gives up on a callback after 5 s; the channel's budget is 4 s
PASSIVE_LIMIT_S = 4.5
TRANSCRIPTS = ROOT / "tests" / "data" / "transcripts"
XINFANG = ROOT / ".venv" / "bin" / "xinfang"

#: what the simulated citizens answer, one variant per citizen (round robin)
CITIZENS = [
    {
        "description": "小区门口的路灯坏了两个多月了，晚上很黑，已经有两位老人摔倒了",
        "respondent": "区城市管理局",
        "occurred": "两个月前",
        "location": "春华路小区东门",
        "demand": "希望尽快修好路灯",
        "petitioner_name": "高磊",
        "address": "春华路小区4号楼",
    },
    {
        "description": "我们小区旁边的工地每天晚上十一点以后还在施工，噪音很大，孩子和老人都睡不好",
        "respondent": "区住房和城乡建设局",
        "occurred": "上个月开始",
        "location": "朝阳路幸福里小区东侧工地",
        "demand": "要求工地夜间停止施工",
        "petitioner_name": "周敏",
        "address": "朝阳路幸福里小区3号楼",
    },
    {
        "description": "包工头拖欠我们十二个工人的工资，从三月干到八月，一共三十多万元，现在电话也不接",
        "respondent": "宏基建筑工程有限公司",
        "occurred": "今年八月",
        "location": "城南新区锦绣华庭工地",
        "demand": "要求尽快支付拖欠的工资",
        "petitioner_name": "张德胜",
        "address": "城南新区安置小区2号楼",
    },
    {
        "description": "村里的自来水已经停了一个星期，一直没有人来修，村民只能去很远的地方挑水",
        "respondent": "县水务局",
        "occurred": "上周一",
        "location": "青石镇桃源村",
        "demand": "希望尽快恢复供水",
        "petitioner_name": "李秀英",
        "address": "青石镇桃源村三组二十号",
    },
]
CONFIRM = "1"  # the first button of the summary: 确认提交
MAX_FORM_TURNS = 14


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0–100, nearest rank) of ``samples`` in seconds, in milliseconds."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index] * 1000


def spread(samples: list[float]) -> str:
    """``p50 / p95 / p99 ms (n)``."""
    return (f"{percentile(samples, 50):.0f} / {percentile(samples, 95):.0f} / "
            f"{percentile(samples, 99):.0f} ms (n={len(samples)})")


# -- the conversation ---------------------------------------------------------


class Conversation:
    """A citizen filing a case: says what comes next, given the assistant's last answer."""

    def __init__(self, index: int) -> None:
        from tests.support.forms import QUESTION_CUES, SUMMARY_CUE

        self.cues, self.summary_cue = QUESTION_CUES, SUMMARY_CUE
        self.replies = {
            **CITIZENS[index % len(CITIZENS)],
            "phone": f"139{index:08d}",
            "id_number": "不提供",
        }
        self.opening = ["你好", "我要反映问题"]
        self.form_turns = 0
        self.confirmed = False
        self.filed = False
        self.stuck: Optional[str] = None

    def next(self, answer: Optional[str]) -> Optional[str]:
        """The next message, or None when the conversation is over."""
        from tests.support.citizen import CASE_ID

        if self.opening:
            return self.opening.pop(0)
        answer = answer or ""
        if self.confirmed:
            self.filed = bool(CASE_ID.search(answer))
            return None
        if self.summary_cue in answer:
            self.confirmed = True
            return CONFIRM
        slot = next((slot for cue, slot in self.cues.items() if cue in answer), None)
        if slot is None or self.form_turns >= MAX_FORM_TURNS:
            self.stuck = answer[:80]
            return None
        self.form_turns += 1
        return self.replies[slot]


# -- WeChat through a rasa server -----------------------------------------------------


@dataclass
class Turn:
    """One message a citizen sent over WeChat."""

    http_s: float  # until the webhook answered
    answer_s: float  # until the citizen had the answer (passive reply or first pushed message)
    passive: bool  # answered in the HTTP response (not "success")


@dataclass
class WeChatRun:
    """The turns of one phase, and how the conversations ended."""

    turns: list[Turn] = field(default_factory=list)
    conversations: int = 0
    filed: int = 0
    stuck: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    wall_s: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class WeChatCitizen:
    """One openid on the official account, posting signed and encrypted callbacks."""

    def __init__(self, url: str, fake, aes_key: str, openid: str, first_msg_id: int) -> None:
        from tests.channels.fake_wechat import WeChatCallbacks

        self.url, self.fake, self.openid = url, fake, openid
        self.wechat = WeChatCallbacks(TOKEN, APPID, aes_key, mode="safe", _msg_ids=[first_msg_id])
        self.pushed = 0

    def send(self, text: str) -> tuple[str, Turn]:
        """Sends ``text``; returns the answer the citizen sees and the timings."""
        callback = self.wechat.callback(self.wechat.text(self.openid, text))
        request = urllib.request.Request(
            self.url + "?" + urllib.parse.urlencode(callback.query), data=callback.body,
            headers={"Content-Type": "text/xml"},
        )
        started = time.perf_counter()
        with urllib.request.urlopen(request, timeout=60) as response:
            body = response.read().decode("utf-8")
        http_s = time.perf_counter() - started
        reply = self.wechat.read_reply(body)
        if reply is not None:
            return reply["Content"], Turn(http_s, http_s, True)
        # "success": the answer follows as customer-service message(s)
        self.fake.wait_for_texts(self.openid, self.pushed + 1, timeout_s=90)
        answer_s = time.perf_counter() - started
        count = len(self.fake.texts_to(self.openid))
        while True:  # the pieces of a long answer arrive one after another
            time.sleep(0.3)
            texts = self.fake.texts_to(self.openid)
            if len(texts) == count:
                break
            count = len(texts)
        answer = "\n".join(texts[self.pushed:])
        self.pushed = len(texts)
        return answer, Turn(http_s, answer_s, False)


def wechat_conversations(citizen: WeChatCitizen, first: int, count: int, run: WeChatRun,
                         start: Optional[threading.Barrier] = None) -> None:
    """Runs ``count`` conversations for one citizen (one openid each), recording every turn."""
    if start is not None:
        start.wait()
    for n in range(count):
        conversation = Conversation(first + n)
        citizen.openid = f"{citizen.openid.rsplit('-', 1)[0]}-{n}"
        citizen.pushed = 0
        answer: Optional[str] = None
        try:
            while (text := conversation.next(answer)) is not None:
                answer, turn = citizen.send(text)
                with run.lock:
                    run.turns.append(turn)
        except Exception as error:  # noqa: BLE001 - a bench reports, it does not stop
            with run.lock:
                run.errors.append(f"{type(error).__name__}: {error}")
        with run.lock:
            run.conversations += 1
            run.filed += conversation.filed
            if conversation.stuck is not None:
                run.stuck.append(conversation.stuck)


def run_wechat_phase(url: str, fake, aes_key: str, tag: str, users: int, rounds: int, msg_base: int) -> WeChatRun:
    """``users`` citizens at once, ``rounds`` conversations each."""
    run = WeChatRun()
    barrier = threading.Barrier(users)
    threads = [
        threading.Thread(
            target=wechat_conversations,
            args=(WeChatCitizen(url, fake, aes_key, f"oBench{tag}u{i:03d}-0", msg_base + i * 100_000),
                  i * rounds, rounds, run, barrier),
            daemon=True,
        )
        for i in range(users)
    ]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=600)
    run.wall_s = time.perf_counter() - started
    return run


# -- in process -----------------------------------------------------------------


async def in_process_conversations(agent, tag: str, first: int, count: int) -> tuple[list[float], int, int]:
    """The same conversations through ``Agent.handle_text``; (turn seconds, conversations, filed)."""
    from channels.wechat import render_messages

    samples: list[float] = []
    filed = 0
    for n in range(count):
        conversation = Conversation(first + n)
        sender = f"inproc-{tag}-{first + n}"
        buttons: list[dict] = []
        answer: Optional[str] = None
        while (text := conversation.next(answer)) is not None:
            if text.isdigit() and 1 <= int(text) <= len(buttons):  # as the channel maps a number
                text = buttons[int(text) - 1]["payload"]
            started = time.perf_counter()
            messages = await agent.handle_text(text, sender_id=sender)
            samples.append(time.perf_counter() - started)
            answer, buttons = render_messages(messages or [])
        filed += conversation.filed
    return samples, count, filed


# -- hotline ----------------------------------------------------------------------


def copy_transcripts(target: Path, copies: int) -> int:
    """``copies`` copies of every transcript with distinct call ids; returns the file count."""
    from channels.transcripts import decode_bytes

    target.mkdir(parents=True, exist_ok=True)
    count = 0
    sources = sorted(p for p in TRANSCRIPTS.iterdir() if p.suffix in (".json", ".txt"))
    for copy in range(copies):
        for path in sources:
            call_id = f"BENCH-{copy:02d}-{path.stem}"
            data = path.read_bytes()
            if path.suffix == ".json":
                transcript = json.loads(decode_bytes(data, str(path)))
                transcript["call_id"] = call_id
                out = json.dumps(transcript, ensure_ascii=False, indent=1).encode("utf-8")
            else:
                # keep each file's encoding (GBK, UTF-8 with BOM) and add a header line
                encoding = "utf-8-sig" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
                try:
                    data.decode(encoding)
                except UnicodeDecodeError:
                    encoding = "gb18030"
                out = (f"通话编号：{call_id}\n" + data.decode(encoding).lstrip("\ufeff")).encode(encoding)
            (target / f"{copy:02d}_{path.name}").write_bytes(out)
            count += 1
    return count


def hotline_numbers(tmp: Path, copies: int) -> dict[str, str]:
    """Ingest and extract throughput over copied transcripts, and the hashing share."""
    from actions.ids import hash_query_code
    from channels.hotline_cli import extract, ingest

    folder = tmp / "transcripts"
    files = copy_transcripts(folder, copies)
    results: dict[str, str] = {}
    saved = {key: os.environ.get(key) for key in ("XF_VAR_DIR", "XF_REDIS_URL", "XF_HOTLINE_SECRET")}
    try:
        os.environ["XF_VAR_DIR"] = str(tmp / "var-inproc")
        os.environ.pop("XF_REDIS_URL", None)
        os.environ.pop("XF_HOTLINE_SECRET", None)

        out, err = io.StringIO(), io.StringIO()
        started = time.perf_counter()
        code = extract([str(folder)], out=out, err=err)
        extract_s = time.perf_counter() - started
        drafts = len(out.getvalue().splitlines())
        results["hotline `extract` in process"] = (
            f"{drafts / extract_s:.0f} transcripts/s ({drafts} of {files} files, {extract_s:.1f} s, exit {code})"
        )

        out, err = io.StringIO(), io.StringIO()
        started = time.perf_counter()
        code = ingest([str(folder)], as_json=True, progress=False, out=out, err=err)
        ingest_s = time.perf_counter() - started
        reports = [json.loads(line) for line in out.getvalue().splitlines()]
        queued = sum(1 for report in reports if report.get("ok"))
        distinct = len({report.get("case_id") for report in reports if report.get("ok")})
        results["hotline `ingest` in process (embedded queue)"] = (
            f"{queued / ingest_s:.0f} transcripts/s ({queued} of {files} files queued, {distinct} distinct cases, "
            f"{ingest_s:.1f} s, exit {code})"
        )

        # where an ingested transcript's time goes
        draft_s = extract_s / max(drafts, 1)
        started = time.perf_counter()
        for n in range(20):
            hash_query_code(f"Q{n:05d}")
        hash_s = (time.perf_counter() - started) / 20
        per_file_s = ingest_s / max(queued, 1)
        results["hotline per file: ingest / extract (parse + draft) / query-code hash"] = (
            f"{per_file_s * 1000:.1f} / {draft_s * 1000:.1f} / {hash_s * 1000:.1f} ms "
            f"(hash = {hash_s / per_file_s:.0%} of ingest; PBKDF2-SHA256, 100 000 iterations)"
        )
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value

    env = {**os.environ, "PYTHONPATH": str(ROOT), "XF_VAR_DIR": str(tmp / "var-cli")}
    env.pop("XF_REDIS_URL", None)
    env.pop("XF_HOTLINE_SECRET", None)
    command = [str(XINFANG), "hotline", "ingest", str(folder), "--no-progress"]
    if not XINFANG.exists():
        command = [sys.executable, "-m", "channels.hotline_cli", "ingest", str(folder), "--no-progress"]
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    cli_s = time.perf_counter() - started
    lines = sum(1 for line in done.stdout.splitlines() if "查询码" in line)
    results["hotline `xinfang hotline ingest` command"] = (
        f"{lines / cli_s:.0f} transcripts/s ({lines} of {files} files, {cli_s:.1f} s incl. start-up, "
        f"exit {done.returncode})"
    )
    return results


# -- the run ------------------------------------------------------------------------


def wechat_rows(name: str, run: WeChatRun) -> dict[str, str]:
    """Table rows of one WeChat phase."""
    turns = run.turns
    in_time = [t for t in turns if t.passive and t.http_s <= PASSIVE_LIMIT_S]
    late = [t for t in turns if t.passive and t.http_s > PASSIVE_LIMIT_S]
    pushed = [t for t in turns if not t.passive]
    over_5s = [t for t in turns if t.http_s > 5.0]
    rows = {
        f"WeChat {name}: webhook round trip p50 / p95 / p99": spread([t.http_s for t in turns]),
        f"WeChat {name}: answered passively within {PASSIVE_LIMIT_S} s": (
            f"**{len(in_time) / max(len(turns), 1):.0%}** ({len(in_time)} of {len(turns)}); "
            f"passive but later: {len(late)}; `success` + customer-service message: {len(pushed)}; "
            f"HTTP answer after 5 s (WeChat would give up and retry): {len(over_5s)}"
        ),
    }
    if pushed:
        rows[f"WeChat {name}: until the answer reaches the citizen p50 / p95 / p99"] = spread([t.answer_s for t in turns])
        rows[f"WeChat {name}: customer-service answers, first piece after"] = spread([t.answer_s for t in pushed])
    rows[f"WeChat {name}: conversations filed; throughput"] = (
        f"{run.filed} of {run.conversations}; {len(turns) / run.wall_s:.1f} messages/s ({run.wall_s:.0f} s)"
    )
    if run.stuck or run.errors:
        rows[f"WeChat {name}: problems"] = "; ".join((run.errors + [f"stuck at: {s}" for s in run.stuck])[:3])
    return rows


def main() -> int:
    """Runs every measurement and prints a markdown table."""
    model = latest_model()
    if model is None:
        print("没有模型：请先运行 make train", file=sys.stderr)
        return 1
    rounds = int(os.environ.get("XF_BENCH_WECHAT_ROUNDS", "3"))
    users = int(os.environ.get("XF_BENCH_WECHAT_USERS", "32"))
    copies = int(os.environ.get("XF_BENCH_HOTLINE_COPIES", "4"))
    results: dict[str, str] = {}
    began = time.perf_counter()
    load_at_start = os.getloadavg()[0]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    warnings.simplefilter("ignore")
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)  # the in-process agent's per-turn debug lines
    logging.getLogger().setLevel(logging.WARNING)

    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    from tests.channels.fake_wechat import FakeWeChatAPI, new_aes_key

    with tempfile.TemporaryDirectory(prefix="channels-bench-") as tmp_name:
        tmp = Path(tmp_name)
        fake = FakeWeChatAPI(APPID, SECRET).start()
        aes_key = new_aes_key()
        try:
            with running_stack(tmp / "stack") as (backend, action_url):
                endpoints = tmp / "endpoints.yml"
                endpoints.write_text(f'action_endpoint:\n  url: "{action_url}"\n', encoding="utf-8")
                credentials = tmp / "credentials.yml"
                credentials.write_text('channels.wechat.WeChatInput:\n  token: ""\n  aes_key: ""\n', encoding="utf-8")
                port = free_port()
                env = {
                    **stack_environment(tmp / "stack"), "XF_WECHAT_TOKEN": TOKEN, "XF_WECHAT_APPID": APPID,
                    "XF_WECHAT_SECRET": SECRET, "XF_WECHAT_AES_KEY": aes_key, "XF_WECHAT_API_BASE": fake.base_url,
                    "XF_BACKEND_URL": backend.url,
                }
                env.pop("XF_REDIS_URL", None)  # the channel's state in SQLite under the temp folder
                env.pop("XF_WECHAT_REPLY_BUDGET_S", None)
                command = [
                    str(RASA), "run", "--model", str(model), "--port", str(port),
                    "--endpoints", str(endpoints), "--credentials", str(credentials),
                ]
                log_path = tmp / "rasa.log"
                with open(log_path, "wb") as log:
                    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                try:
                    # the in-process agent loads while the server starts
                    started = time.perf_counter()
                    agent = Agent.load(str(model), action_endpoint=EndpointConfig(url=action_url))
                    results["model load in process (while rasa run starts)"] = f"{time.perf_counter() - started:.1f} s"
                    try:
                        wait_for_http(f"http://127.0.0.1:{port}/webhooks/wechat/", timeout_s=300, process=server)
                    except Exception:
                        print(log_path.read_text(errors="replace")[-3000:], file=sys.stderr)
                        raise
                    url = f"http://127.0.0.1:{port}/webhooks/wechat/webhook"
                    results["start-up: stack, rasa run and in-process agent ready after"] = f"{time.perf_counter() - began:.0f} s"

                    # warm-up (not counted): first turns trace the model graphs, fetch the token
                    asyncio.run(in_process_conversations(agent, "warm", 900, 1))
                    run_wechat_phase(url, fake, aes_key, "warm", 1, 1, 9_000_000_000)

                    samples, conversations, filed = asyncio.run(
                        in_process_conversations(agent, "seq", 0, rounds))
                    results["in process (Agent.handle_text), 1 citizen: turn p50 / p95 / p99"] = spread(samples)
                    results["in process, 1 citizen: conversations filed; serial capacity"] = (
                        f"{filed} of {conversations}; {len(samples) / sum(samples):.1f} turns/s"
                    )

                    for name, phase_users, phase_rounds, base in (
                        ("1 citizen", 1, rounds, 1_000_000_000), (f"{users} citizens at once", users, 1, 2_000_000_000),
                    ):
                        results.update(wechat_rows(name, run_wechat_phase(
                            url, fake, aes_key, f"{phase_users}x", phase_users, phase_rounds, base)))

                    status = Path(f"/proc/{server.pid}/status").read_text()
                    rss_kib = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
                    results["rasa server (WeChat channel) RSS after the run"] = f"{rss_kib / 1024:.0f} MiB"
                    results["customer-service messages accepted by the fake WeChat API"] = (
                        f"{len(fake.messages)} (refused: {len(fake.refused)}, token fetches: {len(fake.token_calls)})"
                    )
                finally:
                    server.terminate()
                    try:
                        server.wait(timeout=30)
                    except subprocess.TimeoutExpired:
                        server.kill()
        finally:
            fake.stop()

        results.update(hotline_numbers(tmp / "hotline", copies))

    results["bench wall time; load average at start / end"] = (
        f"{time.perf_counter() - began:.0f} s; {load_at_start:.1f} / {os.getloadavg()[0]:.1f}"
    )
    print()
    print(f"Channels bench — {os.cpu_count()} cores, model {model.name}; WeChat in safe (AES) mode, "
          f"reply budget 4 s, state in SQLite, embedded queue")
    print()
    print("| measurement | value |")
    print("|---|---|")
    for name, value in results.items():
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
