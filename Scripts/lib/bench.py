"""Quarry benchmark harness (run through Scripts/bench, inside $CACHE/venv-bench).

For every corpus it trains and scores each system on the same train/test split in one
run, or with --splits / --split-seeds on several seeded splits of the corpus's pooled
rows (see SPLITS_HELP).

Figures: accuracy and macro-F1 on the test set (computed by the harness, one code path
for every system, from each system's predict-process output), train seconds, predict
docs/s (a whole predict process, model load included, on the test texts repeated N
times), peak RSS of the train and the predict process.

Progress goes to stderr, the table (or --json) to stdout.

This file is the command line, the plan (which systems run on which corpus) and the two
modes' loops; the rest is in
  bench_systems.py  the systems, and how each is trained and predicts
  bench_corpora.py  the catalog, per-corpus settings, the files a corpus gives the systems
                    and the scoring of their predictions; --splits' pooled rows and splits
  bench_measure.py  child processes' time and memory, the machine, accuracy and macro-F1
  bench_report.py   the JSON report and the text tables
  bench_workers.py  the child processes that run fastText and scikit-learn
"""

import argparse
import os
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_workers as W  # noqa: E402  (pure Python, no heavy imports)
from bench_corpora import (Corpus, pooled_rows, pretrained_for, read_catalog,  # noqa: E402
                           resolve_corpus, seeded_split, systems_for, write_rows)
from bench_measure import BenchError, loadavg, log, wait_quiet  # noqa: E402
from bench_report import (emit, fixed_report, fmt, is_report, print_splits_table, print_table,  # noqa: E402
                          splits_report)
from bench_systems import ALL_SYSTEMS, ENCODER_SYSTEMS, run_system  # noqa: E402

DEFAULT_CORPORA = "r8,sms"
DEFAULT_SPLIT_CORPORA = "sms"

SPLITS_HELP = """\
seeded splits (--splits N or --split-seeds LIST):
  A single split cannot say which system is more accurate, so this mode scores every
  system on several splits of each corpus (default just sms):
  1. pool the corpus's train.tsv and test.tsv rows, each label's rows in the order of the
     source the corpus was made from: for sms and thucnews, Scripts/setup's seeded split
     is undone, giving spam_collection.csv's (thucnews_train_1w.txt's) order; for other
     corpora, train.tsv's rows then test.tsv's, in file order;
  2. for each split seed S: sklearn.model_selection.train_test_split(rows, test_size=0.2,
     stratify=labels, random_state=S), with the pinned scikit-learn and numpy (for sms,
     4862 rows: 3889 train, 973 test).  Only the order within each label matters to it,
     so for sms these are the splits train_test_split makes of spam_collection.csv (for
     thucnews, of thucnews_train_1w.txt);
  3. train every system on the split's train rows (training seed --seed, the same for
     every split) and score it on the test rows, predicting them once (no repeats, no
     timing figures).
  It prints accuracy / macro-F1 per split and system, then per system the mean and sd
  (n - 1) over splits, then for quarry against each peer the number of splits where
  quarry's macro-F1 is >= the peer's and the mean and sd of the difference.  --json gives
  the same as one object.
"""


def plan_run(args):
    """(plan: corpus name -> the systems to run on it, the messages of those skipped, the
    systems of the run): --systems, or each corpus's default set, in canonical order, less
    those CORPUS_SETTINGS skip there and those that need a quarry binary when there is none.
    Raises BenchError when a system's encoder or vectors are missing."""
    plan, skipped = {}, []
    for name in args.corpora:
        plan[name], why = systems_for(name, args)
        for msg in why:
            log("skipping " + msg)
        skipped += why
    systems = [s for s in ALL_SYSTEMS if any(s in run for run in plan.values())]
    needs_quarry = [s for s in systems if s.startswith("quarry") or s in ENCODER_SYSTEMS]
    if needs_quarry and not os.access(args.quarry, os.X_OK):
        msg = "%s: no executable at %s (build it with `swift build -c release`, or pass --quarry PATH)" % (
            ", ".join(needs_quarry), args.quarry)
        log("skipping " + msg)
        skipped.append(msg)
        plan = {n: [s for s in run if s not in needs_quarry] for n, run in plan.items()}
        systems = [s for s in systems if s not in needs_quarry]
    needs_encoder = [s for s in systems if s in ENCODER_SYSTEMS]
    if needs_encoder and not os.path.isfile(os.path.join(args.encoder, "model.safetensors")):
        raise BenchError("missing %s/model.safetensors (needed by %s): run Scripts/setup first, or pass --encoder DIR"
                         % (args.encoder, ", ".join(needs_encoder)))
    needs_glove = [s for s in systems if any(
        s == "fasttext-glove" or (s in ("quarry", "quarry-encoder", "quarry-tuned") and pretrained_for(n, args))
        for n, run in plan.items() if s in run)]
    if needs_glove and not os.path.exists(args.vectors):
        raise BenchError("missing %s (needed by %s): run Scripts/setup first" % (args.vectors, ", ".join(needs_glove)))
    return plan, skipped, systems


