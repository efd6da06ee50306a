"""In-process predictions equal `quarry predict`'s: labels exactly, probabilities as
printed with four decimals."""

import pickle

import pytest

import quarry
from conftest import as_printed, cli_predict


@pytest.fixture(scope="module")
def model(model_path):
    with quarry.Model(model_path) as m:
        yield m


@pytest.mark.parametrize("k", [1, 3, 100])
def test_r8_test_predictions_identical_to_cli(model, model_path, r8_test, k, tmp_path):
    _, texts = r8_test
    expected = cli_predict(model_path, texts, k, tmp_path)
    got = [as_printed(p) for p in model.predict(texts, k=k)]
    assert len(got) == len(texts)
    differ = [i for i, (g, e) in enumerate(zip(got, expected)) if g != e]
    assert not differ, (
        f"{len(differ)} of {len(texts)} texts differ; first: line {differ[0] + 1}: "
        f"python {got[differ[0]]} vs cli {expected[differ[0]]}"
    )
    assert all(len(g[0]) == min(k, model.classes) for g in got)


def test_odd_texts_identical_to_cli(model, model_path, tmp_path):
    texts = ["", "   ", "naïve café ünïcödé", "日本語のテキスト", "oil 🛢️ prices", "a\tb",
             "WHEAT wheat Wheat", "x" * 20000]
    expected = cli_predict(model_path, texts, 3, tmp_path)
    assert [as_printed(p) for p in model.predict(texts, k=3)] == expected


def test_labels_are_the_models(model, r8_test):
    gold, _ = r8_test
    assert sorted(model.labels) == sorted(set(gold))
    assert model.classes == len(model.labels)


def test_single_text_gives_one_prediction(model):
    one = model.predict("crude oil prices rose sharply", k=2)
    assert isinstance(one, quarry.Prediction)
    assert one == model.predict(["crude oil prices rose sharply"], k=2)[0]
    assert one.labels[0] == "crude"


def test_probabilities_rows_sum_to_one_and_agree_with_predict(model, r8_test):
    _, texts = r8_test
    texts = texts[:300]
    rows = model.probabilities(texts)
    top = model.predict(texts, k=1)
    for row, p in zip(rows, top):
        assert len(row) == model.classes
        assert abs(sum(row) - 1) < 1e-4
        best = max(range(len(row)), key=lambda j: (row[j], -j))
        assert model.labels[best] == p.labels[0]
        assert row[best] == p.probabilities[0]


def test_threads_do_not_change_predictions(model, r8_test):
    _, texts = r8_test
    assert model.predict(texts, k=2, threads=1) == model.predict(texts, k=2, threads=2)


def test_empty_batch(model):
    assert model.predict([], k=3) == []
    assert model.probabilities([]) == []


def test_pickles_as_its_path(model):
    again = pickle.loads(pickle.dumps(model))
    assert again.path == model.path and again.labels == model.labels
    assert again.predict("wheat exports") == model.predict("wheat exports")


def test_bad_arguments(model):
    with pytest.raises(ValueError, match="k must be at least 1"):
        model.predict(["x"], k=0)
    with pytest.raises(TypeError, match="text 1 is a int"):
        model.predict(["x", 3])
