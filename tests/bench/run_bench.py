"""`make bench`: speed and memory of the bot, printed in one run.

Measures, on this machine: cold training time, model load time, turn
latency (p50/p95) in process and through the REST channel, and the resident
memory of the rasa server; then runs ``tests/bench/backend_bench.py`` in the
backend environment and ``tests/bench/channels_bench.py`` (WeChat, hotline).
The numbers belong in the README; nothing here asserts a time.
"""
from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from bot.paths import BOT_PYTHON, RASA, ROOT, backend_python, latest_model
from tests.support.stack import rasa_server, running_stack

#: one filing conversation, replayed for every latency sample
SCRIPT = [
    "你好",
    "我要反映问题，小区门口的路灯坏了两个月了，晚上老人摔倒好几次",
    "区城市管理局",
    "两个月前",
    "春华路小区门口",
    "尽快修好路灯",
    "高磊",
    "13811112222",
    "春华路小区4号楼",
    "不提供",
    "信访多久能答复",
    "确认",
]


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0–100) of ``samples``, in milliseconds."""
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index] * 1000


def measure_training() -> float:
    """Seconds for a cold `rasa train` (empty cache, fresh output folder)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "RASA_CACHE_DIRECTORY": str(Path(tmp) / "cache")}
        started = time.perf_counter()
        subprocess.run(
            [str(RASA), "train", "--domain", "bot/domain", "--out", str(Path(tmp) / "models")],
            cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        return time.perf_counter() - started


async def measure_in_process(model: Path, action_url: str, rounds: int) -> tuple[float, list[float]]:
    """Model load seconds and per-turn latencies of an in-process agent."""
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    started = time.perf_counter()
    agent = Agent.load(str(model), action_endpoint=EndpointConfig(url=action_url))
    load_s = time.perf_counter() - started
    samples = []
    for round_ in range(rounds):
        for text in SCRIPT:
            started = time.perf_counter()
            await agent.handle_text(text, sender_id=f"bench-{round_}")
            samples.append(time.perf_counter() - started)
    return load_s, samples


def measure_rest(model: Path, stack: tuple, var: Path, rounds: int) -> tuple[list[float], int]:
    """Per-turn latencies through the REST channel and the server's RSS in KiB."""
    with rasa_server(str(model), stack, var, credentials="rest:\n", ready_path="/webhooks/rest/") as server:
        url = server.url + "/webhooks/rest/webhook"
        samples = []
        for round_ in range(rounds):
            for text in SCRIPT:
                body = json.dumps({"sender": f"rest-bench-{round_}", "message": text}).encode()
                request = urllib.request.Request(url, data=body, headers={"Content-Type": "application/json"})
                started = time.perf_counter()
                with urllib.request.urlopen(request, timeout=60) as response:
                    response.read()
                samples.append(time.perf_counter() - started)
        status = Path(f"/proc/{server.pid}/status").read_text()
        rss_kib = int(next(line for line in status.splitlines() if line.startswith("VmRSS")).split()[1])
        return samples, rss_kib


def main() -> int:
    """Runs every measurement and prints a table."""
    model = latest_model()
    if model is None:
        print("没有模型：请先运行 make train", file=sys.stderr)
        return 1
    rounds = int(os.environ.get("XF_BENCH_ROUNDS", "5"))
    results: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp, running_stack(Path(tmp)) as stack:
        load_s, local = asyncio.run(measure_in_process(model, stack[1], rounds))
        rest, rss_kib = measure_rest(model, stack, Path(tmp), rounds)
    results["model load (in process)"] = f"{load_s:.1f} s"
    results["turn latency in process p50 / p95"] = f"{percentile(local, 50):.0f} / {percentile(local, 95):.0f} ms ({len(local)} turns)"
    results["turn latency via REST p50 / p95"] = f"{percentile(rest, 50):.0f} / {percentile(rest, 95):.0f} ms ({len(rest)} turns)"
    results["rasa server RSS after the run"] = f"{rss_kib / 1024:.0f} MiB"
    if os.environ.get("XF_BENCH_SKIP_TRAINING") != "1":
        results["cold training time"] = f"{measure_training():.0f} s"
    for name, value in results.items():
        print(f"{name:<38} {value}")
    subprocess.run([str(backend_python()), "-m", "tests.bench.backend_bench"], cwd=ROOT, check=False)
    subprocess.run([str(BOT_PYTHON), "-m", "tests.bench.channels_bench"], cwd=ROOT, check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
