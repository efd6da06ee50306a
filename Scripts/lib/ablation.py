"""Ablation of Quarry's mined pass and the label-error benchmark (run by Scripts/ablation).

Recipes, each a set of `quarry finetune` flags (cross-fitting off: it does not change the
model, only mine-report's label checks):
  plain              no mined pass
  +mining            the mined pass, cross-entropy, no variants
  +mining+focal      the mined pass with focal loss (gamma 2), no variants
  +mining+focal+aug  the same with EDA variants (the issue's full recipe; Quarry's default)
  +mining+aug (CE)   the mined pass with variants and cross-entropy (--focal-gamma 0)

Data: Reuters R8, in full (seeds 1-6) and as seeded stratified subsets of its training
split (200 and 1,000 rows, 5 seeds each), always scored on the full R8 test split.
Label errors: 5% of the training labels of R8 and SMS flipped to another class (noise
seeds 5, 6, 7 by default), quarry finetune on the noisy file, quarry mine-report --json,
and precision / recall / F1 of label_issues against the flipped lines, the AUC of the data
map's confidence (flipped against clean rows), with the wall time of both commands.
Post-processing: R52, R8 and SMS (standard splits), training seeds 1-5 by default, each
model scored three ways by quarry evaluate: raw (--class-bias off --temperature off),
with the class offsets only (--temperature off), and as shipped; accuracy, macro-F1, ECE
and log loss, and how many runs kept offsets or a temperature.
"""

import argparse
import collections
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

RECIPES = [
    ("plain", ["--no-mine"]),
    ("+mining", ["--no-augment", "--focal-gamma", "0"]),
    ("+mining+focal", ["--no-augment", "--focal-gamma", "2"]),
    ("+mining+focal+aug", ["--focal-gamma", "2"]),
    ("+mining+aug (CE)", ["--focal-gamma", "0"]),
]


def log(msg):
    print("[ablation %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def read_tsv(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n").split("\t", 1) for line in f if line.strip()]


def write_tsv(path, rows):
    with open(path, "w", encoding="utf-8") as f:
        for label, text in rows:
            f.write(label + "\t" + text + "\n")


def stratified_subset(rows, size, seed):
    """Proportional per class, at least 2 rows each, the largest class absorbing rounding."""
    by = collections.defaultdict(list)
    for i, (label, _) in enumerate(rows):
        by[label].append(i)
    alloc = {y: max(2, round(size * len(v) / len(rows))) for y, v in by.items()}
    alloc[max(alloc, key=alloc.get)] += size - sum(alloc.values())
    rng = random.Random(seed * 1000 + size)
    pick = []
    for y in sorted(by):
        pick += rng.sample(by[y], alloc[y])
    return [rows[i] for i in sorted(pick)]


def flip_labels(rows, share, seed):
    """Flips round(share * N) labels, each to a uniformly chosen other class."""
    labels = sorted({y for y, _ in rows})
    rng = random.Random(seed)
    out = [list(r) for r in rows]
    flipped = set()
    for i in sorted(rng.sample(range(len(rows)), round(share * len(rows)))):
        out[i][0] = rng.choice([y for y in labels if y != out[i][0]])
        flipped.add(i + 1)  # 1-based line numbers
    return out, flipped


