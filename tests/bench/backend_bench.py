"""Backend speed, printed as a table (``python -m tests.bench.backend_bench``, backend Python).

Measures on this machine, in one run:

- cases/second from the producer (``CaseProducer.publish``, as the action server calls
  it) to a committed row, with a real worker process: embedded queue + SQLite, and
  Redis Stream + PostgreSQL (one and four consumer loops);
- a raw Redis ``XADD`` / ``XREADGROUP`` / ``XACK`` loop over the same payloads, producer
  and consumer running at the same time, and the ratio of the two;
- p50/p95 latency of ``GET /api/v1/progress`` with 50 concurrent clients against a real
  API process, for a real case and its real query code; beside it ``GET /health``
  under the same load and the cost of one PBKDF2 verification (100 000 iterations,
  the bot's count), which dominates the progress answer.

Payloads are contract section 4 cases of about 1.5 KB. Nothing is asserted; numbers go
into the README by hand. Needs the local Redis and PostgreSQL for their rows (skipped
with a note when unreachable).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
BACKEND_PYTHON = REPO_ROOT / ".venv-backend" / "bin" / "python"
PG_SERVER = os.environ.get("XF_BENCH_POSTGRES", "postgresql+psycopg://postgres@127.0.0.1:5432")
REDIS_URL = os.environ.get("XF_BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PBKDF2_ITERATIONS = 100_000  # the bot's count (actions/ids.py)

DESCRIPTION = (
    "我家住在春华路小区4号楼，小区东门外的市政道路自今年八月起因管网改造被挖开，施工结束后一直没有恢复路面，"
    "坑洼处积水严重，夜间路灯也坏了两个多月。上个月楼里一位七十多岁的老人晚上买菜回来在坑边摔倒，髋部骨折住院。"
    "我们先后三次拨打12345热线，也到街道办事处反映过，街道答复说已转区城市管理局，但至今没有人来现场查看。"
    "施工单位的围挡早已撤走，现场没有任何警示标志，孩子们上学放学都要从这里经过，家长们非常担心再出事故。"
)


def crockford(n: int) -> str:
    """*n* random Crockford base32 characters."""
    return "".join(secrets.choice(CROCKFORD) for _ in range(n))


def hash_code(code: str, iterations: int = PBKDF2_ITERATIONS) -> str:
    """A query-code hash in the bot's format."""
    salt = secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", code.encode(), salt, iterations)
    return f"pbkdf2_sha256${iterations}${salt.hex()}${digest.hex()}"


def realistic_case(n: int, *, query_code_hash: str | None = None) -> dict[str, Any]:
    """A contract section 4 payload of about 1.5 KB (hotline draft with confidences)."""
    return {
        "schema_version": 1,
        "case_id": f"XF20261126-{crockford(6)}",
        "query_code_hash": query_code_hash or "pbkdf2_sha256$100000$" + secrets.token_hex(16) + "$" + secrets.token_hex(32),
        "channel": "hotline",
        "channel_user": f"call-{secrets.token_hex(8)}",
        "received_at": "2026-11-26T09:12:00+08:00",
        "petitioner": {
            "name": "高磊",
            "phone": f"138{n:08d}",
            "id_number": f"110105198{n % 10}0101{n % 1000:03d}X",
            "address": "北京市朝阳区春华路小区4号楼2单元501室",
        },
        "kind": "appeal",
        "category": "transport",
        "legal_route": "petition",
        "route_reason": "反映市政道路长期未修复、存在安全隐患，属于信访事项，依法登记并转交有权处理的机关办理。",
        "respondent": "朝阳区城市管理局",
        "occurred": "今年八月起至今",
        "location": "春华路小区东门外市政道路",
        "description": f"（第{n}件）{DESCRIPTION}",
        "demand": "尽快恢复路面、修好路灯，并在修复前设置警示标志，保障居民特别是老人和孩子的出行安全。",
        "first_time": True,
        "prior_case_ids": [],
        "attachments": [{"kind": "voice", "ref": f"call-recording-{n}"}],
        "source": {"call_id": f"call-{n}", "turns": 18},
        "confidence": {"respondent": 0.82, "location": 0.91, "occurred": 0.64, "demand": 0.88},
        "needs_review": ["occurred"],
    }


