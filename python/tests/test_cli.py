"""finetune and evaluate from Python, through the CLI."""

import os

import pytest

import quarry
from conftest import read_tsv


def test_finetune_small_model(r8, tmp_path):
    labels, texts = read_tsv(r8[0])
    small = tmp_path / "small.tsv"
    small.write_text("".join(f"{l}\t{t}\n" for l, t in zip(labels[:600], texts[:600])))
    out = quarry.finetune(small, tmp_path / "small.qmodel", epochs=2, seed=3, cross_fit=0)
    assert os.path.getsize(out) > 0
    m = quarry.Model(out)
    assert set(m.labels) == set(labels[:600])
    assert m.predict("net profit rose to 5 mln dlrs").labels[0] in m.labels


def test_finetune_error_names_the_file(tmp_path):
    with pytest.raises(quarry.CLIError) as e:
        quarry.finetune(tmp_path / "absent.tsv", tmp_path / "m.qmodel")
    assert "absent.tsv" in str(e.value) and e.value.returncode != 0


def test_evaluate_agrees_with_in_process_predictions(model_path, r8, r8_test):
    report = quarry.evaluate(model_path, r8[1])
    gold, texts = r8_test
    predicted = [p.labels[0] for p in quarry.Model(model_path).predict(texts)]
    correct = sum(g == p for g, p in zip(gold, predicted))
    assert report["accuracy"] == pytest.approx(correct / len(gold), abs=1e-6)  # printed with 7 digits; a row is 5e-4
    assert {"macro_f1", "per_class", "confusion"} <= set(report)


def test_evaluate_error(tmp_path, r8):
    with pytest.raises(quarry.CLIError, match="absent.qmodel"):
        quarry.evaluate(tmp_path / "absent.qmodel", r8[1])