def try_system(corpus, system, args, warm=True, docs_per_s=True):
    """run_system, saying on stderr how it went: its result, or {"error": why}."""
    try:
        r = run_system(corpus, system, args, warm=warm)
        rate = ", %s docs/s" % fmt(r.get("predict_docs_per_s"), ".0f") if docs_per_s else ""
        log("%s/%s: accuracy %.4f, macro-F1 %.4f%s" % (corpus.name, system, r["accuracy"], r["macro_f1"], rate))
    except BenchError as e:
        log("ERROR %s/%s: %s" % (corpus.name, system, e))
        r = {"error": str(e)}
    for w in r.get("warnings", []):
        log("warning: %s/%s: %s" % (corpus.name, system, w))
    return r


def run_fixed(args, corpora, plan, work_root):
    """The default mode: every system of plan on each corpus's own train/test split; the
    report's results."""
    results = []
    for name, train, test in corpora:
        if not plan[name]:
            log("%s: no system to run" % name)
            continue
        corpus = Corpus(name, train, test, os.path.join(work_root, name), args)
        log("%s: %d train / %d test docs, %d labels; predict input %d lines"
            % (name, len(corpus.train_texts), corpus.n_test, len(set(corpus.train_labels)), corpus.n_predict))
        for system in plan[name]:
            results.append({"corpus": name, "system": system, **try_system(corpus, system, args)})
    return results


