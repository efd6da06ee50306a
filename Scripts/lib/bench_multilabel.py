#!/usr/bin/env python3
"""Multi-label baselines on the debtags corpus of Scripts/setup (or any corpus in its
format: `tag1,tag2,...<TAB>text` per line), against Quarry.  Run by Scripts/bench-multilabel
in the bench venv ($CACHE/venv-bench: scikit-learn, numpy, fasttext-wheel).

  svc-balanced  TfidfVectorizer(1-2 grams, sublinear tf) + OneVsRestClassifier(LinearSVC(C=1,
                class_weight='balanced')); a label is predicted where decision_function > 0
  svc           the same without class weights
  fasttext      fastText supervised -loss ova (epoch 25, lr 0.5, wordNgrams 2, dim 50, thread 2,
                as Scripts/bench's fastText but for the loss), text tokenized as Scripts/bench
                does (bench_workers.tokenize, "words"); the labels with probability above 0.5
                (predict k=-1, threshold 0.5)
  quarry        quarry finetune --train TRAIN --output M --seed S --pretrained GLOVE
                [--quarry-args ...] (GLOVE: $CACHE/vectors/glove.6B.50d.vec from Scripts/setup,
                as the README trains; --quarry-pretrained changes it, '' drops it, and
                --quarry-args naming --pretrained replaces it), then quarry predict --model M
                --input TEST-TEXTS --format jsonl: the labels printed on each line (every label
                at or above its tuned threshold) are the row's predicted set, scored by this
                script like the others; a failure is a row "failed: <reason>".  quarry evaluate
                --model M --data TEST --json runs after it as a cross-check only: a warning
                when its micro_f1, or its macro_f1 against this script's macro-F1 over the
                same labels as evaluate's (any gold or predicted test row), differs by more
                than 1e-3 from the figure computed from predict's sets

Scores, all computed here from the predicted label sets, over the labels of train and
test (all of them in the debtags split):
  micro-F1      F1 of all (row, label) decisions pooled
  macro-F1      the mean F1 of the labels present in train (a label with no true and no
                predicted test row scores 0, as sklearn's zero_division=0).  This is the
                table's macro-F1 for every system, Quarry included.  Quarry's evaluate
                averages instead over the labels with any gold or predicted test row; the
                two agree when every train label is in test or predicted (as on debtags),
                and the notes say when they do not
  subset acc    share of test rows whose predicted label set is exactly the true one
  Hamming loss  share of (row, label) decisions that are wrong
A row may be given no label at all (no fallback to the best label).

Timings are wall seconds on this machine: train (for scikit-learn the vectorizer and the
fit, in process; for fastText writing its training file and training; for Quarry the
finetune process) and predict (scikit-learn: transform + decision_function of the test
texts; fastText: predict of the test texts, tokenized beforehand; Quarry: the predict
process on the test texts, written one a line beforehand, model loading included; its
evaluate is not timed), and test texts per predict second.
With --seeds a,b,c, fastText and Quarry run once a seed and show mean +- sd (sample sd);
scikit-learn runs once (random_state = the first seed).  Progress on stderr, the Markdown
table (or --json) on stdout.
"""

import argparse
import json
import math
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import bench_workers as W  # noqa: E402  (pure Python: fastText's settings and tokenizer)

ROOT = os.path.dirname(os.path.dirname(HERE))
ALL_SYSTEMS = ["svc-balanced", "svc", "fasttext", "quarry"]
SEEDED = {"fasttext", "quarry"}
FT_PARAMS = dict(W.FT_PARAMS, loss="ova")
FT_THRESHOLD = 0.5
FT_TOKENIZE = "words"
METRICS = ["micro_f1", "macro_f1", "subset_accuracy", "hamming_loss"]
CROSS_CHECK_TOLERANCE = 1e-3
TITLES = {
    "svc-balanced": "TF-IDF 1-2g + OvR LinearSVC, balanced",
    "svc": "TF-IDF 1-2g + OvR LinearSVC",
    "fasttext": "fastText -loss ova, p > 0.5",
    "quarry": "Quarry",
}