def run(cmd, stderr=False):
    """CMD's stdout (with stderr=True, its stderr); a failure stops the run."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise SystemExit("failed: %s\n%s" % (" ".join(cmd), r.stderr[-2000:]))
    return r.stderr if stderr else r.stdout


def macro_f1(quarry, train, test, vectors, flags, work, seed=1):
    model = os.path.join(work, "m.qmodel")
    run([quarry, "finetune", "--train", train, "--pretrained", vectors, "--output", model,
         "--seed", str(seed), "--cross-fit", "0"] + flags)
    d = json.loads(run([quarry, "evaluate", "--model", model, "--data", test, "--json"]))
    return d["macro_f1"], d["accuracy"]


def auc(low, high):
    """P(a score of `low` < a score of `high`), ties counted half: the rank-sum statistic."""
    scored = sorted([(v, 0) for v in low] + [(v, 1) for v in high])
    rank_sum, i = 0.0, 0
    while i < len(scored):
        j = i
        while j + 1 < len(scored) and scored[j + 1][0] == scored[i][0]:
            j += 1
        rank_sum += sum((i + j) / 2 + 1 for k in range(i, j + 1) if scored[k][1] == 1)
        i = j + 1
    n = len(high)
    return (rank_sum - n * (n + 1) / 2) / (n * len(low))


def label_errors(quarry, corpus, rows, seed, vectors, work):
    """5% of `rows`' labels flipped (noise `seed`), finetune and mine-report on the noisy
    file: precision, recall and F1 of label_issues against the flipped lines, the AUC of
    the data map's confidence (flipped rows lower than clean ones), and the wall time."""
    noisy, flipped = flip_labels(rows, 0.05, seed=seed)
    path = os.path.join(work, "%s-noisy.tsv" % corpus)
    write_tsv(path, noisy)
    model = os.path.join(work, "noisy.qmodel")
    start = time.time()
    run([quarry, "finetune", "--train", path, "--pretrained", vectors, "--output", model])
    report = json.loads(run([quarry, "mine-report", "--model", model, "--data", path,
                             "--json"]))
    secs = time.time() - start
    got = {x["line"] for x in report["label_issues"]}
    tp = len(got & flipped)
    p = tp / max(1, len(got))
    r = tp / len(flipped)
    conf = [(x["line"] in flipped, x["confidence"]) for x in report["data_map"]]
    d = {"noise_seed": seed, "flipped": len(flipped), "flagged": len(got), "true": tp,
         "precision": p, "recall": r, "f1": 2 * p * r / max(1e-9, p + r),
         "auc": auc([c for f, c in conf if f], [c for f, c in conf if not f]),
         "seconds": secs, "source": report["source"]}
    log("%s noise seed %d label errors: precision %.3f recall %.3f AUC %.3f (%.1f s)" % (
        corpus, seed, p, r, d["auc"], secs))
    return d


# The three ways a model is scored, as quarry evaluate flags.
SCORINGS = [
    ("raw", ["--class-bias", "off", "--temperature", "off"]),
    ("offsets", ["--temperature", "off"]),
    ("shipped", []),
]


def post_processing(quarry, cache, corpus, seed, vectors, work):
    """One default finetune on CORPUS's training split, scored three ways on its test split."""
    model = os.path.join(work, "post.qmodel")
    cmd = [quarry, "finetune", "--train", os.path.join(cache, "corpora/%s/train.tsv" % corpus),
           "--output", model, "--seed", str(seed), "--no-checkpoint", "--force"]
    if corpus != "thucnews":
        cmd += ["--pretrained", vectors]
    notes = run(cmd, stderr=True)
    d = {"corpus": corpus, "seed": seed,
         "offsets_kept": "is added to the model" in notes,
         "temperature_fitted": "calibration: temperature" in notes}
    for name, flags in SCORINGS:
        e = json.loads(run([quarry, "evaluate", "--model", model, "--data",
                            os.path.join(cache, "corpora/%s/test.tsv" % corpus), "--json"]
                           + flags))
        d[name] = {k: e[k] for k in ("accuracy", "macro_f1", "ece", "log_loss")}
    log("%s seed %d: %s" % (corpus, seed, "  ".join(
        "%s %.4f/%.4f ECE %.4f ll %.4f" % (n, d[n]["accuracy"], d[n]["macro_f1"], d[n]["ece"],
                                           d[n]["log_loss"]) for n, _ in SCORINGS)))
    return d


