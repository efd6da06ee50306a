"""Batch prediction on Spark: `quarry.spark.predict(df, "r8.qmodel")` adds prediction columns.

The model file is shipped to every executor with `SparkContext.addFile` and loaded once per
Python worker (Spark reuses its workers across tasks), then each Arrow batch of texts is
scored in one call to libQuarryC inside a pandas UDF: no subprocess, no model pickled into
every task. A pandas UDF on the text column, not mapInPandas: only the texts travel to
Python and only the predictions back (mapInPandas sends every row both ways). On R8 in
local[2] the two measured the same (Scripts/bench-python, rounds interleaved); with wide
rows the UDF ships less. Executors need this package installed (or shipped with --py-files), and
libQuarryC.so is inside it.
"""

import os

from .model import Model

# Models loaded in this Python process, by the local path SparkFiles gave: one per worker.
_models = {}


def _worker_model(name, threads):
    from pyspark import SparkFiles

    path = SparkFiles.get(name)
    key = (path, threads)
    model = _models.get(key)
    if model is None:
        model = _models[key] = Model(path, threads=threads)
    return model


def predict(
    df, model_path, text_col="text", k=None, threads=1, ship=True,
    label_col="label", probability_col="probability",
    labels_col="labels", probabilities_col="probabilities",
    threshold=None, multi_label=None,
):
    """`df` with its text column's predictions appended, as `quarry predict --k k` gives
    them. A single-label model adds `label` (string) and `probability` (float) of the most
    probable class and, when k > 1, `labels` and `probabilities` (arrays of the k best, best
    first); k defaults to 1. A multi-label model adds only `labels` and `probabilities`:
    every label at or above its threshold (or `threshold`), most probable first, at most k
    (default: no cap). A null text gets null predictions.

    `model_path` is a model file on the driver, shipped with addFile; with ship=False it is
    the name of a file already shipped (spark-submit --files r8.qmodel: ship=False and
    model_path="r8.qmodel"), and `multi_label=True` must say when it is a multi-label model
    (the driver does not read it; a worker refuses a model of the other kind). `threads`
    are per Python worker: Spark runs one worker per task slot, so 1 keeps the cores to
    the slots.
    """
    from pyspark.sql.functions import pandas_udf
    from pyspark.sql.types import ArrayType, FloatType, StringType, StructField, StructType

    if k is not None and k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if text_col not in df.columns:
        raise ValueError(f"the DataFrame has no column {text_col!r} (it has {df.columns})")
    name = os.path.basename(model_path)
    if ship:
        # Loading on the driver first checks the file here, with the library's message.
        driver = Model(model_path, threads=1)
        found = driver.thresholds is not None
        driver.close()
        if multi_label is not None and multi_label != found:
            raise ValueError(f"{model_path} is {'multi' if found else 'single'}-label")
        multi_label = found
    multi_label = bool(multi_label)
    if threshold is not None:
        if not multi_label:
            raise ValueError(
                "threshold is for multi-label models; this one is single-label" if ship else
                "threshold is for multi-label models: with ship=False pass multi_label=True"
            )
        if not 0 < threshold < 1:
            raise ValueError(f"threshold must be between 0 and 1 (exclusive), got {threshold}")
    if multi_label:
        outputs = [labels_col, probabilities_col]
    else:
        k = 1 if k is None else k
        outputs = [label_col, probability_col] + ([labels_col, probabilities_col] if k > 1 else [])
    for c in outputs:
        if c in df.columns:
            raise ValueError(f"the DataFrame already has a column {c!r}: choose another name")
    if ship:
        df.sparkSession.sparkContext.addFile(os.path.abspath(model_path))
    arrays = [
        StructField(labels_col, ArrayType(StringType())),
        StructField(probabilities_col, ArrayType(FloatType())),
    ]
    top = [StructField(label_col, StringType()), StructField(probability_col, FloatType())]
    fields = arrays if multi_label else top + (arrays if k > 1 else [])
    result = StructType(fields)
    body = (
        _multi_label_scorer(name, k, threshold, threads, outputs) if multi_label
        else _scorer(name, k, threads, outputs)
    )
    score = pandas_udf(body, result)
    tmp = "__quarry_prediction"
    while tmp in df.columns:
        tmp += "_"
    scored = df.withColumn(tmp, score(df[text_col]))
    return scored.select(
        *[scored[c] for c in df.columns], *[scored[tmp].getField(c).alias(c) for c in outputs]
    )


def _checked_model(name, threads, multi_label):
    """The worker's model, refused when it is not of the kind the schema was built for."""
    model = _worker_model(name, threads)
    if (model.thresholds is not None) != multi_label:
        from .errors import QuarryError

        kind = "multi" if model.thresholds is not None else "single"
        raise QuarryError(
            f"{name} is a {kind}-label model: pass multi_label={kind == 'multi'} to "
            "quarry.spark.predict"
        )
    return model


def _multi_label_scorer(name, k, threshold, threads, columns):
    """The pandas UDF's body for a multi-label model: every label at or above its
    threshold, as `Model.predict` gives them."""

    import pandas as pd

    def score(texts: pd.Series) -> pd.DataFrame:
        model = _checked_model(name, threads, True)
        missing = texts.isna().to_numpy()
        filled = texts.where(~missing, "") if missing.any() else texts
        predictions = model.predict(filled.tolist(), k, threshold=threshold)
        labels = [None if m else p.labels for p, m in zip(predictions, missing)]
        probs = [None if m else p.probabilities for p, m in zip(predictions, missing)]
        return pd.DataFrame(dict(zip(columns, [labels, probs])))

    return score


def _scorer(name, k, threads, columns):
    """The pandas UDF's body: a batch of texts (a Series) to a DataFrame of `columns`."""

    import pandas as pd

    def score(texts: pd.Series) -> pd.DataFrame:
        import numpy as np

        model = _checked_model(name, threads, False)
        names = np.array(model.labels, dtype=object)
        missing = texts.isna().to_numpy()
        filled = texts.where(~missing, "") if missing.any() else texts
        ids, probs, kk = model.predict_arrays(filled.tolist(), k)
        ids = np.frombuffer(ids, dtype=np.int32).reshape(-1, kk)
        probs = np.frombuffer(probs, dtype=np.float32).reshape(-1, kk)
        top_label = names[ids[:, 0]]
        top_p = probs[:, 0].copy()
        if missing.any():
            top_label[missing] = None
            top_p[missing] = np.nan  # Arrow writes a masked NaN as null
        values = [top_label, top_p]
        if k > 1:
            lab, pr = list(names[ids]), list(probs)
            for i in np.flatnonzero(missing):
                lab[i] = pr[i] = None
            values += [lab, pr]
        return pd.DataFrame(dict(zip(columns, values)))

    return score