def percentile(samples: list[float], q: float) -> float:
    """The q-th percentile (0-100) of *samples*, nearest rank."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def wait_until(predicate: Callable[[], Any], timeout: float, interval: float = 0.02) -> bool:
    """Poll until *predicate* is truthy; ``False`` after *timeout* seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        time.sleep(interval)
    return True


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def backend_env(*, database_url: str, var_dir: Path, prefix: str, redis_url: str | None) -> dict[str, str]:
    """``XF_*`` variables for a backend subprocess."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("XF_")}
    env.update({
        "XF_DATABASE_URL": database_url,
        "XF_REDIS_URL": redis_url or "",
        "XF_VAR_DIR": str(var_dir),
        "XF_QUEUE_PREFIX": prefix,
        "XF_SECRET_KEY": "bench-pepper",
        "XF_LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(REPO_ROOT),
    })
    return env


# -- services ------------------------------------------------------------------------------


def redis_reason() -> str | None:
    """Why the bench Redis cannot be used, or ``None``."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_timeout=1, socket_connect_timeout=1)
    try:
        client.ping()
        return None
    except Exception as exc:  # noqa: BLE001
        return f"Redis unreachable at {REDIS_URL} ({type(exc).__name__})"
    finally:
        client.close()


class PostgresDatabase:
    """A fresh, migrated database for the run; dropped by :meth:`drop`."""

    def __init__(self) -> None:
        from sqlalchemy import create_engine

        self.admin = create_engine(f"{PG_SERVER}/postgres", isolation_level="AUTOCOMMIT",
                                   connect_args={"connect_timeout": 3})
        self.name = f"xf_bench_{secrets.token_hex(4)}"
        self.url = f"{PG_SERVER}/{self.name}"

    def create(self) -> str | None:
        """Create and migrate; returns why not, or ``None``."""
        from sqlalchemy import text

        from backend.store import migrate

        try:
            with self.admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{self.name}"'))
        except Exception as exc:  # noqa: BLE001
            return f"PostgreSQL unreachable at {PG_SERVER} ({type(exc).__name__})"
        migrate(self.url)
        return None

    def drop(self) -> None:
        """Drop the database."""
        from sqlalchemy import text

        try:
            with self.admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        finally:
            self.admin.dispose()