def log(msg):
    print("[bench-multilabel %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


def read_corpus(path):
    """(label sets, texts) of a `tag1,tag2<TAB>text` file; blank lines skipped."""
    labels, texts = [], []
    with open(path, encoding="utf-8", newline="\n") as f:
        for n, line in enumerate(f, start=1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip():
                continue
            lab, tab, text = line.partition("\t")
            if not tab:
                sys.exit("%s:%d: no tab" % (path, n))
            labels.append(frozenset(t for t in lab.split(",") if t))
            texts.append(text)
    if not texts:
        sys.exit("%s: no rows" % path)
    return labels, texts


def multilabel_scores(gold, pred, label_space, macro_labels):
    """micro/macro-F1, subset accuracy and Hamming loss of predicted label sets."""
    index = {lab: i for i, lab in enumerate(label_space)}
    n_lab = len(label_space)
    tp = [0] * n_lab
    fp = [0] * n_lab
    fn = [0] * n_lab
    exact = 0
    for g, p in zip(gold, pred):
        p = frozenset(x for x in p if x in index)
        exact += g == p
        for x in g & p:
            tp[index[x]] += 1
        for x in p - g:
            fp[index[x]] += 1
        for x in g - p:
            fn[index[x]] += 1

    def f1(t, f_p, f_n):
        return 2 * t / (2 * t + f_p + f_n) if t + f_p + f_n else 0.0

    T, FP, FN = sum(tp), sum(fp), sum(fn)
    macro = [f1(tp[index[lab]], fp[index[lab]], fn[index[lab]]) for lab in macro_labels]
    # Quarry evaluate's macro-F1: over the labels with any gold or predicted test row.
    present = [f1(tp[i], fp[i], fn[i]) for i in range(n_lab) if tp[i] + fp[i] + fn[i]]
    return {
        "micro_f1": f1(T, FP, FN),
        "macro_f1": sum(macro) / len(macro),
        "macro_f1_present": sum(present) / len(present) if present else 0.0,
        "macro_labels_absent": sum(1 for lab in macro_labels
                                   if not tp[index[lab]] + fp[index[lab]] + fn[index[lab]]),
        "subset_accuracy": exact / len(gold),
        "hamming_loss": (FP + FN) / (len(gold) * n_lab),
        "predicted_labels_per_row": sum(len(p) for p in pred) / len(pred),
    }


def run_svc(data, balanced, seed):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.multiclass import OneVsRestClassifier
    from sklearn.preprocessing import MultiLabelBinarizer
    from sklearn.svm import LinearSVC

    mlb = MultiLabelBinarizer(classes=data["train_labels_sorted"])
    y = mlb.fit_transform(data["train_y"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        t0 = time.perf_counter()
        tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        x = tfidf.fit_transform(data["train_x"])
        clf = OneVsRestClassifier(
            LinearSVC(C=1, class_weight="balanced" if balanced else None, random_state=seed), n_jobs=1)
        clf.fit(x, y)
        train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    scores = clf.decision_function(tfidf.transform(data["test_x"]))
    predict_s = time.perf_counter() - t1
    classes = mlb.classes_
    pred = [frozenset(classes[j] for j in row.nonzero()[0]) for row in (scores > 0)]
    res = {"train_seconds": train_s, "predict_seconds": predict_s, "features": x.shape[1]}
    not_converged = sum(1 for w in caught if issubclass(w.category, ConvergenceWarning))
    if not_converged:
        res["warnings"] = ["%d of %d LinearSVC fits did not converge" % (not_converged, len(classes))]
    return res, pred


def run_fasttext(data, seed, work):
    import random

    import fasttext

    train_ft = os.path.join(work, "fasttext-train.txt")
    t0 = time.perf_counter()
    lines = ["%s %s\n" % (" ".join(W.LABEL_PREFIX + W.ft_label(t) for t in sorted(labs)), txt)
             for labs, txt in zip(data["train_y"], data["ft_train_x"])]
    random.Random(seed).shuffle(lines)
    with open(train_ft, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(lines)
    model = fasttext.train_supervised(**dict(FT_PARAMS, input=train_ft, seed=seed, verbose=0))
    train_s = time.perf_counter() - t0
    os.unlink(train_ft)
    t1 = time.perf_counter()
    labels, _ = model.predict(data["ft_test_x"], k=-1, threshold=FT_THRESHOLD)
    predict_s = time.perf_counter() - t1
    n = len(W.LABEL_PREFIX)
    pred = [frozenset(l[n:] for l in row) for row in labels]
    return {"train_seconds": train_s, "predict_seconds": predict_s}, pred


def first_error_line(stderr):
    """The first line of stderr that says error, else its first non-blank line."""
    lines = [l.strip() for l in stderr.replace("\r", "\n").splitlines() if l.strip()]
    for l in lines:
        if "error" in l.lower():
            return l
    return lines[0] if lines else "(no stderr)"


class QuarryFailed(Exception):
    pass


def quarry_finetune_flags(args):
    """finetune's flags from --quarry-pretrained and --quarry-args (the latter win)."""
    extra = shlex.split(args.quarry_args)
    names_pretrained = any(a == "--pretrained" or a.startswith("--pretrained=") for a in extra)
    if args.quarry_pretrained and not names_pretrained:
        return ["--pretrained", args.quarry_pretrained] + extra
    return extra


def run_quarry_process(args, what, cmd):
    """Runs one quarry process: (CompletedProcess, wall seconds); QuarryFailed when it
    cannot start or times out."""
    t0 = time.perf_counter()
    try:
        done = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              errors="replace", timeout=args.quarry_timeout or None)
    except subprocess.TimeoutExpired:
        raise QuarryFailed("%s took over %d s (--quarry-timeout)" % (what, args.quarry_timeout))
    except OSError as e:
        raise QuarryFailed("cannot run %s: %s" % (args.quarry, e))
    return done, time.perf_counter() - t0


def parse_predict_jsonl(stdout, n):
    """The label lists of `quarry predict --format jsonl`'s n lines, in input order."""
    rows = [l for l in stdout.splitlines() if l.strip()]
    if len(rows) != n:
        raise QuarryFailed("predict printed %d lines for %d texts" % (len(rows), n))
    pred = []
    for i, line in enumerate(rows, start=1):
        try:
            obj = json.loads(line)
        except ValueError:
            raise QuarryFailed("predict line %d is not JSON: %.80s" % (i, line))
        labels = obj.get("labels") if isinstance(obj, dict) else None
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise QuarryFailed("predict line %d has no list of labels: %.80s" % (i, line))
        if obj.get("line", i) != i:
            raise QuarryFailed("predict line %d says line %r" % (i, obj.get("line")))
        pred.append(frozenset(labels))
    return pred


def quarry_evaluate(args, model):
    """evaluate --json's object (the cross-check), or a warning string when it fails."""
    try:
        ev, _ = run_quarry_process(
            args, "evaluate", [args.quarry, "evaluate", "--model", model, "--data", args.test, "--json"])
    except QuarryFailed as e:
        return None, "evaluate (cross-check): %s" % e
    if ev.returncode != 0:
        return None, "evaluate (cross-check) exit %d: %s" % (ev.returncode, first_error_line(ev.stderr))
    obj = None
    for text in [ev.stdout] + list(reversed(ev.stdout.strip().splitlines())):
        try:
            obj = json.loads(text)
        except ValueError:
            continue
        if isinstance(obj, dict):
            break
        obj = None
    if obj is None:
        return None, "evaluate (cross-check) printed no JSON object: %s" % first_error_line(ev.stdout or ev.stderr)
    missing = [k for k in METRICS if not isinstance(obj.get(k), (int, float))]
    if missing:
        return None, "evaluate (cross-check) --json has no numeric %s" % ", ".join(missing)
    return {k: float(obj[k]) for k in METRICS}, None


def run_quarry(args, data, seed, work):
    """finetune, then predict on the test texts (timed, scored here), then evaluate (the
    cross-check, untimed): (result, predicted label sets)."""
    model = os.path.join(work, "quarry-%d.qmodel" % seed)
    texts = os.path.join(work, "test-texts.txt")
    with open(texts, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(t + "\n" for t in data["test_x"])
    flags = quarry_finetune_flags(args)
    for i, a in enumerate(flags):
        if a == "--pretrained" and i + 1 < len(flags) and not os.path.isfile(flags[i + 1]):
            raise QuarryFailed("no vectors at %s (run Scripts/setup, or --quarry-pretrained)" % flags[i + 1])
    cmd = [args.quarry, "finetune", "--train", args.train, "--output", model, "--seed", str(seed)] + flags
    try:
        tr, train_s = run_quarry_process(args, "finetune", cmd)
        if tr.returncode != 0:
            raise QuarryFailed("finetune exit %d: %s" % (tr.returncode, first_error_line(tr.stderr)))
        pr, predict_s = run_quarry_process(
            args, "predict", [args.quarry, "predict", "--model", model, "--input", texts, "--format", "jsonl"])
        if pr.returncode != 0:
            raise QuarryFailed("predict exit %d: %s" % (pr.returncode, first_error_line(pr.stderr)))
        pred = parse_predict_jsonl(pr.stdout, data["n_test"])
        evaluated, warning = quarry_evaluate(args, model)
    finally:
        if not args.keep_work:
            for p in (model, model + ".checkpoint"):
                if os.path.exists(p):
                    os.unlink(p)
    res = {"train_seconds": train_s, "predict_seconds": predict_s, "finetune_flags": flags}
    if evaluated is not None:
        res["evaluate"] = evaluated
    if warning:
        res["warnings"] = [warning]
    return res, pred


def quarry_cross_check(res):
    """Warnings where evaluate's micro_f1 or macro_f1 and this script's figures from
    predict's sets differ by more than CROSS_CHECK_TOLERANCE."""
    ev = res.get("evaluate")
    if not ev:
        return
    pairs = [("micro_f1", "micro_f1"), ("macro_f1", "macro_f1_present")]
    for theirs, ours in pairs:
        diff = abs(ev[theirs] - res[ours])
        if diff > CROSS_CHECK_TOLERANCE:
            msg = ("evaluate's %s %.4f differs from %.4f computed here from predict's sets (by %.4f)"
                   % (theirs, ev[theirs], res[ours], diff))
            res.setdefault("warnings", []).append(msg)
            log("warning: seed %s: %s" % (res.get("seed"), msg))


def mean_sd(values):
    values = [v for v in values if v is not None]
    if not values:
        return None, None
    m = sum(values) / len(values)
    sd = math.sqrt(sum((v - m) ** 2 for v in values) / (len(values) - 1)) if len(values) > 1 else None
    return m, sd


def fmt(values, digits):
    m, sd = mean_sd(values)
    if m is None:
        return "-"
    if sd is None:
        return "%.*f" % (digits, m)
    return "%.*f ± %.*f" % (digits, m, digits, sd)


def table(results, data, args):
    out = ["| system | micro-F1 | macro-F1 | subset acc | Hamming loss | train s | predict s | texts/s |",
           "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for system, runs in results.items():
        title = TITLES[system]
        ok = [r for r in runs if "failed" not in r]
        if system in SEEDED:
            title += " (%d seed%s)" % (len(runs), "" if len(runs) == 1 else "s")
        if not ok:
            out.append("| %s | failed: %s | | | | | | |" % (title, runs[0]["failed"].replace("|", "\\|")))
            continue
        if len(ok) < len(runs):
            title += ", %d failed" % (len(runs) - len(ok))
        cells = [fmt([r[k] for r in ok], 4 if k == "hamming_loss" else 3) for k in METRICS]
        cells += [fmt([r["train_seconds"] for r in ok], 1), fmt([r["predict_seconds"] for r in ok], 2),
                  fmt([data["n_test"] / r["predict_seconds"] for r in ok], 0)]
        out.append("| %s | %s |" % (title, " | ".join(cells)))
    notes = ["",
             "%s: %d train / %d test rows, %d labels in train (%.2f a test row)."
             % (os.path.basename(os.path.dirname(os.path.abspath(args.train))) or args.train,
                data["n_train"], data["n_test"], len(data["train_labels_sorted"]), data["test_labels_per_row"])]
    for system, runs in results.items():
        for r in runs:
            for w in r.get("warnings", []):
                notes.append("%s%s: %s" % (system, " seed %s" % r["seed"] if system in SEEDED else "", w))
        ok = [r for r in runs if "predicted_labels_per_row" in r]
        if ok:
            notes.append("%s: %.2f labels predicted a row" % (
                system, sum(r["predicted_labels_per_row"] for r in ok) / len(ok)))
            absent = max(r["macro_labels_absent"] for r in ok)
            if absent:
                notes.append("%s: up to %d train labels with no gold or predicted test row score 0 in macro-F1"
                             " (evaluate-style macro-F1, without them: %s)"
                             % (system, absent, fmt([r["macro_f1_present"] for r in ok], 3)))
        failed = [r for r in runs if "failed" in r]
        if failed and (len(failed) < len(runs) or len({r["failed"] for r in failed}) > 1):
            for r in failed:
                notes.append("%s seed %s: failed: %s" % (system, r["seed"], r["failed"]))
    quarry_ok = [r for r in results.get("quarry", []) if "failed" not in r]
    if quarry_ok:
        notes.append("quarry: finetune %s; scored here from `quarry predict --format jsonl`'s labels; "
                     "predict s is that predict process (model loading included)."
                     % (" ".join(shlex.quote(a) for a in quarry_ok[0]["finetune_flags"]) or "(no extra flags)"))
        checked = [r for r in quarry_ok if "evaluate" in r]
        if checked:
            worst = max(max(abs(r["evaluate"]["micro_f1"] - r["micro_f1"]),
                            abs(r["evaluate"]["macro_f1"] - r["macro_f1_present"])) for r in checked)
            notes.append("quarry: evaluate --json cross-check on %d of %d runs: micro_f1 and macro_f1 within %.1e of "
                         "this script's (evaluate's macro over labels with a gold or predicted test row)"
                         % (len(checked), len(quarry_ok), worst))
    notes.append("Load average at the end %.2f." % os.getloadavg()[0])
    return "\n".join(out + notes)


def main():
    cache = os.environ.get("QUARRY_CACHE") or os.path.join(os.path.expanduser("~"), ".cache", "quarry")
    corpus = os.path.join(cache, "corpora", "debtags")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--train", default=os.path.join(corpus, "train.tsv"))
    ap.add_argument("--test", default=os.path.join(corpus, "test.tsv"))
    ap.add_argument("--systems", default=",".join(ALL_SYSTEMS),
                    help="comma-separated, of %s (default: all)" % ", ".join(ALL_SYSTEMS))
    ap.add_argument("--seeds", default="1", help="comma-separated seeds for fastText and Quarry (default 1)")
    ap.add_argument("--quarry", default=os.environ.get("QUARRY") or os.path.join(ROOT, ".build", "release", "quarry"))
    ap.add_argument("--quarry-pretrained", default=os.path.join(cache, "vectors", "glove.6B.50d.vec"),
                    help="finetune's --pretrained (default: Scripts/setup's GloVe 6B 50d; '' for none)")
    ap.add_argument("--quarry-args", default="",
                    help="extra finetune flags, e.g. '--epochs 5'; a --pretrained here replaces --quarry-pretrained")
    ap.add_argument("--quarry-timeout", type=int, default=0, help="seconds per quarry process (0: none)")
    ap.add_argument("--workdir", help="where models go (default: a temporary directory)")
    ap.add_argument("--keep-work", action="store_true")
    ap.add_argument("--json", action="store_true", help="print the results as JSON instead of a table")
    args = ap.parse_args()

    systems = [s.strip() for s in args.systems.split(",") if s.strip()]
    unknown = [s for s in systems if s not in ALL_SYSTEMS]
    if unknown or not systems:
        ap.error("unknown --systems %s (choose from %s)" % (",".join(unknown), ",".join(ALL_SYSTEMS)))
    try:
        seeds = [int(s) for s in args.seeds.split(",") if s.strip()]
    except ValueError:
        ap.error("--seeds takes comma-separated integers")
    if not seeds:
        ap.error("--seeds is empty")
    for p in (args.train, args.test):
        if not os.path.isfile(p):
            sys.exit("bench-multilabel: %s not found (run Scripts/setup)" % p)

    train_y, train_x = read_corpus(args.train)
    test_y, test_x = read_corpus(args.test)
    train_labels = sorted(set().union(*train_y))
    label_space = sorted(set(train_labels).union(*test_y))
    data = {
        "train_y": train_y, "train_x": train_x, "test_x": test_x,
        "train_labels_sorted": train_labels,
        "n_train": len(train_x), "n_test": len(test_x),
        "test_labels_per_row": sum(map(len, test_y)) / len(test_y),
    }
    if "fasttext" in systems:
        data["ft_train_x"] = [W.tokenize(t, FT_TOKENIZE) for t in train_x]
        data["ft_test_x"] = [W.tokenize(t, FT_TOKENIZE) for t in test_x]
    log("%d train / %d test rows, %d labels in train, %d in all"
        % (len(train_x), len(test_x), len(train_labels), len(label_space)))

    work = args.workdir or tempfile.mkdtemp(prefix="bench-multilabel-")
    os.makedirs(work, exist_ok=True)
    results = {}
    try:
        for system in systems:
            runs = []
            for seed in (seeds if system in SEEDED else seeds[:1]):
                log("%s, seed %d" % (system, seed))
                res, pred = None, None
                if system in ("svc-balanced", "svc"):
                    res, pred = run_svc(data, system == "svc-balanced", seed)
                elif system == "fasttext":
                    res, pred = run_fasttext(data, seed, work)
                elif system == "quarry":
                    if not os.access(args.quarry, os.X_OK):
                        res = {"failed": "no executable at %s (build it, or --quarry / $QUARRY)" % args.quarry}
                    else:
                        try:
                            res, pred = run_quarry(args, data, seed, work)
                        except QuarryFailed as e:
                            res = {"failed": str(e)}
                if pred is not None:
                    res.update(multilabel_scores(test_y, pred, label_space, train_labels))
                res["seed"] = seed
                if system == "quarry" and pred is not None:
                    quarry_cross_check(res)
                if "failed" in res:
                    log("%s: failed: %s" % (system, res["failed"]))
                else:
                    log("%s: micro-F1 %.3f, macro-F1 %.3f, train %.1f s, predict %.2f s"
                        % (system, res["micro_f1"], res["macro_f1"], res["train_seconds"], res["predict_seconds"]))
                runs.append(res)
            results[system] = runs
    finally:
        if not args.workdir and not args.keep_work:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        print(json.dumps({"train": args.train, "test": args.test, "n_train": len(train_x),
                          "n_test": len(test_x), "labels": len(train_labels), "results": results}, indent=1))
    else:
        print(table(results, data, args))


if __name__ == "__main__":
    main()
