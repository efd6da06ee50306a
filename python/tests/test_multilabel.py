"""Multi-label models from Python: Model.thresholds, and predict's labels and probabilities
equal to `quarry predict --format jsonl`'s (default thresholds, --threshold, --k); a
single-label model has no thresholds and refuses one. The models are trained here by the
CLI on a small keyword corpus written by the test (seconds; no data from Scripts/setup)."""

import json
import random
import subprocess

import pytest

import quarry
from conftest import as_printed
from quarry import cli

LABELS = ["food", "money", "music", "sport", "weather"]
KEYWORDS = {
    "food": ["bread", "cheese", "soup", "recipe", "oven"],
    "money": ["bank", "rates", "stock", "market", "loan"],
    "music": ["guitar", "song", "album", "band", "piano"],
    "sport": ["goal", "match", "team", "score", "league"],
    "weather": ["rain", "storm", "sunny", "wind", "snow"],
}
NOISE = ["the", "a", "today", "new", "big", "story", "report", "of"]


def keyword_rows(count, seed):
    """`count` rows of one to three labels, each label bringing two of its keywords, with
    two noise words, shuffled."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        chosen = rng.sample(LABELS, rng.randint(1, 3))
        words = [rng.choice(NOISE), rng.choice(NOISE)]
        for label in chosen:
            words += [rng.choice(KEYWORDS[label]), rng.choice(KEYWORDS[label])]
        rng.shuffle(words)
        rows.append((chosen, " ".join(words)))
    return rows


def write_tsv(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(",".join(labels) + "\t" + text + "\n" for labels, text in rows)
    return path


# Texts to predict: held-out keyword rows, and a few without any keyword.
TEXTS = [text for _, text in keyword_rows(60, seed=11)] + [
    "", "nothing here at all", "the a of", "naïve café ünïcödé", "日本語のテキスト",
    "bread " * 50, "rain goal song loan soup",
]


@pytest.fixture(scope="module")
def multi_model(tmp_path_factory):
    d = tmp_path_factory.mktemp("multilabel")
    train = write_tsv(d / "train.tsv", keyword_rows(150, seed=3))
    return quarry.finetune(
        train, d / "multi.qmodel", epochs=10, dim=8, lr=0.5, cross_fit=2, cross_fit_epochs=4,
        no_checkpoint=True, seed=1, threads=2,
    )


@pytest.fixture(scope="module")
def model(multi_model):
    with quarry.Model(multi_model) as m:
        yield m


@pytest.fixture(scope="module")
def single_model(tmp_path_factory):
    """A single-label model: the same kind of corpus, each row with its first label only."""
    d = tmp_path_factory.mktemp("singlelabel")
    rows = [([labels[0]], text) for labels, text in keyword_rows(150, seed=5)]
    train = write_tsv(d / "train.tsv", rows)
    return quarry.finetune(
        train, d / "single.qmodel", epochs=3, dim=8, lr=0.5, cross_fit=0, no_checkpoint=True,
        seed=1, threads=2,
    )


def cli_predict_jsonl(model_path, texts, tmp_path, *extra):
    """`quarry predict --format jsonl [extra]` of `texts` (one a line): per text the labels
    and the probabilities exactly as printed (strings)."""
    path = tmp_path / "texts.txt"
    path.write_text("".join(t + "\n" for t in texts), encoding="utf-8")
    out = subprocess.run(
        [cli.binary(), "predict", "--model", str(model_path), "--input", str(path),
         "--format", "jsonl", *extra],
        check=True, stdout=subprocess.PIPE, text=True,
    ).stdout
    rows = [json.loads(l, parse_float=str) for l in out.splitlines()]
    assert len(rows) == len(texts), "quarry predict gave one line per text"
    assert [r["line"] for r in rows] == list(range(1, len(texts) + 1))
    return [(r["labels"], r["probabilities"]) for r in rows]


def assert_same(got, expected):
    differ = [i for i, (g, e) in enumerate(zip(got, expected)) if g != e]
    assert not differ, (
        f"{len(differ)} of {len(expected)} texts differ; first: text {differ[0]} "
        f"{TEXTS[differ[0]]!r}: python {got[differ[0]]} vs cli {expected[differ[0]]}"
    )
    assert len(got) == len(expected)


def test_thresholds_one_per_label_in_open_interval(model):
    assert sorted(model.labels) == LABELS
    assert model.thresholds is not None
    assert len(model.thresholds) == model.classes == len(LABELS)
    assert all(0 < t < 1 for t in model.thresholds), model.thresholds


def test_predict_identical_to_cli(model, multi_model, tmp_path):
    expected = cli_predict_jsonl(multi_model, TEXTS, tmp_path)
    predictions = model.predict(TEXTS)
    assert_same([as_printed(p) for p in predictions], expected)
    # Several labels on some rows, and every row's labels are those at or above their
    # thresholds, most probable first.
    assert any(len(p.labels) >= 2 for p in predictions)
    index = {label: j for j, label in enumerate(model.labels)}
    for p, row in zip(predictions, model.probabilities(TEXTS)):
        above = {model.labels[j] for j in range(model.classes) if row[j] >= model.thresholds[j]}
        assert set(p.labels) == above
        assert list(p.probabilities) == sorted(p.probabilities, reverse=True)
        assert list(p.probabilities) == [row[index[label]] for label in p.labels]


@pytest.mark.parametrize("threshold", [0.99, 0.9])
def test_one_high_threshold_gives_fewer_labels(model, multi_model, tmp_path, threshold):
    default = model.predict(TEXTS)
    strict = model.predict(TEXTS, threshold=threshold)
    assert_same([as_printed(p) for p in strict],
                cli_predict_jsonl(multi_model, TEXTS, tmp_path, "--threshold", str(threshold)))
    assert sum(len(p.labels) for p in strict) < sum(len(p.labels) for p in default)
    assert all(q >= threshold for p in strict for q in p.probabilities)
    if threshold == 0.9:  # 0.99 may leave no label at all; 0.9 must leave some
        assert any(p.labels for p in strict)
    if max(model.thresholds) <= threshold:
        for d, s in zip(default, strict):
            assert set(s.labels) <= set(d.labels)


def test_k1_caps_to_one_label(model, multi_model, tmp_path):
    default = model.predict(TEXTS)
    top = model.predict(TEXTS, k=1)
    assert_same([as_printed(p) for p in top],
                cli_predict_jsonl(multi_model, TEXTS, tmp_path, "--k", "1"))
    assert all(len(p.labels) <= 1 for p in top)
    assert any(len(p.labels) > 1 for p in default)
    for d, t in zip(default, top):
        assert list(t.labels) == list(d.labels[:1])
        assert list(t.probabilities) == list(d.probabilities[:1])


def test_single_text_gives_one_prediction(model):
    text = TEXTS[0]
    one = model.predict(text)
    assert isinstance(one, quarry.Prediction)
    assert one == model.predict([text])[0]
    assert model.predict(text, threshold=0.99) == model.predict([text], threshold=0.99)[0]


def test_single_label_model_has_no_thresholds(single_model):
    with quarry.Model(single_model) as m:
        assert m.thresholds is None
        assert len(m.predict(TEXTS[:5])[0].labels) == 1
        with pytest.raises(ValueError, match="threshold"):
            m.predict(TEXTS[:5], threshold=0.5)
        with pytest.raises(ValueError, match="threshold"):
            m.predict(TEXTS[0], threshold=0.5)