def delete_redis_prefix(prefix: str) -> None:
    """Remove the bench's keys from the shared Redis."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        keys = list(client.scan_iter(match=f"{prefix}:*", count=500))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# -- producer -> committed row ----------------------------------------------------------------


def pipeline_rate(
    payloads: list[dict[str, Any]], *, database_url: str, redis_url: str | None, work: Path,
    concurrency: int = 1,
) -> dict[str, float]:
    """Cases/second from ``CaseProducer.publish`` to committed rows, worker in a subprocess."""
    from sqlalchemy import create_engine, func, select

    from backend.queue.producer import CaseProducer
    from backend.store.models import Case

    var_dir = work / f"var-{secrets.token_hex(3)}"
    prefix = f"xfbench-{secrets.token_hex(4)}"
    env = backend_env(database_url=database_url, var_dir=var_dir, prefix=prefix, redis_url=redis_url)
    env["XF_LOG_LEVEL"] = "INFO"  # "consumer ... started" tells when it is ready
    log_path = work / f"worker-{prefix}.log"
    engine = create_engine(database_url)

    def stored() -> int:
        with engine.connect() as conn:
            return int(conn.scalar(select(func.count()).select_from(Case)) or 0)

    base = stored()
    with open(log_path, "wb") as log:
        worker = subprocess.Popen(
            [str(BACKEND_PYTHON), "-m", "backend", "worker", "--concurrency", str(concurrency)],
            cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    producer = CaseProducer(redis_url=redis_url, var_dir=var_dir, prefix=prefix)
    try:
        if not wait_until(lambda: log_path.read_text(errors="replace").count(" started") >= concurrency, 60):
            raise RuntimeError(f"worker did not start; see {log_path}")
        started = time.perf_counter()
        for case in payloads:
            producer.publish(case)
        published = time.perf_counter() - started
        if not wait_until(lambda: stored() - base >= len(payloads), 600, interval=0.02):
            raise RuntimeError("cases did not arrive")
        elapsed = time.perf_counter() - started
    finally:
        producer.close()
        worker.terminate()
        worker.wait(timeout=30)
        engine.dispose()
        if redis_url:
            delete_redis_prefix(prefix)
    return {"rate": len(payloads) / elapsed, "seconds": elapsed, "publish_rate": len(payloads) / published}


def raw_redis_rate(payloads: list[dict[str, Any]]) -> dict[str, float]:
    """The same payloads through bare ``XADD`` / ``XREADGROUP`` / ``XACK`` (no database),
    producer and one consumer running concurrently, batches of 10 like the worker."""
    import redis

    prefix = f"xfbench-raw-{secrets.token_hex(4)}"
    stream, group = f"{prefix}:cases", f"{prefix}:group"
    encoded = [(c["case_id"], json.dumps(c, ensure_ascii=False, separators=(",", ":"))) for c in payloads]
    producer = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    consumer = redis.Redis.from_url(REDIS_URL, decode_responses=True)
    producer.xgroup_create(stream, group, id="0", mkstream=True)
    acked = 0

    def consume() -> None:
        nonlocal acked
        while acked < len(encoded):
            reply = consumer.xreadgroup(group, "raw", {stream: ">"}, count=10, block=200)
            for _name, entries in reply or []:
                for message_id, fields in entries:
                    json.loads(fields["case"])  # the worker parses every payload too
                    consumer.xack(stream, group, message_id)
                    acked += 1

    try:
        started = time.perf_counter()
        thread = threading.Thread(target=consume)
        thread.start()
        for case_id, payload in encoded:
            producer.xadd(stream, {"case_id": case_id, "case": payload})
        thread.join()
        elapsed = time.perf_counter() - started
    finally:
        producer.delete(stream)
        producer.close()
        consumer.close()
    return {"rate": len(encoded) / elapsed, "seconds": elapsed}


# -- progress API under load ------------------------------------------------------------------


def store_case_with_code(database_url: str, code: str) -> str:
    """Store one real case whose query code is *code* (hashed the bot's way); its id."""
    from backend.settings import Settings
    from backend.store import make_sessionmaker, save_case

    case = realistic_case(0, query_code_hash=hash_code(code))
    settings = Settings(_env_file=None, database_url=database_url, secret_key="bench-pepper")  # type: ignore[call-arg]
    factory = make_sessionmaker(settings)
    try:
        with factory.begin() as session:
            save_case(session, case)
    finally:
        factory.kw["bind"].dispose()
    return str(case["case_id"])


async def _load(url: str, *, clients: int, per_client: int) -> tuple[list[float], dict[int, int]]:
    import aiohttp

    latencies: list[float] = []
    statuses: dict[int, int] = {}
    connector = aiohttp.TCPConnector(limit=clients)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=120)) as http:

        async def client() -> None:
            for _ in range(per_client):
                started = time.perf_counter()
                async with http.get(url) as response:
                    await response.read()
                latencies.append(time.perf_counter() - started)
                statuses[response.status] = statuses.get(response.status, 0) + 1

        await asyncio.gather(*(client() for _ in range(clients)))
    return latencies, statuses


def api_latency(database_url: str, work: Path, *, clients: int, per_client: int) -> dict[str, Any]:
    """p50/p95 of ``/api/v1/progress`` (right code) and ``/health`` under *clients* at once."""
    code = crockford(6)
    case_id = store_case_with_code(database_url, code)
    port = free_port()
    env = backend_env(database_url=database_url, var_dir=work / f"var-api-{port}", prefix="xfbench-api",
                      redis_url=None)
    api = subprocess.Popen([str(BACKEND_PYTHON), "-m", "backend", "api", "--port", str(port)],
                           cwd=REPO_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        import urllib.request

        def up() -> bool:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1) as r:
                    return r.status == 200
            except OSError:
                return False

        if not wait_until(up, 60, interval=0.1):
            raise RuntimeError("API did not start")
        progress = f"{base}/api/v1/progress?case_id={case_id}&code={code}"
        asyncio.run(_load(progress, clients=5, per_client=1))  # warm up connections and pool
        started = time.perf_counter()
        samples, statuses = asyncio.run(_load(progress, clients=clients, per_client=per_client))
        wall = time.perf_counter() - started
        health, _ = asyncio.run(_load(f"{base}/health", clients=clients, per_client=per_client))
    finally:
        api.terminate()
        api.wait(timeout=30)
    return {
        "p50": percentile(samples, 50), "p95": percentile(samples, 95), "max": max(samples),
        "throughput": len(samples) / wall, "statuses": statuses, "n": len(samples),
        "health_p50": percentile(health, 50), "health_p95": percentile(health, 95),
    }


def pbkdf2_cost(repeat: int = 5) -> float:
    """Seconds for one verification of a query code (the bot's iteration count)."""
    from backend.security import verify_query_code

    stored = hash_code("7K3P9Q")
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        verify_query_code("7K3P9Q", stored)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


