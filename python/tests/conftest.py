"""Shared fixtures: the R8 corpus from Scripts/setup's cache, a model trained on it (or
$QUARRY_TEST_MODEL), and `quarry predict`'s answers to compare with.

Data missing: the tests that need it skip, or fail when QUARRY_REQUIRE_DATA=1 (as
Scripts/python-test sets it)."""

import json
import os
import subprocess

import pytest

import quarry
from quarry import cli


def cache_dir():
    return os.environ.get("QUARRY_CACHE") or os.path.expanduser("~/.cache/quarry")


def need(path):
    if not os.path.exists(path):
        message = f"{path}: missing (run Scripts/setup)"
        if os.environ.get("QUARRY_REQUIRE_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def r8():
    """Paths of R8's train and test TSV files (label<TAB>text)."""
    base = os.path.join(cache_dir(), "corpora", "r8")
    return need(os.path.join(base, "train.tsv")), need(os.path.join(base, "test.tsv"))


def read_tsv(path):
    """(labels, texts) of a label<TAB>text file, texts as `quarry predict` reads lines."""
    labels, texts = [], []
    with open(path, encoding="utf-8", newline="") as f:
        for line in f.read().split("\n"):
            if not line:
                continue
            label, text = line.rstrip("\r").split("\t", 1)
            labels.append(label)
            texts.append(text)
    return labels, texts


@pytest.fixture(scope="session")
def r8_test(r8):
    return read_tsv(r8[1])


@pytest.fixture(scope="session")
def model_path(r8, tmp_path_factory):
    """An R8 model: $QUARRY_TEST_MODEL, or one trained here (about a minute)."""
    given = os.environ.get("QUARRY_TEST_MODEL")
    if given:
        return need(given)
    glove = need(os.path.join(cache_dir(), "vectors", "glove.6B.50d.vec"))
    out = tmp_path_factory.mktemp("model") / "r8.qmodel"
    return quarry.finetune(r8[0], out, pretrained=glove)


def cli_predict(model_path, texts, k, tmp_dir):
    """`quarry predict --format jsonl --k k` of `texts` (one a line): per text the labels and
    the probabilities exactly as printed (strings)."""
    path = os.path.join(tmp_dir, f"texts-{k}.txt")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("".join(t + "\n" for t in texts))
    out = subprocess.run(
        [cli.binary(), "predict", "--model", str(model_path), "--input", path, "--k", str(k),
         "--format", "jsonl"],
        check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    rows = [json.loads(l, parse_float=str) for l in out.splitlines()]
    assert len(rows) == len(texts), "quarry predict gave one line per text"
    return [(r["labels"], r["probabilities"]) for r in rows]


def as_printed(prediction):
    """A Prediction as quarry predict prints it: labels and 4-decimal probabilities."""
    return (list(prediction.labels), [quarry.probability_text(p) for p in prediction.probabilities])
