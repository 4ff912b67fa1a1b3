"""``xinfang hotline extract`` and ``xinfang hotline ingest`` (contract §2).

``extract FILE... --json``: one draft (contract §4, without query code) per
line on stdout, in the order given (folders expand to their ``*.json`` and
``*.txt`` files, sorted); nothing is queued. A file that cannot be read is
reported on stderr (``文件 第N行：…``) and skipped; the exit code is then 1.

``ingest PATH...``: files and folders (recursively, ``*.json``/``*.txt``),
a progress bar on stderr, each draft queued with
:class:`backend.queue.producer.CaseProducer` (``XF_REDIS_URL`` /
``XF_VAR_DIR``). For every file one line on stdout: the case number and the
query code the operator reads to the caller, plus the fields to review
(``--json`` prints a JSON object instead). Failures are reported per file
and do not stop the run; exit code 1 if any file failed, else 0.

Running ingest twice on the same files is safe: a call always yields the
same case number and query code (see :mod:`channels.hotline`), so the
second run queues the same case again and the worker, idempotent by
``case_id``, stores it once.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Iterable, Iterator, Optional, TextIO

from channels.hotline import build_draft
from channels.transcripts import TranscriptError, load_transcript

__all__ = ["add_hotline_parser", "run_hotline", "expand_paths"]

SUFFIXES = (".json", ".txt")


def add_hotline_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add the ``hotline`` command (``extract`` / ``ingest``) to the ``xinfang`` parser."""
    hotline = subparsers.add_parser("hotline", help="热线来电转写稿 → 信访事项草稿")
    commands = hotline.add_subparsers(dest="hotline_command", required=True)
    extract = commands.add_parser("extract", help="print one case draft (JSON) a line; nothing is queued")
    extract.add_argument("files", nargs="+", metavar="FILE", help="transcript files (*.json, *.txt) or folders")
    extract.add_argument("--json", action="store_true", default=True, help="one JSON object a line (the default)")
    ingest = commands.add_parser("ingest", help="queue case drafts of transcript files and folders")
    ingest.add_argument("paths", nargs="+", metavar="PATH", help="transcript files or folders (recursive)")
    ingest.add_argument("--json", action="store_true", help="print one JSON result a line")
    ingest.add_argument("--no-progress", action="store_true", help="no progress bar")
    return hotline


def expand_paths(paths: Iterable[str]) -> Iterator[Path]:
    """Files in the order given; folders expand recursively to sorted ``*.json``/``*.txt``."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            yield from sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
        else:
            yield path


def _print_json(obj: dict, out: TextIO) -> None:
    out.write(json.dumps(obj, ensure_ascii=False, sort_keys=False) + "\n")
    out.flush()


def extract(files: Iterable[str], out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Print drafts, one JSON object a line; 1 if a file could not be read."""
    failed = 0
    for path in expand_paths(files):
        try:
            case, _ = build_draft(load_transcript(path))
        except TranscriptError as exc:
            failed += 1
            err.write(f"错误：{exc}\n")
            continue
        _print_json(case, out)
    return 1 if failed else 0


def ingest(
    paths: Iterable[str],
    *,
    as_json: bool = False,
    progress: bool = True,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    producer: Optional[object] = None,
) -> int:
    """Queue the draft of every transcript; report per file; 1 if any failed."""
    from tqdm import tqdm

    from backend.queue.producer import CaseProducer

    files = list(expand_paths(paths))
    own_producer = producer is None
    producer = producer or CaseProducer.from_env()
    failures = done = 0
    bar = tqdm(files, desc="导入来电记录", unit="件", file=err, disable=not progress or not files)
    try:
        for path in bar:
            try:
                case, query_code = build_draft(load_transcript(path), with_query_code=True)
                producer.publish(case)  # type: ignore[attr-defined]
            except TranscriptError as exc:
                failures += 1
                _report_failure(path, str(exc), exc.line, as_json, out, err, bar)
                continue
            except Exception as exc:  # noqa: BLE001 - one bad file never stops the run
                failures += 1
                _report_failure(path, f"{path}：导入失败（{type(exc).__name__}: {exc}）", None, as_json, out, err, bar)
                continue
            done += 1
            review = case["needs_review"]
            if as_json:
                _print_json({"file": str(path), "ok": True, "case_id": case["case_id"], "query_code": query_code,
                             "legal_route": case["legal_route"], "needs_review": review}, out)
            else:
                note = f"，待核实：{'、'.join(review)}" if review else ""
                bar.write(f"{path} → {case['case_id']}  查询码 {query_code}{note}", file=out)
    finally:
        bar.close()
        if own_producer:
            producer.close()  # type: ignore[attr-defined]
    summary = f"完成：成功 {done} 件，失败 {failures} 件。"
    err.write(summary + "\n")
    return 1 if failures else 0


def _report_failure(
    path: Path, message: str, line: Optional[int], as_json: bool, out: TextIO, err: TextIO, bar: object
) -> None:
    if as_json:
        _print_json({"file": str(path), "ok": False, "line": line, "error": message}, out)
    else:
        bar.write(f"失败：{message}", file=err)  # type: ignore[attr-defined]


def run_hotline(args: argparse.Namespace) -> int:
    """Run ``xinfang hotline <extract|ingest>`` from parsed arguments; returns the exit code."""
    if args.hotline_command == "extract":
        return extract(args.files)
    if args.hotline_command == "ingest":
        return ingest(args.paths, as_json=args.json, progress=not args.no_progress)
    return 2


def main(argv: Optional[list[str]] = None) -> int:
    """Stand-alone entry point: ``python -m channels.hotline_cli extract FILE...``."""
    parser = argparse.ArgumentParser(prog="xinfang")
    add_hotline_parser(parser.add_subparsers(dest="command", required=True))
    return run_hotline(parser.parse_args(["hotline", *(sys.argv[1:] if argv is None else argv)]))


if __name__ == "__main__":
    sys.exit(main())