def summary(values):
    return {"mean": statistics.mean(values),
            "sd": statistics.stdev(values) if len(values) > 1 else 0.0,
            "values": values}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quarry", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quick", action="store_true", help="2 subset seeds, 1 full seed")
    ap.add_argument("--only", choices=["ablation", "label-errors", "post-processing"],
                    help="run one of the three parts")
    ap.add_argument("--noise-seeds", type=int, nargs="+", default=[5, 6, 7],
                    help="seeds of the flipped labels (default: 5 6 7)")
    ap.add_argument("--post-seeds", type=int, nargs="+", default=[1, 2, 3, 4, 5],
                    help="training seeds of the post-processing part (default: 1-5)")
    ap.add_argument("--post-corpora", nargs="+", default=["r52", "r8", "sms"],
                    help="corpora of the post-processing part (default: r52 r8 sms)")
    a = ap.parse_args()
    vectors = os.path.join(a.cache, "vectors/glove.6B.50d.vec")
    r8_train = read_tsv(os.path.join(a.cache, "corpora/r8/train.tsv"))
    r8_test = os.path.join(a.cache, "corpora/r8/test.tsv")
    subset_seeds = [1, 2] if a.quick else [1, 2, 3, 4, 5]
    full_seeds = [1] if a.quick else [1, 2, 3, 4, 5, 6]
    out = {"date": time.strftime("%Y-%m-%d"), "ablation": {}, "label_errors": {},
           "post_processing": {}}
    with tempfile.TemporaryDirectory() as work:
        for size in (200, 1000, None) if a.only in (None, "ablation") else ():
            name = "r8-%d" % size if size else "r8-full"
            seeds = subset_seeds if size else full_seeds
            paths = {}
            for s in seeds:
                if size:
                    p = os.path.join(work, "%s-s%d.tsv" % (name, s))
                    write_tsv(p, stratified_subset(r8_train, size, s))
                    paths[s] = p
                else:
                    paths[s] = os.path.join(a.cache, "corpora/r8/train.tsv")
            out["ablation"][name] = {}
            for recipe, flags in RECIPES:
                f1s = []
                for s in seeds:
                    f1, _ = macro_f1(a.quarry, paths[s], r8_test, vectors, flags, work,
                                     seed=s if not size else 1)
                    f1s.append(f1)
                out["ablation"][name][recipe] = summary(f1s)
                log("%s %-18s macro-F1 %.4f ± %.4f" % (name, recipe, statistics.mean(f1s),
                                                      out["ablation"][name][recipe]["sd"]))
        if a.only in (None, "label-errors"):
            for corpus in ("r8", "sms"):
                rows = read_tsv(os.path.join(a.cache, "corpora/%s/train.tsv" % corpus))
                out["label_errors"][corpus] = [
                    label_errors(a.quarry, corpus, rows, seed, vectors, work)
                    for seed in a.noise_seeds]
        if a.only in (None, "post-processing"):
            for corpus in a.post_corpora:
                out["post_processing"][corpus] = [
                    post_processing(a.quarry, a.cache, corpus, seed, vectors, work)
                    for seed in a.post_seeds]
    if a.json:
        print(json.dumps(out, indent=2))
        return
    if out["ablation"]:
        print_ablation(out)
    if out["ablation"] and out["label_errors"]:
        print()
    if out["label_errors"]:
        print_label_errors(out, a)
    if out["post_processing"]:
        if out["ablation"] or out["label_errors"]:
            print()
        print_post_processing(out, a)


def fmt(sm):
    return "%.3f ± %.3f" % (sm["mean"], sm["sd"])


def print_ablation(out):
    print("Ablation: R8 test macro-F1, mean ± sd (%s)" % out["date"])
    names = list(out["ablation"])
    print("%-20s" % "recipe" + "".join("%22s" % n for n in names))
    for recipe, _ in RECIPES:
        print("%-20s" % recipe + "".join(
            "%22s" % ("%.4f ± %.4f" % (out["ablation"][n][recipe]["mean"],
                                       out["ablation"][n][recipe]["sd"])) for n in names))


def print_label_errors(out, a):
    print("Label errors (5%% of training labels flipped; noise seeds %s): quarry finetune + "
          "mine-report; AUC: the data map's confidence, flipped against clean rows"
          % ", ".join(map(str, a.noise_seeds)))
    for corpus, runs in out["label_errors"].items():
        for d in runs:
            print("%-4s seed %-2d flipped %d, flagged %d, precision %.3f, recall %.3f, F1 %.3f, "
                  "AUC %.3f, %.1f s (%s)" % (
                      corpus, d["noise_seed"], d["flipped"], d["flagged"], d["precision"],
                      d["recall"], d["f1"], d["auc"], d["seconds"], d["source"]))
        print("%-4s mean   " % corpus + ", ".join(
            "%s %s" % (k, fmt(summary([d[k] for d in runs]))) for k in
            ("precision", "recall", "f1", "auc")))


def print_post_processing(out, a):
    print("Post-processing: each model scored raw, with its class offsets only, and as "
          "shipped (offsets and temperature); test split, mean ± sd over training seeds %s"
          % ", ".join(map(str, a.post_seeds)))
    print("%-8s %-8s %-16s %-16s %-16s %-16s %s" % (
        "corpus", "scoring", "accuracy", "macro-F1", "ECE", "log loss", "kept"))
    for corpus, runs in out["post_processing"].items():
        kept = "offsets %d/%d, temperature %d/%d" % (
            sum(d["offsets_kept"] for d in runs), len(runs),
            sum(d["temperature_fitted"] for d in runs), len(runs))
        for name, _ in SCORINGS:
            cells = ["%.4f ± %.4f" % (s["mean"], s["sd"]) for s in (
                summary([d[name][k] for d in runs])
                for k in ("accuracy", "macro_f1", "ece", "log_loss"))]
            print("%-8s %-8s %-16s %-16s %-16s %-16s %s" % (
                corpus, name, *cells, kept if name == "shipped" else ""))


if __name__ == "__main__":
    main()