# -- report -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run every measurement and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=500, help="cases per throughput run")
    parser.add_argument("--clients", type=int, default=50, help="concurrent progress clients")
    parser.add_argument("--requests", type=int, default=6, help="requests per client")
    args = parser.parse_args(argv)

    sys.path.insert(0, str(REPO_ROOT))
    from backend.store import migrate

    payloads = [realistic_case(n) for n in range(1, args.cases + 1)]
    sizes = [len(json.dumps(c, ensure_ascii=False).encode()) for c in payloads]
    rows: list[tuple[str, str]] = []
    notes: list[str] = []
    print(f"backend bench: {args.cases} cases of ~{statistics.median(sizes)/1024:.1f} KB, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}", flush=True)
    work = Path(tempfile.mkdtemp(prefix="xf-bench-"))
    pg = PostgresDatabase()
    pg_reason = pg.create()
    r_reason = redis_reason()
    try:
        sqlite_url = f"sqlite:///{work / 'xinfang.sqlite3'}"
        migrate(sqlite_url)
        r = pipeline_rate(payloads, database_url=sqlite_url, redis_url=None, work=work)
        rows.append(("producer → row, embedded queue + SQLite (1 loop)",
                     f"{r['rate']:.0f} cases/s  ({args.cases} in {r['seconds']:.1f} s)"))
        print(f"  {rows[-1][0]}: {rows[-1][1]}", flush=True)

        pipeline_pg: float | None = None
        if pg_reason or r_reason:
            notes.append(f"Redis + PostgreSQL rows skipped: {pg_reason or r_reason}")
        else:
            for loops in (1, 4):
                fresh = [realistic_case(n) for n in range(1, args.cases + 1)]
                r = pipeline_rate(fresh, database_url=pg.url, redis_url=REDIS_URL, work=work, concurrency=loops)
                pipeline_pg = pipeline_pg or r["rate"]
                rows.append((f"producer → row, Redis Stream + PostgreSQL ({loops} loop{'s' if loops > 1 else ''})",
                             f"{r['rate']:.0f} cases/s  ({args.cases} in {r['seconds']:.1f} s; "
                             f"XADD alone {r['publish_rate']:.0f}/s)"))
                print(f"  {rows[-1][0]}: {rows[-1][1]}", flush=True)
        if r_reason is None:
            raw = raw_redis_rate(payloads)
            rows.append(("raw Redis XADD/XREADGROUP/XACK, same payloads", f"{raw['rate']:.0f} msgs/s"))
            if pipeline_pg:
                rows.append(("  ratio raw Redis : Redis + PostgreSQL pipeline (1 loop)",
                             f"{raw['rate'] / pipeline_pg:.1f} : 1"))
            print(f"  {rows[-1][0]}: {rows[-1][1]}", flush=True)

        cost = pbkdf2_cost()
        rows.append(("one query-code verification (PBKDF2-SHA256, 100 000 it.)", f"{cost * 1000:.0f} ms CPU"))
        targets = [("SQLite", sqlite_url)] + ([] if pg_reason else [("PostgreSQL", pg.url)])
        for label, url in targets:
            lat = api_latency(url, work, clients=args.clients, per_client=args.requests)
            rows.append((f"GET /api/v1/progress, {args.clients} clients, {label}",
                         f"p50 {lat['p50'] * 1000:.0f} ms, p95 {lat['p95'] * 1000:.0f} ms, "
                         f"max {lat['max'] * 1000:.0f} ms, {lat['throughput']:.1f} req/s "
                         f"({lat['n']} req, status {lat['statuses']})"))
            rows.append((f"GET /health, same load, {label}",
                         f"p50 {lat['health_p50'] * 1000:.0f} ms, p95 {lat['health_p95'] * 1000:.0f} ms"))
            print(f"  {rows[-2][0]}: {rows[-2][1]}", flush=True)
        notes.append(
            "progress latency is bounded by PBKDF2: each answer costs one verification "
            f"(~{cost * 1000:.0f} ms of CPU, run in threads), so with {os.cpu_count()} CPUs the API "
            f"answers at most ~{(os.cpu_count() or 1) / cost:.0f} progress queries per second"
        )
    finally:
        if not pg_reason:
            pg.drop()
        shutil.rmtree(work, ignore_errors=True)

    width = max(len(label) for label, _ in rows)
    print()
    print(f"{'measurement'.ljust(width)}  result")
    print(f"{'-' * width}  {'-' * 40}")
    for label, value in rows:
        print(f"{label.ljust(width)}  {value}")
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
