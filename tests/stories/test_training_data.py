"""The training data a petition office maintains stays valid.

Rasa's validator must pass, and every entity annotation must sit on jieba
token boundaries (with our dictionary): a misaligned span is silently
learned badly, and `rasa data validate` does not catch it.
"""
import subprocess
from pathlib import Path

import pytest

from bot.paths import RASA, ROOT

HELD_OUT = ROOT / "tests" / "data" / "nlu_heldout.yml"


def _tokenizer():
    from rasa.nlu.tokenizers.jieba_tokenizer import JiebaTokenizer

    config = {**JiebaTokenizer.get_default_config(), "dictionary_path": str(ROOT / "bot" / "jieba_dict")}
    return JiebaTokenizer.create(config, None, None, None)


def _misaligned(path: Path) -> list[str]:
    from rasa.shared.nlu.training_data.loading import load_data

    tokenizer = _tokenizer()
    problems = []
    for example in load_data(str(path)).training_examples:
        entities = example.get("entities") or []
        if not entities:
            continue
        tokens = tokenizer.tokenize(example, "text")
        starts = {token.start for token in tokens}
        ends = {token.end for token in tokens}
        for entity in entities:
            if entity["start"] not in starts or entity["end"] not in ends:
                problems.append(f"{example.get('text')!r}: {entity['entity']}={entity['value']!r}")
    return problems


def test_rasa_data_validate_passes():
    result = subprocess.run(
        [str(RASA), "data", "validate", "--domain", "bot/domain"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@pytest.mark.parametrize("path", [ROOT / "data" / "nlu", HELD_OUT], ids=["training", "held-out"])
def test_every_entity_span_is_whole_jieba_tokens(path):
    assert _misaligned(path) == []


def test_the_held_out_set_shares_no_example_with_training():
    from rasa.shared.nlu.training_data.loading import load_data

    training = {e.get("text") for e in load_data(str(ROOT / "data" / "nlu")).training_examples}
    held_out = {e.get("text") for e in load_data(str(HELD_OUT)).training_examples}
    assert training & held_out == set()
