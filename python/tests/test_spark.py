"""quarry.spark.predict in local[2] mode gives `quarry predict`'s answers.

Skipped without pyspark, unless QUARRY_REQUIRE_SPARK=1 (Scripts/python-test sets it)."""

import os
import sys

import pytest

from conftest import cli_predict

if os.environ.get("QUARRY_REQUIRE_SPARK") != "1":
    pytest.importorskip("pyspark")

import quarry  # noqa: E402
import quarry.spark  # noqa: E402
# multi_model is a fixture: imported, it trains its model once for this module too.
from test_multilabel import TEXTS, cli_predict_jsonl, multi_model  # noqa: E402,F401


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    # Workers run this interpreter, which has the package installed.
    os.environ["PYSPARK_PYTHON"] = sys.executable
    session = (
        SparkSession.builder.master("local[2]").appName("quarry-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_predictions_identical_to_cli(spark, model_path, r8_test, tmp_path):
    _, texts = r8_test
    repeats = 3
    rows = [(i, r, t) for r in range(repeats) for i, t in enumerate(texts)]
    rows.append((-1, 0, None))
    df = spark.createDataFrame(rows, "i int, r int, text string").repartition(4)
    out = quarry.spark.predict(df, str(model_path), k=2).toPandas()
    assert len(out) == len(rows)
    assert list(out.columns) == ["i", "r", "text", "label", "probability", "labels",
                                 "probabilities"]

    expected = cli_predict(model_path, texts, 2, tmp_path)
    nulls = out[out.i < 0]
    assert nulls.label.isna().all() and nulls.probability.isna().all()
    out = out[out.i >= 0]
    assert sorted(zip(out.i, out.r)) == [(i, r) for i in range(len(texts)) for r in range(repeats)]
    bad = []
    for i, label, p, labels, probs in zip(out.i, out.label, out.probability, out.labels,
                                          out.probabilities):
        got = (list(labels), [quarry.probability_text(float(q)) for q in probs])
        e_labels, e_probs = expected[i]
        if got != (e_labels, e_probs) or label != e_labels[0] or \
                quarry.probability_text(float(p)) != e_probs[0]:
            bad.append((i, got, expected[i]))
    assert not bad, f"{len(bad)} rows differ from quarry predict; first: {bad[0]}"


def test_top1_only_columns(spark, model_path):
    df = spark.createDataFrame([("wheat exports fell",), ("net profit 5 mln dlrs",)], "text string")
    out = quarry.spark.predict(df, model_path).collect()
    m = quarry.Model(model_path)
    assert [r.label for r in out] == [p.labels[0] for p in m.predict([r.text for r in out])]
    assert set(out[0].asDict()) == {"text", "label", "probability"}


def test_errors_on_the_driver(spark, model_path, tmp_path):
    df = spark.createDataFrame([("x",)], "body string")
    with pytest.raises(ValueError, match="no column 'text'"):
        quarry.spark.predict(df, model_path)
    with pytest.raises(quarry.QuarryError, match="no such file"):
        quarry.spark.predict(df, tmp_path / "absent.qmodel", text_col="body")
    with pytest.raises(ValueError, match="already has a column 'label'"):
        quarry.spark.predict(df.withColumnRenamed("body", "label"), model_path, text_col="label")


def test_multi_label_model_gives_every_label_over_its_threshold(spark, multi_model, tmp_path):
    rows = [(i, t) for i, t in enumerate(TEXTS)] + [(-1, None)]
    df = spark.createDataFrame(rows, "i int, text string").repartition(3)
    for threshold, extra in [(None, ()), (0.9, ("--threshold", "0.9"))]:
        out = quarry.spark.predict(df, str(multi_model), threshold=threshold).toPandas()
        assert list(out.columns) == ["i", "text", "labels", "probabilities"]
        assert out[out.i < 0].labels.isna().all()
        out = out[out.i >= 0].sort_values("i")
        expected = cli_predict_jsonl(multi_model, TEXTS, tmp_path, *extra)
        got = [(list(l), [quarry.probability_text(float(q)) for q in p])
               for l, p in zip(out.labels, out.probabilities)]
        assert got == expected
        assert any(len(l) >= 2 for l, _ in got)
    capped = quarry.spark.predict(df, str(multi_model), k=1).toPandas()
    assert capped.labels.dropna().map(len).max() == 1


def test_multi_label_kind_is_checked(spark, multi_model, model_path):
    df = spark.createDataFrame([("bread and rain",)], "text string")
    with pytest.raises(ValueError, match="multi-label"):
        quarry.spark.predict(df, str(multi_model), multi_label=False)
    with pytest.raises(ValueError, match="threshold is for multi-label"):
        quarry.spark.predict(df, model_path, threshold=0.5)
    # Shipped by hand and declared single-label: the worker refuses it, naming the flag.
    spark.sparkContext.addFile(str(multi_model))
    with pytest.raises(Exception, match="multi_label=True"):
        quarry.spark.predict(df, os.path.basename(multi_model), ship=False).collect()
