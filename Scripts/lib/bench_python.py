"""Scripts/bench-python's measurements (issue 22): quarry's Python package against
fastText's Python module on Reuters R8's test texts, in one process, and on Spark in
local[2] mode with the test split repeated (218,900 rows at 100 copies).

  Python:  Model.predict(texts, k=1) vs fastText's model.predict(texts, k=1), the same
           texts in one list; the median of --rounds interleaved rounds after one untimed call.
  Spark:   quarry.spark.predict (a pandas UDF: Series -> label, probability) vs a fastText
           pandas UDF of the same shape, and quarry through mapInPandas (which sends whole
           rows, texts included, back to the JVM); each written to
           Spark's "noop" sink so every row is computed; the median of --spark-rounds runs,
           interleaved, after one warm-up run of each on a small slice (it starts the
           Python workers).
           The input is cached in Spark's memory before anything is timed.
  Checks:  the Python predictions, and every row of quarry's Spark output, equal
           `quarry predict --format jsonl` on the same texts (labels, and probabilities
           as printed with four decimals).

fastText: epoch 25, lr 0.5, wordNgrams 2, dim 50 (Scripts/lib/bench_workers.FT_PARAMS),
trained on R8's train split as it comes (R8 is tokenized by its distributor) and given
the same raw test texts as quarry.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_workers as W  # noqa: E402

import quarry  # noqa: E402
import quarry.spark  # noqa: E402


def read_tsv(path):
    labels, texts = [], []
    with open(path, encoding="utf-8", newline="") as f:
        for line in f.read().split("\n"):
            if line:
                label, text = line.rstrip("\r").split("\t", 1)
                labels.append(label)
                texts.append(text)
    return labels, texts


def cli_top1(quarry_bin, model, texts, work):
    """`quarry predict --format jsonl` of texts: [(label, probability as printed)]."""
    path = os.path.join(work, "texts.txt")
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("".join(t + "\n" for t in texts))
    out = subprocess.run([quarry_bin, "predict", "--model", model, "--input", path,
                          "--format", "jsonl"], check=True, stdout=subprocess.PIPE, text=True).stdout
    rows = [json.loads(l, parse_float=str) for l in out.splitlines()]
    return [(r["labels"][0], r["probabilities"][0]) for r in rows]


def interleaved(calls, rounds):
    """The median seconds of each call over `rounds` rounds, each round calling them all in
    turn (after one untimed call of each), so that a drifting load on a shared machine
    falls on every call alike."""
    for fn in calls.values():
        fn()
    times = {name: [] for name in calls}
    for _ in range(rounds):
        for name, fn in calls.items():
            t = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t)
    return {name: statistics.median(ts) for name, ts in times.items()}


def log(s):
    print(f"bench-python: {s}", file=sys.stderr, flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quarry", required=True)
    ap.add_argument("--model", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--python-copies", type=int, default=10)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--repeat", type=int, default=100)
    ap.add_argument("--spark-rounds", type=int, default=7)
    ap.add_argument("--partitions", type=int, default=4)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    import fasttext

    r8 = os.path.join(args.cache, "corpora", "r8")
    _, test_texts = read_tsv(os.path.join(r8, "test.tsv"))
    ft_model_path = os.path.join(args.work, "fasttext.bin")
    log("training fastText on R8 train")
    W.ft_train(os.path.join(r8, "train.tsv"), ft_model_path, args.seed,
               os.path.join(args.work, "fasttext-train.txt"))
    ft = fasttext.load_model(ft_model_path)
    expected = cli_top1(args.quarry, args.model, test_texts, args.work)
    rows = []  # (section, what, rows, seconds)

    # ---- Python, one process
    texts = test_texts * args.python_copies
    n = len(texts)
    check = [(p.labels[0], quarry.probability_text(p.probabilities[0]))
             for p in quarry.Model(args.model).predict(test_texts)]
    python_same = sum(a == tuple(b) for a, b in zip(check, expected))
    m1, m2 = quarry.Model(args.model, threads=1), quarry.Model(args.model, threads=2)
    calls = {
        "quarry Model.predict, threads=1": lambda: m1.predict(texts, k=1),
        "quarry Model.predict, threads=2": lambda: m2.predict(texts, k=1),
        "fastText model.predict (one thread)": lambda: ft.predict(texts, k=1),
    }
    for name, s in interleaved(calls, args.rounds).items():
        rows.append(("python", name, n, s))
    log(f"python done: {[(r[1], round(r[2] / r[3])) for r in rows]}")

    # ---- Spark, local[2]
    import numpy as np
    import pandas as pd
    from pyspark import SparkFiles
    from pyspark.sql import SparkSession
    from pyspark.sql.functions import pandas_udf

    os.environ["PYSPARK_PYTHON"] = sys.executable
    spark = (SparkSession.builder.master("local[2]").appName("quarry-bench")
             .config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.driver.memory", "2g")
             .config("spark.sql.execution.arrow.pyspark.enabled", "true")
             .getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    spark.sparkContext.addFile(ft_model_path)
    big = pd.DataFrame({"i": np.tile(np.arange(len(test_texts), dtype=np.int32), args.repeat),
                        "text": test_texts * args.repeat})
    df = spark.createDataFrame(big).repartition(args.partitions).cache()
    total = df.count()
    small = spark.createDataFrame(big.head(2000)).repartition(args.partitions)

    cut = len(W.LABEL_PREFIX)  # a constant here: the workers cannot import bench_workers

    @pandas_udf("label string, probability float")
    def fasttext_udf(text: pd.Series) -> pd.DataFrame:
        import fasttext as ftm
        model = getattr(ftm, "_bench_model", None)
        if model is None:
            model = ftm._bench_model = ftm.load_model(SparkFiles.get("fasttext.bin"))
        labels, probs = model.predict(text.tolist(), k=1)
        return pd.DataFrame({"label": [l[0][cut:] for l in labels],
                             "probability": np.array([p[0] for p in probs], dtype=np.float32)})

    model_name = os.path.basename(args.model)
    spark.sparkContext.addFile(args.model)

    def quarry_rows(batches):
        # The whole rows back to the JVM, as mapInPandas must: the text column too.
        m = quarry.spark._worker_model(model_name, 1)
        names = np.array(m.labels, dtype=object)
        for pdf in batches:
            ids, probs, _ = m.predict_arrays(pdf["text"].tolist(), 1)
            yield pdf.assign(label=names[np.frombuffer(ids, dtype=np.int32)],
                             probability=np.frombuffer(probs, dtype=np.float32))

    pipelines = {
        "quarry.spark.predict (pandas UDF)": lambda d: quarry.spark.predict(d, args.model),
        "quarry in mapInPandas (rows back)": lambda d: d.mapInPandas(
            quarry_rows, "i int, text string, label string, probability float"),
        "fastText pandas UDF": lambda d: d.withColumn("p", fasttext_udf("text")),
    }

    def run(d):
        d.write.format("noop").mode("overwrite").save()

    for make in pipelines.values():
        run(make(small))  # warm-up: starts and loads the Python workers
    # Rounds interleaved (A B C, A B C, ...): on a shared machine the load drifts, and
    # interleaving spreads the drift over every pipeline rather than onto one.
    times = {name: [] for name in pipelines}
    for _ in range(args.spark_rounds):
        for name, make in pipelines.items():
            t = time.perf_counter()
            run(make(df))
            times[name].append(time.perf_counter() - t)
    for name, ts in times.items():
        rows.append(("spark", name, total, statistics.median(ts)))
        log(f"spark {name}: {total / rows[-1][3]:.0f} rows/s ({', '.join(f'{t:.1f}' for t in ts)} s)")

    out = quarry.spark.predict(df, args.model).select("i", "label", "probability").toPandas()
    spark_same = sum(
        (lab, quarry.probability_text(float(p))) == tuple(expected[i])
        for i, lab, p in zip(out.i, out.label, out.probability))
    spark.stop()

    # ---- the table
    print(f"R8 test: {len(test_texts)} texts; Python timed on {n} ({args.python_copies} copies), "
          f"median of {args.rounds}; Spark local[2] on {total} rows ({args.repeat} copies, "
          f"{args.partitions} partitions), median of {args.spark_rounds}")
    print(f"{'':7} {'what':40} {'rows':>8} {'seconds':>8} {'rows/s':>9} {'vs fastText':>11}")
    base = {sec: next(r[2] / r[3] for r in rows if r[0] == sec and "fastText" in r[1])
            for sec in ("python", "spark")}
    for sec, what, count, s in rows:
        rate = count / s
        print(f"{sec:7} {what:40} {count:8d} {s:8.2f} {rate:9.0f} {rate / base[sec]:10.2f}x")
    print(f"check: Python predictions equal to quarry predict: {python_same}/{len(test_texts)}")
    print(f"check: Spark predictions equal to quarry predict: {spark_same}/{len(out)} "
          f"(of {total} rows)")
    if python_same != len(test_texts) or spark_same != total:
        sys.exit("bench-python: predictions differ from quarry predict")


if __name__ == "__main__":
    main()
