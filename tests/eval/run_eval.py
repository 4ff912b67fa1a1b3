"""`make eval`: held-out quality report of NLU, routing, emergencies and hotline drafts.

Reads only held-out data that training never sees (tests/data/) and writes
the reports under results/eval/: Rasa's intent and entity reports, the intent
confusion matrix as a PNG, and a summary JSON. Prints the targets beside the
measured numbers (intent macro-F1 >= 0.95, route accuracy >= 0.92,
emergency recall 1.0).
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import yaml

from actions.routing import classify, detect_emergency
from bot.paths import RASA, ROOT, latest_model
from tests.eval.hotline_eval import evaluate_hotline

OUT = ROOT / "results" / "eval"
TARGETS = {
    "intent_macro_f1": 0.95,
    "route_accuracy": 0.92,
    "emergency_recall": 1.0,
    "hotline_field_accuracy": 0.90,
    "hotline_name_accuracy": 0.95,
    "hotline_phone_accuracy": 0.95,
}


def evaluate_nlu(model: Path) -> dict:
    """Runs ``rasa test nlu`` on the held-out set; returns the key numbers."""
    out = OUT / "nlu"
    subprocess.run(
        [str(RASA), "test", "nlu", "--model", str(model), "--nlu", "tests/data/nlu_heldout.yml", "--out", str(out)],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
    )
    intents = json.loads((out / "intent_report.json").read_text(encoding="utf-8"))
    entity_reports = sorted(out.glob("*Classifier_report.json")) + sorted(out.glob("*Extractor_report.json"))
    entities = json.loads(entity_reports[0].read_text(encoding="utf-8")) if entity_reports else {}
    return {
        "intent_macro_f1": intents["macro avg"]["f1-score"],
        "intent_accuracy": intents["accuracy"],
        "entity_macro_f1": entities.get("macro avg", {}).get("f1-score"),
        "per_intent_f1": {
            name: round(row["f1-score"], 3)
            for name, row in intents.items()
            if isinstance(row, dict) and "support" in row and name not in {"macro avg", "weighted avg", "micro avg"}
        },
        "confusion_matrix_png": str(out / "intent_confusion_matrix.png"),
    }


def evaluate_routing(path: Path = ROOT / "tests" / "data" / "routing_heldout.yml") -> dict:
    """Route, kind and category accuracy and emergency recall on held-out matters."""
    cases = yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]
    route_hits = kind_hits = category_hits = 0
    routed = [case for case in cases if not case.get("emergency")]
    confusions: Counter = Counter()
    for case in routed:
        result = classify(case["text"], case.get("demand", ""), case.get("respondent", ""))
        route_hits += result.legal_route == case["legal_route"]
        kind_hits += result.kind == case["kind"]
        category_hits += result.category == case["category"]
        if result.legal_route != case["legal_route"]:
            confusions[f"{case['legal_route']} -> {result.legal_route}"] += 1
    crises = [case for case in cases if case.get("emergency")]
    calm = [case for case in cases if not case.get("emergency")]
    caught = sum(detect_emergency(case["text"]) is not None for case in crises)
    false_alarms = sum(detect_emergency(case["text"]) is not None for case in calm)
    return {
        "route_accuracy": route_hits / len(routed),
        "kind_accuracy": kind_hits / len(routed),
        "category_accuracy": category_hits / len(routed),
        "route_confusions": dict(confusions.most_common()),
        "emergency_recall": caught / len(crises) if crises else 1.0,
        "emergency_false_alarms": false_alarms,
        "cases": len(cases),
    }


def main() -> int:
    """Prints and saves the report; exit status 1 when a target is missed."""
    model = latest_model()
    if model is None:
        print("没有模型：请先运行 make train", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    hotline = evaluate_hotline()
    report = {
        **evaluate_nlu(model),
        **evaluate_routing(),
        "hotline_field_accuracy": hotline["overall"],
        "hotline_name_accuracy": hotline["per_field"].get("name", 0.0),
        "hotline_phone_accuracy": hotline["per_field"].get("phone", 0.0),
        "hotline_per_field": hotline["per_field"],
        "hotline_transcripts": hotline["files"],
    }
    (OUT / "summary.json").write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    missed = []
    for key, target in TARGETS.items():
        mark = "ok " if report[key] >= target else "MISS"
        missed += [key] if report[key] < target else []
        print(f"{mark} {key:<24} {report[key]:.3f}  (target {target})")
    for key in ("intent_accuracy", "entity_macro_f1", "kind_accuracy", "category_accuracy",
                "emergency_false_alarms", "hotline_transcripts", "hotline_per_field"):
        print(f"    {key:<18} {report[key]}")
    print(f"    route confusions   {report['route_confusions']}")
    print(f"    per-intent F1      {report['per_intent_f1']}")
    print(f"reports: {OUT}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