def run_splits(args, corpora, plan, work_root):
    """The --splits / --split-seeds mode: every system of plan on every seeded split of every
    corpus; the report's splits and what it says of each corpus's pooled rows."""
    splits, pooled_info = [], {}
    warm = True
    for name, train, test in corpora:
        if not plan[name]:
            log("%s: no system to run" % name)
            continue
        rows, order = pooled_rows(name, train, test)
        pooled_info[name] = {"train": train, "test": test, "pooled_rows": len(rows), "pooled_order": order}
        log("%s: %d rows pooled (%s); %d splits" % (name, len(rows), order, len(args.split_seeds)))
        for seed in args.split_seeds:
            work = os.path.join(work_root, name, "split-%d" % seed)
            os.makedirs(work, exist_ok=True)
            train_rows, test_rows = seeded_split(rows, seed)
            tr_path, te_path = os.path.join(work, "train.tsv"), os.path.join(work, "test.tsv")
            write_rows(tr_path, train_rows)
            write_rows(te_path, test_rows)
            corpus = Corpus("%s@%d" % (name, seed), tr_path, te_path, work, args, base=name)
            entry = {"corpus": name, "seed": seed, "train_rows": len(train_rows),
                     "test_rows": len(test_rows), "results": {}}
            for system in plan[name]:
                r = try_system(corpus, system, args, warm=warm, docs_per_s=False)
                if "error" not in r and system.startswith("quarry") and corpus.pretrained:
                    warm = False  # the vectors' binary copy exists from now on
                entry["results"][system] = {k: r[k] for k in ("accuracy", "macro_f1", "evaluate_accuracy",
                                                              "evaluate_macro_f1", "warnings", "error") if k in r}
            splits.append(entry)
    return splits, pooled_info


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="Scripts/bench",
        description="Benchmark Quarry against fastText and scikit-learn on the catalog's corpora.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=SPLITS_HELP,
    )
    ap.add_argument("--root", required=True, help=argparse.SUPPRESS)
    ap.add_argument("--cache", required=True, help=argparse.SUPPRESS)
    ap.add_argument("--corpora", default=None,
                    help="comma-separated catalog names (default r8,sms; with --splits, sms)")
    many = ap.add_mutually_exclusive_group()
    many.add_argument("--splits", type=int, metavar="N",
                      help="score every system on N seeded stratified 80/20 splits of each corpus's "
                           "pooled rows, split seeds 0..N-1 (see below)")
    many.add_argument("--split-seeds", metavar="S1,S2,...",
                      help="the same with these split seeds, e.g. 0,1,7,42,123,2024")
    ap.add_argument("--systems", default=None,
                    help="comma-separated, from: %s (default: the first five; on thucnews also "
                         "sklearn-svc-char, and fasttext-glove is skipped there)" % ", ".join(ALL_SYSTEMS))
    ap.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    ap.add_argument("--save-json", metavar="PATH", help="also write the JSON report to PATH")
    ap.add_argument("--repeat-predict", type=int, default=20, help="copies of the test texts in the predict input (default 20; 1 with --splits)")
    ap.add_argument("--quarry", default=None, help="quarry binary (default .build/release/quarry in the repo)")
    ap.add_argument("--vectors", default=None, help="GloVe .vec (default $CACHE/vectors/glove.6B.50d.vec)")
    ap.add_argument("--encoder", default=None,
                    help="MiniLM folder for the encoder systems (default $CACHE/encoder/all-minilm-l6-v2)")
    ap.add_argument("--tune-layers", type=int, default=2, help="quarry-tuned's --tune-layers (default 2)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=2, help="threads for quarry (fastText's thread is fixed at 2)")
    ap.add_argument("--ft-tokenize", choices=list(W.TOKENIZE_MODES), default=None,
                    help="how fastText's copies of the texts are prepared (untimed, train and "
                         "predict alike): 'words' (the default) lowercases and splits punctuation "
                         "off like fastText's tutorial and Quarry's tokenizer; 'cjk-spaced' "
                         "(thucnews' default) also puts spaces around every Han character; "
                         "'lower'; 'raw'")
    ap.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                    help="first wait up to SECONDS for the machine to be idle (under 0.2 cores "
                         "busy for 15 s) before timing anything")
    ap.add_argument("--keep-work", action="store_true", help="keep models and predictions under the work dir")
    ap.add_argument("--workdir", default=None, help="work dir, a new or empty folder (default: a fresh dir under $CACHE/bench-work)")
    a = ap.parse_args(argv)
    if a.splits is not None:
        if a.splits < 1:
            ap.error("--splits must be >= 1")
        a.split_seeds = list(range(a.splits))
    elif a.split_seeds is not None:
        try:
            a.split_seeds = [int(x) for x in a.split_seeds.split(",") if x.strip()]
        except ValueError:
            ap.error("--split-seeds takes comma-separated integers")
        if not a.split_seeds or min(a.split_seeds) < 0 or len(set(a.split_seeds)) != len(a.split_seeds):
            ap.error("--split-seeds takes distinct integers >= 0")
    if a.split_seeds is not None:
        a.repeat_predict = 1  # no timing figures in this mode: predict the test texts once
    if a.corpora is None:
        a.corpora = DEFAULT_CORPORA if a.split_seeds is None else DEFAULT_SPLIT_CORPORA
    a.corpora = [c.strip() for c in a.corpora.split(",") if c.strip()]
    if a.systems is not None:  # None: each corpus's default set (systems_for)
        a.systems = [s.strip() for s in a.systems.split(",") if s.strip()]
        bad = [s for s in a.systems if s not in ALL_SYSTEMS]
        if bad:
            ap.error("unknown system(s) %s; choose from %s" % (", ".join(bad), ", ".join(ALL_SYSTEMS)))
    if a.repeat_predict < 1:
        ap.error("--repeat-predict must be >= 1")
    # Neither output may replace a file this script did not write: the work dir gets files
    # of fixed names (and loses them at the end), the report replaces what is at its path.
    if a.workdir and os.path.exists(a.workdir) and (not os.path.isdir(a.workdir) or os.listdir(a.workdir)):
        ap.error("--workdir %s is not an empty folder: name a new or empty one" % a.workdir)
    if a.save_json and os.path.exists(a.save_json) and not is_report(a.save_json):
        ap.error("--save-json %s exists and is not a report of this script: name a new file" % a.save_json)
    a.quarry = os.path.abspath(a.quarry) if a.quarry else os.path.join(a.root, ".build", "release", "quarry")
    a.vectors = a.vectors or os.path.join(a.cache, "vectors", "glove.6B.50d.vec")
    a.encoder = os.path.abspath(a.encoder or os.path.join(a.cache, "encoder", "all-minilm-l6-v2"))
    return a


def main(argv):
    args = parse_args(argv)
    t_start = time.perf_counter()
    if args.wait_quiet > 0:
        wait_quiet(args.wait_quiet)
    t_bench = time.perf_counter()
    load_start = loadavg()
    if load_start and load_start[0] > 0.5 and args.split_seeds is None:
        log("warning: load average %.2f before starting: something else is using the CPU, "
            "timings will be off" % load_start[0])
    plan, skipped, systems = plan_run(args)

    catalog, cat_path = read_catalog(args.root)
    corpora = [(n,) + resolve_corpus(n, catalog, cat_path, args.cache) for n in args.corpora]

    if args.workdir:
        work_root = os.path.abspath(args.workdir)
        os.makedirs(work_root, exist_ok=True)
    else:
        base = os.path.join(args.cache, "bench-work")
        os.makedirs(base, exist_ok=True)
        work_root = tempfile.mkdtemp(prefix="run-", dir=base)
    log("work dir %s" % work_root)
    try:
        if args.split_seeds is None:
            results = run_fixed(args, corpora, plan, work_root)
        else:
            splits, pooled_info = run_splits(args, corpora, plan, work_root)
    finally:
        if not args.keep_work and not args.workdir:
            shutil.rmtree(work_root, ignore_errors=True)

    timing = {"total_seconds": time.perf_counter() - t_start, "bench_seconds": time.perf_counter() - t_bench}
    if args.split_seeds is None:
        emit(fixed_report(args, plan, systems, corpora, results, skipped, load_start, timing), args, print_table)
        return 1 if any("error" in r for r in results) else 0
    emit(splits_report(args, plan, systems, pooled_info, splits, skipped, load_start, timing),
         args, print_splits_table)
    return 1 if any("error" in r for sp in splits for r in sp["results"].values()) else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        log("error: %s" % e)
        sys.exit(2)
