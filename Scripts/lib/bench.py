"""Quarry benchmark harness (run through Scripts/bench, inside $CACHE/venv-bench).

For every corpus it trains and scores, on the same train/test split in one run:
  quarry          the Quarry CLI (finetune / evaluate / predict contract)
  fasttext        fastText supervised: epoch 25, lr 0.5, wordNgrams 2, dim 50, thread 2
  fasttext-glove  the same, with pretrainedVectors = GloVe 6B 50d (.vec)
  sklearn-lr      TfidfVectorizer(1-2 grams, sublinear tf) + LogisticRegression(C=10)
  sklearn-svc     TfidfVectorizer(1-2 grams, sublinear tf) + LinearSVC(C=1, balanced)
On request (and by default on thucnews):
  sklearn-svc-char  TfidfVectorizer(analyzer='char', 1-2 grams, sublinear tf) + LinearSVC(C=1,
                  balanced): characters, so no tokenizer is needed (Chinese has no spaces)
With a MiniLM checkpoint (--encoder, default $CACHE/encoder/all-minilm-l6-v2), on request:
  quarry-encoder      quarry finetune --encoder DIR (frozen mean-pooled vectors as features)
  quarry-tuned        the same with --tune-layers N (default 2)
  sklearn-svc-minilm  ../shared/DESIGN.md's anchor: TF-IDF as sklearn-svc, hstacked with the
                      frozen mean-pooled MiniLM vectors (L2-normalised; computed by
                      `quarry encode`, which matches Hugging Face to 1.5e-6), LinearSVC(C=1,
                      balanced).  Its train s is encoding the train texts plus the fit; it
                      has no predict process, so no predict figures.
The encoder systems predict the test texts once (not --repeat-predict times): at tens of
documents a second, R8 x 20 would take a quarter of an hour.

Per-corpus settings (CORPUS_SETTINGS): thucnews is Chinese headlines, not word-segmented.
On it fastText gets its texts cjk-spaced (a space around every Han character, see
bench_workers.tokenize) unless --ft-tokenize says otherwise, Quarry runs without
--pretrained (GloVe holds English words; there is no Chinese vector file), fasttext-glove
is skipped with a message, and the default systems include sklearn-svc-char.

Figures: accuracy and macro-F1 on the test set (computed here, one code path for every
system, from each system's predict-process output), train seconds, predict docs/s
(a whole predict process, model load included, on the test texts repeated N times),
peak RSS of the train and the predict process.

Progress goes to stderr, the table (or --json) to stdout.  Child processes are measured
with /usr/bin/time (GNU time) when present: a child's ru_maxrss as seen by os.wait4
from this process would include this process's own peak RSS (Linux carries the old
mm's high-water mark over exec), so the tiny `time` process sits in between.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_workers as W  # noqa: E402  (pure Python, no heavy imports)

BASE_SYSTEMS = ["quarry", "fasttext", "fasttext-glove", "sklearn-lr", "sklearn-svc"]
EXTRA_SYSTEMS = ["sklearn-svc-char"]
ENCODER_SYSTEMS = ["quarry-encoder", "quarry-tuned", "sklearn-svc-minilm"]
ALL_SYSTEMS = BASE_SYSTEMS + EXTRA_SYSTEMS + ENCODER_SYSTEMS
DEFAULT_CORPORA = "r8,sms"
DEFAULT_SPLIT_CORPORA = "sms"
DEFAULT_FT_TOKENIZE = "words"

# What differs on a corpus from the settings above (a corpus not listed has none):
#   systems      the default --systems for it
#   skip         system -> why it is not run on the corpus (said, and listed as skipped)
#   ft_tokenize  fastText's tokenize mode when --ft-tokenize is not given
#   pretrained   False: the quarry systems run without --pretrained
#   note         one line printed under the table
CORPUS_SETTINGS = {
    "thucnews": {
        "systems": BASE_SYSTEMS + ["sklearn-svc-char"],
        "skip": {"fasttext-glove": "GloVe 6B holds English words, and thucnews is Chinese"},
        "ft_tokenize": "cjk-spaced",
        "pretrained": False,
        "note": "Chinese, not word-segmented: quarry runs without --pretrained (no Chinese "
                "vectors); fastText gets cjk-spaced text",
    },
}


def corpus_settings(name):
    return CORPUS_SETTINGS.get(name, {})


def ft_tokenize_for(name, args):
    """fastText's tokenize mode on corpus NAME: --ft-tokenize, else the corpus's, else words."""
    return args.ft_tokenize or corpus_settings(name).get("ft_tokenize", DEFAULT_FT_TOKENIZE)


def ft_tokenize_summary(names, args):
    """The tokenize mode(s) of a run, for the report: the mode when every corpus has the
    same one ('words', 'cjk-spaced'), else e.g. 'words; cjk-spaced for thucnews'."""
    modes = {n: ft_tokenize_for(n, args) for n in names}
    if len(set(modes.values())) <= 1:
        return next(iter(modes.values()), ft_tokenize_for("", args))
    own = ["%s for %s" % (m, n) for n, m in modes.items() if m != DEFAULT_FT_TOKENIZE]
    return "; ".join([DEFAULT_FT_TOKENIZE] + own)


def systems_for(name, args):
    """(systems to run on corpus NAME in canonical order, messages for the ones skipped)."""
    cs = corpus_settings(name)
    wanted = args.systems if args.systems is not None else cs.get("systems", BASE_SYSTEMS)
    run, skipped = [], []
    for system in ALL_SYSTEMS:
        if system not in wanted:
            continue
        why = cs.get("skip", {}).get(system)
        if why:
            skipped.append("%s on %s: %s" % (system, name, why))
        else:
            run.append(system)
    return run, skipped


def corpus_notes(names):
    """CORPUS_SETTINGS' notes of the corpora in a run, by name."""
    return {n: corpus_settings(n)["note"] for n in names if "note" in corpus_settings(n)}


SKLEARN_LR = "TfidfVectorizer(ngram_range=(1,2), sublinear_tf=True) + LogisticRegression(C=10, max_iter=2000)"
SKLEARN_SVC = "TfidfVectorizer(ngram_range=(1,2), sublinear_tf=True) + LinearSVC(C=1, class_weight='balanced')"
SKLEARN_SVC_CHAR = ("TfidfVectorizer(analyzer='char', ngram_range=(1,2), sublinear_tf=True) + "
                    "LinearSVC(C=1, class_weight='balanced')")


def pretrained_for(name, args):
    """The --pretrained vectors of the quarry systems on corpus NAME, or None."""
    return args.vectors if corpus_settings(name).get("pretrained", True) else None


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
WORKERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_workers.py")
GNU_TIME = "/usr/bin/time"

# Characters that some readers treat as line breaks: replaced by a space in the predict
# input so that every system sees exactly one document per '\n'-terminated line.
_LINEBREAKS = {ord(c): " " for c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# Highest CPU use by other processes seen during a timed job (cores busy on average,
# from /proc/stat minus the job's own CPU time); not measured on jobs under 0.3 s.
MAX_OTHER_LOAD = 0.0
DISTURBED = 0.25


# --------------------------------------------------------------------------- metrics


def scores(gold, pred):
    """Accuracy and macro-F1 (over the union of gold and predicted labels; a label with
    no predictions or no gold examples has F1 0, as sklearn's f1_score(average='macro'))."""
    assert len(gold) == len(pred) and gold
    correct = sum(g == p for g, p in zip(gold, pred))
    labels = sorted(set(gold) | set(pred))
    f1s = []
    for lab in labels:
        tp = sum(1 for g, p in zip(gold, pred) if g == lab and p == lab)
        fp = sum(1 for g, p in zip(gold, pred) if g != lab and p == lab)
        fn = sum(1 for g, p in zip(gold, pred) if g == lab and p != lab)
        prec = tp / (tp + fp) if tp + fp else 0.0
        rec = tp / (tp + fn) if tp + fn else 0.0
        f1s.append(2 * prec * rec / (prec + rec) if prec + rec else 0.0)
    return correct / len(gold), sum(f1s) / len(f1s)


# --------------------------------------------------------------------------- processes


def cpu_busy_seconds():
    """CPU seconds the whole machine has spent busy (all cores), from /proc/stat."""
    try:
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        return (v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def run_measured(cmd, stdout_path=None, label=""):
    """Runs cmd as a child process; returns wall seconds, peak RSS (MB) and stdout text
    (when not sent to stdout_path). Raises BenchError on a non-zero exit."""
    fd, rss_file = tempfile.mkstemp(prefix="bench-rss-")
    os.close(fd)
    err = tempfile.TemporaryFile()
    out = open(stdout_path, "wb") if stdout_path else tempfile.TemporaryFile()
    use_time = os.access(GNU_TIME, os.X_OK)
    full = ([GNU_TIME, "-f", "%M", "-o", rss_file] + cmd) if use_time else cmd
    try:
        busy0 = cpu_busy_seconds()
        t0 = time.perf_counter()
        p = subprocess.Popen(full, stdout=out, stderr=err, stdin=subprocess.DEVNULL)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        busy1 = cpu_busy_seconds()
        # ru covers the child and what it waited for (so the measured job under `time`).
        job_cpu = ru.ru_utime + ru.ru_stime
        other = None
        if busy0 is not None and busy1 is not None and wall >= 0.3:  # shorter: too coarse
            other = max(0.0, (busy1 - busy0) - job_cpu) / wall
        p.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        err_text = err.read().decode("utf-8", "replace")
        if use_time:
            with open(rss_file) as f:
                rss_lines = [l.strip() for l in f if l.strip()]
            rss_kb = int(rss_lines[-1]) if rss_lines and rss_lines[-1].isdigit() else 0
        else:
            rss_kb = ru.ru_maxrss
        if p.returncode != 0:
            tail = "\n".join(err_text.strip().splitlines()[-15:])
            raise BenchError(
                "%s failed (exit %s): %s\n%s" % (label or cmd[0], p.returncode, " ".join(cmd), tail)
            )
        stdout_text = None
        if not stdout_path:
            out.seek(0)
            stdout_text = out.read().decode("utf-8", "replace")
        global MAX_OTHER_LOAD
        if other is not None:
            MAX_OTHER_LOAD = max(MAX_OTHER_LOAD, other)
        return {"wall": wall, "rss_mb": rss_kb / 1024.0, "stdout": stdout_text, "stderr": err_text,
                "cpu_seconds": job_cpu, "other_load": other}
    finally:
        out.close()
        err.close()
        os.unlink(rss_file)


def last_json(text, what):
    """The JSON object a child printed (its last line that parses, or the span from the
    first '{' to the last '}')."""
    for line in reversed(text.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                pass
    a, b = text.find("{"), text.rfind("}")
    if a >= 0 and b > a:
        try:
            return json.loads(text[a : b + 1])
        except ValueError:
            pass
    raise BenchError("%s printed no JSON object: %r" % (what, text[-500:]))


def read_predictions(path, n_expected, what):
    """First tab-separated field of every output line: the top label."""
    preds = []
    with open(path, encoding="utf-8", errors="replace", newline="\n") as f:
        for line in f:
            preds.append(line.rstrip("\n").rstrip("\r").split("\t", 1)[0].strip())
    if len(preds) != n_expected:
        raise BenchError(
            "%s wrote %d prediction lines for %d input lines" % (what, len(preds), n_expected)
        )
    return preds


# --------------------------------------------------------------------------- corpora


def read_catalog(root):
    path = os.path.join(root, "Corpora", "catalog.tsv")
    cat = {}
    if not os.path.exists(path):
        return cat, path
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line.strip() or line.startswith("#"):
                continue
            cols = line.split("\t")
            if cols[0] == "name" or len(cols) < 3:
                continue  # header
            cat[cols[0]] = {
                "train": cols[1],
                "test": cols[2],
                "source": cols[3] if len(cols) > 3 else "",
            }
    return cat, path


def resolve_corpus(name, catalog, cat_path, cache):
    if name in catalog:
        e = catalog[name]
        train, test = e["train"], e["test"]
    elif not catalog:
        # No catalog yet: fall back to the cache layout made by Scripts/setup.
        train, test = "corpora/%s/train.tsv" % name, "corpora/%s/test.tsv" % name
    else:
        raise BenchError(
            "corpus %r is not in %s (known: %s)" % (name, cat_path, ", ".join(sorted(catalog)))
        )
    train = train if os.path.isabs(train) else os.path.join(cache, train)
    test = test if os.path.isabs(test) else os.path.join(cache, test)
    for p in (train, test):
        if not os.path.exists(p):
            raise BenchError("missing %s (corpus %r): run Scripts/setup first" % (p, name))
    return train, test


# --------------------------------------------------------------------------- systems


class Corpus:
    def __init__(self, name, train, test, work, args, base=None):
        """base: the catalog name whose CORPUS_SETTINGS apply (name itself unless a split
        of it, such as sms@3)."""
        self.name, self.train, self.test, self.work = name, train, test, work
        self.base = base or name
        self.ft_tokenize = ft_tokenize_for(self.base, args)
        self.pretrained = pretrained_for(self.base, args)
        self.train_labels, self.train_texts = W.read_tsv(train)
        self.test_labels, self.test_texts = W.read_tsv(test)
        if not self.train_texts or not self.test_texts:
            raise BenchError("corpus %r: empty train or test file" % name)
        os.makedirs(work, exist_ok=True)
        self.n_test = len(self.test_texts)
        self.repeat = args.repeat_predict
        # The predict input, the same file for every system.
        self.predict_input = os.path.join(work, "predict-input.txt")
        clean = [t.translate(_LINEBREAKS) for t in self.test_texts]
        with open(self.predict_input, "w", encoding="utf-8", newline="\n") as f:
            block = "".join(t + "\n" for t in clean)
            for _ in range(self.repeat):
                f.write(block)
        self.n_predict = self.n_test * self.repeat
        self.predict_once = os.path.join(work, "predict-input-once.txt")
        with open(self.predict_once, "w", encoding="utf-8", newline="\n") as f:
            f.write("".join(t + "\n" for t in clean))
        # fastText's copies: the same texts, tokenized for it (see --ft-tokenize and
        # CORPUS_SETTINGS). Made here, before anything is timed; the same as the originals
        # for raw.
        mode = self.ft_tokenize
        self.ft_train_tsv = os.path.join(work, "train-fasttext.tsv")
        with open(self.ft_train_tsv, "w", encoding="utf-8", newline="\n") as f:
            for lab, txt in zip(self.train_labels, self.train_texts):
                f.write("%s\t%s\n" % (lab, W.tokenize(txt, mode).translate(_LINEBREAKS)))
        self.ft_predict_input = os.path.join(work, "predict-input-fasttext.txt")
        with open(self.ft_predict_input, "w", encoding="utf-8", newline="\n") as f:
            block = "".join(W.tokenize(t, mode) + "\n" for t in clean)
            for _ in range(self.repeat):
                f.write(block)

    def score_predictions(self, preds, what, result, repeat=None):
        """Scores the first copy of the test set; checks the other copies agree."""
        repeat = self.repeat if repeat is None else repeat
        first = preds[: self.n_test]
        unmap = {W.ft_label(l): l for l in set(self.train_labels) | set(self.test_labels)}
        first = [unmap.get(p, p) for p in first]
        acc, f1 = scores(self.test_labels, first)
        result["accuracy"], result["macro_f1"] = acc, f1
        differing = sum(
            1
            for r in range(1, repeat)
            for a, b in zip(preds[: self.n_test], preds[r * self.n_test : (r + 1) * self.n_test])
            if a != b
        )
        if differing:
            result.setdefault("warnings", []).append(
                "%s: %d predictions differ between copies of the same text" % (what, differing)
            )


def predict_rate(result, run, corpus, docs=None):
    docs = corpus.n_predict if docs is None else docs
    result["predict_seconds"] = run["wall"]
    result["predict_docs"] = docs
    result["predict_docs_per_s"] = docs / run["wall"] if run["wall"] > 0 else None
    result["predict_peak_rss_mb"] = run["rss_mb"]
    result["predict_cpu_seconds"] = run["cpu_seconds"]
    result["predict_other_load"] = run["other_load"]


def train_figures(run):
    return {
        "train_peak_rss_mb": run["rss_mb"],
        "train_cpu_seconds": run["cpu_seconds"],
        "train_other_load": run["other_load"],
    }


def bench_fasttext(corpus, args, glove=None):
    name = "fasttext-glove" if glove else "fasttext"
    py = sys.executable
    train_ft = os.path.join(corpus.work, "%s-train.txt" % name)
    model = os.path.join(corpus.work, "%s.bin" % name)
    out = os.path.join(corpus.work, "%s.pred" % name)
    cmd = [py, WORKERS, "ft-train", corpus.ft_train_tsv, model, str(args.seed), train_ft]
    cmd += [glove] if glove else []
    log("%s/%s: training" % (corpus.name, name))
    tr = run_measured(cmd, label=name + " train")
    info = last_json(tr["stdout"], name + " train")
    res = {
        "train_seconds": tr["wall"],
        **train_figures(tr),
        "model_mb": os.path.getsize(model) / 2**20,
        "ft_tokenize": corpus.ft_tokenize,
        "vocabulary": info.get("words"),
        "train_breakdown_seconds": {
            k: info.get(k + "_seconds") for k in ("prepare", "fasttext_train", "save")
        },
    }
    log("%s/%s: trained in %.1fs; predicting %d docs" % (corpus.name, name, tr["wall"], corpus.n_predict))
    pr = run_measured(
        [py, WORKERS, "ft-predict", model, corpus.ft_predict_input, out],
        label=name + " predict",
    )
    predict_rate(res, pr, corpus)
    corpus.score_predictions(read_predictions(out, corpus.n_predict, name), name, res)
    if not args.keep_work:
        for p in (model, out, train_ft):
            os.unlink(p)
    return res


def bench_sklearn(corpus, args, kind):
    name = "sklearn-" + kind
    py = sys.executable
    model = os.path.join(corpus.work, "%s.pkl" % name)
    out = os.path.join(corpus.work, "%s.pred" % name)
    log("%s/%s: training" % (corpus.name, name))
    tr = run_measured(
        [py, WORKERS, "sk-train", kind, corpus.train, model, str(args.seed)], label=name + " train"
    )
    info = last_json(tr["stdout"], name + " train")
    res = {
        "train_seconds": info["fit_seconds"],
        "train_process_seconds": tr["wall"],
        **train_figures(tr),
        "model_mb": os.path.getsize(model) / 2**20,
        "features": info.get("features"),
        "iterations": info.get("n_iter"),
    }
    if not info.get("converged", True):
        res.setdefault("warnings", []).append("%s did not converge (n_iter=%s)" % (name, info.get("n_iter")))
    log("%s/%s: fit in %.1fs; predicting %d docs" % (corpus.name, name, info["fit_seconds"], corpus.n_predict))
    pr = run_measured([py, WORKERS, "sk-predict", model, corpus.predict_input, out], label=name + " predict")
    predict_rate(res, pr, corpus)
    corpus.score_predictions(read_predictions(out, corpus.n_predict, name), name, res)
    if not args.keep_work:
        os.unlink(model)
        os.unlink(out)
    return res


def encoder_flags(system, args, cache):
    """quarry finetune's extra flags for an encoder system: the checkpoint, and a feature
    cache of this run's own (so the timed finetune starts cold)."""
    if system == "quarry-encoder":
        return ["--encoder", args.encoder, "--feature-cache", cache]
    if system == "quarry-tuned":
        return ["--encoder", args.encoder, "--tune-layers", str(args.tune_layers),
                "--feature-cache", cache]
    return []


def bench_quarry(corpus, args, glove, warm=True, system="quarry"):
    """glove: the --pretrained vectors, or None to train without."""
    q = args.quarry
    pretrained = ["--pretrained", glove] if glove else []
    model = os.path.join(corpus.work, "%s.qmodel" % system)
    out = os.path.join(corpus.work, "%s.pred" % system)
    cache = os.path.join(corpus.work, "features-" + system)
    extra = encoder_flags(system, args, cache)
    # The encoder systems predict the test texts once: see the module's docstring.
    predict_input, n_predict, repeat = (
        (corpus.predict_once, corpus.n_test, 1) if extra else
        (corpus.predict_input, corpus.n_predict, corpus.repeat))
    # Untimed: make sure the binary copy of the vectors exists ($QUARRY_CACHE/vector-cache),
    # as after any earlier finetune with them; the timed run then reads it, not the text.
    if warm and glove:
        subprocess.run(
            [q, "finetune", "--train", corpus.train, "--output", model] + pretrained
            + ["--epochs", "1", "--cross-fit", "0", "--no-mine", "--no-checkpoint"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    log("%s/%s: training%s" % (corpus.name, system, "" if glove else " (no --pretrained)"))
    tr = run_measured(
        [q, "finetune", "--train", corpus.train, "--output", model] + pretrained
        + ["--threads", str(args.threads), "--seed", str(args.seed)] + extra,
        label=system + " finetune",
    )
    res = {"train_seconds": tr["wall"], **train_figures(tr), "pretrained": glove}
    if extra:
        # Again, now that the encoder's vectors (and tuning) are in the cache.
        again = run_measured(
            [q, "finetune", "--train", corpus.train, "--output", model] + pretrained
            + ["--threads", str(args.threads), "--seed", str(args.seed)] + extra,
            label=system + " finetune (cached)")
        res["train_cached_seconds"] = again["wall"]
        log("%s/%s: trained in %.1fs cold, %.1fs from the cache"
            % (corpus.name, system, tr["wall"], again["wall"]))
    if os.path.isfile(model):
        res["model_mb"] = os.path.getsize(model) / 2**20
    log("%s/%s: trained in %.1fs; evaluating" % (corpus.name, system, tr["wall"]))
    ev = run_measured(
        [q, "evaluate", "--model", model, "--data", corpus.test, "--json"]
        + (["--feature-cache", cache] if extra else []), label=system + " evaluate"
    )
    res["evaluate_seconds"] = ev["wall"]
    evj = last_json(ev["stdout"], system + " evaluate")
    res["evaluate_accuracy"] = evj.get("accuracy")
    res["evaluate_macro_f1"] = evj.get("macro_f1")
    log("%s/%s: predicting %d docs" % (corpus.name, system, n_predict))
    pr = run_measured(
        [q, "predict", "--model", model, "--input", predict_input, "--format", "tsv", "--k", "1"]
        + (["--no-feature-cache"] if extra else []),  # every text encoded, none read back
        stdout_path=out,
        label=system + " predict",
    )
    predict_rate(res, pr, corpus, docs=n_predict)
    corpus.score_predictions(read_predictions(out, n_predict, system), system, res, repeat=repeat)
    for key in ("accuracy", "macro_f1"):
        theirs = res.get("evaluate_" + key)
        if not isinstance(theirs, (int, float)):
            res.setdefault("warnings", []).append("%s evaluate JSON has no numeric %r" % (system, key))
        elif abs(theirs - res[key]) > 1e-3:
            res.setdefault("warnings", []).append(
                "%s evaluate says %s=%.4f, its predict output scores %.4f"
                % (system, key, theirs, res[key])
            )
    if not args.keep_work:
        for p in (model, out):
            if os.path.exists(p):
                os.unlink(p)
        shutil.rmtree(cache, ignore_errors=True)
    return res


def bench_svc_minilm(corpus, args):
    """DESIGN's anchor: TF-IDF + frozen MiniLM vectors, balanced LinearSVC.  The vectors
    come from `quarry encode` (timed: the train texts' part counts as training)."""
    name = "sklearn-svc-minilm"
    vectors = {}
    for part, path in (("train", corpus.train), ("test", corpus.test)):
        vectors[part] = os.path.join(corpus.work, "%s-%s.npy" % (name, part))
        log("%s/%s: encoding the %s texts" % (corpus.name, name, part))
        run = run_measured(
            [args.quarry, "encode", "--encoder", args.encoder, "--input", path, "--corpus",
             "--threads", str(args.threads), "--output", vectors[part]],
            label="quarry encode (%s)" % part)
        vectors[part + "_seconds"] = run["wall"]
    out = os.path.join(corpus.work, "%s.pred" % name)
    tr = run_measured(
        [sys.executable, WORKERS, "sk-minilm", corpus.train, corpus.test, vectors["train"],
         vectors["test"], out, str(args.seed)], label=name)
    info = last_json(tr["stdout"], name)
    res = {
        "train_seconds": vectors["train_seconds"] + info["fit_seconds"],
        "encode_train_seconds": vectors["train_seconds"],
        "encode_test_seconds": vectors["test_seconds"],
        "fit_seconds": info["fit_seconds"],
        **train_figures(tr),
        "features": info.get("features"),
    }
    if not info.get("converged", True):
        res.setdefault("warnings", []).append("%s did not converge" % name)
    corpus.score_predictions(read_predictions(out, corpus.n_test, name), name, res, repeat=1)
    if not args.keep_work:
        for p in (out, vectors["train"], vectors["test"]):
            os.unlink(p)
    return res


def run_system(corpus, system, args, warm=True):
    """Trains and scores one system on one corpus (one train/test pair)."""
    if system in ("quarry", "quarry-encoder", "quarry-tuned"):
        return bench_quarry(corpus, args, corpus.pretrained, warm=warm, system=system)
    if system == "sklearn-svc-minilm":
        return bench_svc_minilm(corpus, args)
    if system == "fasttext":
        return bench_fasttext(corpus, args)
    if system == "fasttext-glove":
        return bench_fasttext(corpus, args, glove=args.vectors)
    if system in ("sklearn-lr", "sklearn-svc", "sklearn-svc-char"):
        return bench_sklearn(corpus, args, system[len("sklearn-"):])
    raise BenchError("unknown system %r" % system)


# --------------------------------------------------------------------------- report


def machine_info():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        nproc = int(subprocess.run(["nproc"], capture_output=True, text=True).stdout.strip())
    except (OSError, ValueError):
        nproc = os.cpu_count()
    return {"nproc": nproc, "cpu": cpu or platform.processor(), "kernel": platform.release()}


def wait_quiet(limit, windows=3):
    """Waits (at most `limit` seconds) for `windows` 5-second windows in a row in which
    the machine was busy for under 0.2 cores."""
    deadline = time.monotonic() + limit
    quiet = 0
    while True:
        b0 = cpu_busy_seconds()
        time.sleep(5)
        b1 = cpu_busy_seconds()
        if b0 is None or b1 is None:
            return
        busy = (b1 - b0) / 5
        quiet = quiet + 1 if busy < 0.2 else 0
        if quiet >= windows:
            log("machine idle for %ds" % (5 * windows))
            return
        if time.monotonic() >= deadline:
            log("warning: machine still busy (%.2f cores) after waiting %.0fs; going on" % (busy, limit))
            return
        if quiet == 0:
            log("waiting for an idle machine (%.2f cores busy)" % busy)


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return [float(x) for x in f.read().split()[:3]]
    except (OSError, ValueError):
        return None


def versions():
    from importlib import metadata

    v = {"python": platform.python_version()}
    for pkg in ("fasttext-wheel", "scikit-learn", "numpy", "scipy"):
        try:
            v[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            v[pkg] = None
    return v


RATIO_KEYS = [
    # key, wording, lower_is_better
    ("train_seconds", "train time", True),
    ("predict_docs_per_s", "predict docs/s", False),
    ("train_peak_rss_mb", "train peak RSS", True),
    ("predict_peak_rss_mb", "predict peak RSS", True),
]


def ratios(results):
    """Quarry against each fastText variant in the same run: quarry / fastText."""
    out = []
    by = {(r["corpus"], r["system"]): r for r in results if "error" not in r}
    for (corpus, system), q in by.items():
        if system != "quarry":
            continue
        for base in ("fasttext", "fasttext-glove"):
            b = by.get((corpus, base))
            if not b:
                continue
            entry = {"corpus": corpus, "baseline": base, "definition": "quarry / " + base}
            for key, _, _ in RATIO_KEYS:
                if q.get(key) and b.get(key):
                    entry[key] = q[key] / b[key]
            out.append(entry)
    return out


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def emit(report, args, print_text):
    """Writes the report to --save-json if asked, then prints it as JSON or as text."""
    if args.save_json:
        with open(args.save_json, "w") as f:
            json.dump(report, f, indent=2)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_text(report)


def print_header(report, title):
    """The title with the date, then the machine and the versions."""
    m, v = report["machine"], report["versions"]
    print("%s  %s" % (title, report["date"]))
    print("machine: %s, nproc %s, kernel %s, load average at start %s, at end %s" % (
        m["cpu"], m["nproc"], m["kernel"],
        fmt(m["loadavg_start"] and m["loadavg_start"][0], ".2f"),
        fmt(m["loadavg_end"] and m["loadavg_end"][0], ".2f")))
    print("versions: python %s, fasttext-wheel %s, scikit-learn %s, numpy %s"
          % (v["python"], v["fasttext-wheel"], v["scikit-learn"], v["numpy"]))


def print_table(report):
    s = report["settings"]
    print_header(report, "Quarry benchmark")
    print(
        "settings: seed %s, threads %s, predict input = test set x %s (one text per line, "
        "whole process incl. model load), fastText tokenize=%s, quarry=%s"
        % (s["seed"], s["threads"], s["repeat_predict"], s["ft_tokenize"], s["quarry"])
    )
    print()
    head = ["corpus", "system", "accuracy", "macro-F1", "train s", "predict docs/s",
            "train RSS MB", "predict RSS MB"]
    rows = []
    for r in report["results"]:
        if "error" in r:
            rows.append([r["corpus"], r["system"], "ERROR", "", "", "", "", ""])
            continue
        mark_t = "*" if (r.get("train_other_load") or 0) > DISTURBED else ""
        mark_p = "*" if (r.get("predict_other_load") or 0) > DISTURBED else ""
        rows.append([
            r["corpus"], r["system"], fmt(r.get("accuracy"), ".4f"), fmt(r.get("macro_f1"), ".4f"),
            fmt(r.get("train_seconds"), ".2f") + mark_t,
            fmt(r.get("predict_docs_per_s"), ",.0f") + mark_p,
            fmt(r.get("train_peak_rss_mb"), ".0f"), fmt(r.get("predict_peak_rss_mb"), ".0f"),
        ])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    left = {0, 1}

    def line(cells):
        return "  ".join(
            str(c).ljust(w) if i in left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        )

    print(line(head))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print(line(row))
    print()
    print("train s: whole training process (read data, train, write model) for quarry and fastText;")
    print("         fit time (vectorizing included) for scikit-learn.  RSS: peak resident set of the process.")
    print("predict docs/s: test texts x %d through one predict process each (start-up and model load"
          % s["repeat_predict"])
    print("         included).  fastText is given its copies of the texts tokenized (--ft-tokenize %s)"
          % s["ft_tokenize"])
    print("         before timing; Quarry and scikit-learn get the corpus text and tokenize it themselves.")
    for name, note in s.get("corpus_notes", {}).items():
        print("%s: %s" % (name, note))
    for e in report["ratios"]:
        parts = []
        for key, words, lower_better in RATIO_KEYS:
            if key not in e:
                continue
            x = e[key]
            if key == "train_seconds":
                how = "faster" if x < 1 else "slower"
            elif key == "predict_docs_per_s":
                how = "faster" if x > 1 else "slower"
            else:
                how = "less memory" if x < 1 else "more memory"
            parts.append("%s %.2fx %s's (%s)" % (words, x, e["baseline"], how))
        print("quarry vs %s on %s, quarry / %s: %s"
              % (e["baseline"], e["corpus"], e["baseline"], "; ".join(parts)))
    for r in report["results"]:
        if "train_cached_seconds" in r:
            print("%s on %s: finetune %.1f s cold (its own empty feature cache), %.1f s again from "
                  "that cache; evaluate %.1f s; predict docs/s on the test texts once, every text "
                  "encoded" % (r["system"], r["corpus"], r["train_seconds"], r["train_cached_seconds"],
                               r["evaluate_seconds"]))
        if "encode_train_seconds" in r:
            print("%s on %s: train s = quarry encode of the train texts %.1f s + fit %.1f s (test "
                  "texts encoded in %.1f s, untimed)" % (r["system"], r["corpus"], r["encode_train_seconds"],
                                                         r["fit_seconds"], r["encode_test_seconds"]))
    for r in report["results"]:
        for w in r.get("warnings", []):
            print("warning: %s/%s: %s" % (r["corpus"], r["system"], w))
        if "error" in r:
            print("error: %s/%s: %s" % (r["corpus"], r["system"], r["error"].splitlines()[0]))
    for sk in report["skipped"]:
        print("skipped: %s" % sk)
    print("other processes' CPU use during the timed jobs: at most %.2f cores%s"
          % (report["max_other_load"],
             "  (* = over %.2f cores during that job: timing disturbed, rerun on an idle machine)"
             % DISTURBED if report["max_other_load"] > DISTURBED else ""))
    print("total wall time: %.1fs (%.1fs after waiting for an idle machine)"
          % (report["total_seconds"], report["bench_seconds"]))


# --------------------------------------------------------------------------- seeded splits
#
# --splits N / --split-seeds LIST: accuracy over several seeded stratified 80/20 splits of
# each corpus's pooled rows, instead of one run on its fixed split.  The procedure (also in
# --help and the README):
#   1. Pool the corpus's train.tsv and test.tsv rows.  Their order is each label's rows in
#      the order of the source the corpus was made from: for the corpora Scripts/setup
#      splits itself (sms and thucnews, make_corpora.SEEDED_SPLITS), make_corpora.undo_split
#      takes its split apart, giving spam_collection.csv's (thucnews_train_1w.txt's) order;
#      for other corpora, train.tsv's rows then test.tsv's, each in file order.
#   2. For each split seed S: sklearn.model_selection.train_test_split(rows, test_size=0.2,
#      stratify=labels, random_state=S) (scikit-learn and numpy pinned by Scripts/bench).
#      It draws each label's test rows from that label's rows in pooled order, so only the
#      order within each label matters: for sms these are exactly the splits that
#      train_test_split makes of spam_collection.csv read in file order.
#   3. Every system trains on the split's train rows and is scored on its test rows, as in
#      the default mode (the same functions), but with the test texts predicted once
#      (no repeats) and no timing figures reported.


def pooled_rows(name, train, test):
    """The corpus's train and test rows as one list of (label, text), in source order
    (step 1 above), and a phrase saying which order it is."""
    import make_corpora as MC  # standard library only

    train_rows = list(zip(*W.read_tsv(train)))
    test_rows = list(zip(*W.read_tsv(test)))
    if name in MC.SEEDED_SPLITS:
        try:
            rows = MC.undo_split(name, train_rows, test_rows)
            return rows, "each label's rows in the source file's order (Scripts/setup's split undone)"
        except ValueError as e:
            log("warning: %s; pooling train then test rows" % e)
    return train_rows + test_rows, "train.tsv's rows then test.tsv's, in file order"


def seeded_split(rows, seed):
    """(train rows, test rows): step 2 above."""
    from sklearn.model_selection import train_test_split

    labels = [l for l, _ in rows]
    return train_test_split(rows, test_size=0.2, stratify=labels, random_state=seed)


def write_rows(path, rows):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.writelines("%s\t%s\n" % r for r in rows)


def mean_sd(xs):
    """Mean and sample standard deviation (n - 1; None for one value)."""
    if not xs:
        return None, None
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, None
    return m, (sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) ** 0.5


def split_summaries(splits, systems):
    """Per corpus and system the mean and sd over splits; per corpus, quarry against each
    peer on the splits where both have a result."""
    summary, versus = [], []
    for corpus in dict.fromkeys(sp["corpus"] for sp in splits):
        mine = [sp for sp in splits if sp["corpus"] == corpus]
        ran = [s for s in systems if any(s in sp["results"] for sp in mine)]  # this corpus's
        for system in ran:
            ok = [sp["results"][system] for sp in mine if "error" not in sp["results"].get(system, {"error": 1})]
            acc_m, acc_sd = mean_sd([r["accuracy"] for r in ok])
            f1_m, f1_sd = mean_sd([r["macro_f1"] for r in ok])
            summary.append({"corpus": corpus, "system": system, "splits": len(ok), "of": len(mine),
                            "accuracy_mean": acc_m, "accuracy_sd": acc_sd,
                            "macro_f1_mean": f1_m, "macro_f1_sd": f1_sd})
        # Every Quarry system (quarry, quarry-encoder, quarry-tuned) against every peer.
        for own in (s for s in ran if s.startswith("quarry")):
            for peer in (s for s in ran if not s.startswith("quarry")):
                pairs = [(sp["results"][own]["macro_f1"], sp["results"][peer]["macro_f1"])
                         for sp in mine
                         if "macro_f1" in sp["results"].get(own, {})
                         and "macro_f1" in sp["results"].get(peer, {})]
                d_m, d_sd = mean_sd([q - p for q, p in pairs])
                versus.append({"corpus": corpus, "system": own, "peer": peer, "splits": len(pairs),
                               "quarry_macro_f1_ge": sum(1 for q, p in pairs if q >= p),
                               "quarry_macro_f1_equal": sum(1 for q, p in pairs if q == p),
                               "macro_f1_difference_mean": d_m, "macro_f1_difference_sd": d_sd,
                               "definition": "%s's macro-F1 minus %s's, per split" % (own, peer)})
    return summary, versus


def text_table(head, rows, left):
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]

    def line(cells):
        return "  ".join(
            str(c).ljust(w) if i in left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    return [line(head), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def print_splits_table(report):
    s = report["settings"]
    systems = s["systems"]
    print_header(report, "Quarry benchmark over seeded splits")
    print("settings: training seed %s for every split, threads %s, fastText tokenize=%s, quarry=%s"
          % (s["seed"], s["threads"], s["ft_tokenize"], s["quarry"]))
    print("splits: %s" % s["split_procedure"])
    for name, c in report["corpora"].items():
        print("  %s: %d rows pooled, %s" % (name, c["pooled_rows"], c["pooled_order"]))
    for name, note in s.get("corpus_notes", {}).items():
        print("%s: %s" % (name, note))
    print()
    print("Per split, accuracy / macro-F1 on the split's test rows:")
    head = ["corpus", "split seed", "train", "test"] + systems
    rows = []
    for sp in report["splits"]:
        cells = [sp["corpus"], sp["seed"], sp["train_rows"], sp["test_rows"]]
        for system in systems:
            r = sp["results"].get(system)
            cells.append("-" if r is None else "ERROR" if "error" in r
                         else "%.4f / %.4f" % (r["accuracy"], r["macro_f1"]))
        rows.append(cells)
    for l in text_table(head, rows, {0}):
        print(l)
    print()
    print("Per system over the splits, mean ± sd (sd with n - 1):")
    rows = []
    for e in report["summary"]:
        ms = lambda k: "-" if e[k + "_mean"] is None else "%.4f ± %s" % (
            e[k + "_mean"], fmt(e[k + "_sd"], ".4f"))
        rows.append([e["corpus"], e["system"], "%d of %d" % (e["splits"], e["of"]),
                     ms("accuracy"), ms("macro_f1")])
    for l in text_table(["corpus", "system", "splits", "accuracy", "macro-F1"], rows, {0, 1}):
        print(l)
    if report["quarry_vs_peers"]:
        print()
        print("Each Quarry system against each peer, macro-F1 split by split:")
        rows = []
        for e in report["quarry_vs_peers"]:
            rows.append([e["corpus"], e["system"], e["peer"],
                         "%d of %d" % (e["quarry_macro_f1_ge"], e["splits"])
                         + (" (%d equal)" % e["quarry_macro_f1_equal"] if e["quarry_macro_f1_equal"] else ""),
                         "-" if e["macro_f1_difference_mean"] is None else "%+.4f ± %s" % (
                             e["macro_f1_difference_mean"], fmt(e["macro_f1_difference_sd"], ".4f"))])
        for l in text_table(["corpus", "system", "peer", "splits where system >= peer",
                             "system - peer, mean ± sd"], rows, {0, 1, 2}):
            print(l)
    for sp in report["splits"]:
        for system, r in sp["results"].items():
            for w in r.get("warnings", []):
                print("warning: %s split %s/%s: %s" % (sp["corpus"], sp["seed"], system, w))
            if "error" in r:
                print("error: %s split %s/%s: %s" % (sp["corpus"], sp["seed"], system, r["error"].splitlines()[0]))
    for sk in report["skipped"]:
        print("skipped: %s" % sk)
    print("total wall time: %.1fs (%.1fs after waiting for an idle machine)"
          % (report["total_seconds"], report["bench_seconds"]))


SPLIT_PROCEDURE = (
    "sklearn.model_selection.train_test_split(pooled rows, test_size=0.2, stratify=labels, "
    "random_state=SEED) for SEED in %s")


def run_splits(args, corpora, plan, skipped, work_root, t_start, t_bench, load_start):
    """The --splits / --split-seeds mode: every system on every seeded split of every corpus
    (plan: corpus name -> its systems)."""
    systems = [s for s in ALL_SYSTEMS if any(s in run for run in plan.values())]
    splits, pooled_info = [], {}
    warm = True
    try:
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
                    try:
                        r = run_system(corpus, system, args, warm=warm)
                        if system.startswith("quarry") and corpus.pretrained:
                            warm = False  # the vectors' binary copy exists from now on
                        kept = {k: r[k] for k in ("accuracy", "macro_f1", "evaluate_accuracy",
                                                  "evaluate_macro_f1", "warnings") if k in r}
                        log("%s/%s: accuracy %.4f, macro-F1 %.4f"
                            % (corpus.name, system, r["accuracy"], r["macro_f1"]))
                    except BenchError as e:
                        log("ERROR %s/%s: %s" % (corpus.name, system, e))
                        kept = {"error": str(e)}
                    for w in kept.get("warnings", []):
                        log("warning: %s/%s: %s" % (corpus.name, system, w))
                    entry["results"][system] = kept
                splits.append(entry)
    finally:
        if not args.keep_work and not args.workdir:
            shutil.rmtree(work_root, ignore_errors=True)

    summary, versus = split_summaries(splits, systems)
    report = {
        "mode": "splits",
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": dict(machine_info(), loadavg_start=load_start, loadavg_end=loadavg()),
        "versions": versions(),
        "settings": {
            "systems": systems,
            "systems_per_corpus": plan,
            "split_seeds": args.split_seeds,
            "split_procedure": SPLIT_PROCEDURE % ",".join(str(x) for x in args.split_seeds),
            "seed": args.seed,
            "threads": args.threads,
            "ft_tokenize": ft_tokenize_summary(list(plan), args),
            "fasttext": dict(W.FT_PARAMS),
            "sklearn_lr": SKLEARN_LR,
            "sklearn_svc": SKLEARN_SVC,
            "sklearn_svc_char": SKLEARN_SVC_CHAR,
            "corpus_notes": corpus_notes(list(plan)),
            "quarry": args.quarry,
            "vectors": args.vectors,
            "encoder": args.encoder,
            "tune_layers": args.tune_layers,
        },
        "corpora": pooled_info,
        "splits": splits,
        "summary": summary,
        "quarry_vs_peers": versus,
        "skipped": skipped,
        "total_seconds": time.perf_counter() - t_start,
        "bench_seconds": time.perf_counter() - t_bench,
    }
    emit(report, args, print_splits_table)
    return 1 if any("error" in r for sp in splits for r in sp["results"].values()) else 0


# --------------------------------------------------------------------------- main


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
    ap.add_argument("--workdir", default=None, help="work dir (default: a fresh dir under $CACHE/bench-work)")
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
    # The systems to run on each corpus (--systems, or the corpus's default set), in
    # canonical order, less those CORPUS_SETTINGS skip there.
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
    if args.split_seeds is not None:
        return run_splits(args, corpora, plan, skipped, work_root, t_start, t_bench, load_start)

    results = []
    try:
        for name, train, test in corpora:
            if not plan[name]:
                log("%s: no system to run" % name)
                continue
            corpus = Corpus(name, train, test, os.path.join(work_root, name), args)
            log("%s: %d train / %d test docs, %d labels; predict input %d lines"
                % (name, len(corpus.train_texts), corpus.n_test, len(set(corpus.train_labels)), corpus.n_predict))
            for system in plan[name]:
                base = {"corpus": name, "system": system}
                try:
                    r = run_system(corpus, system, args)
                    log("%s/%s: accuracy %.4f, macro-F1 %.4f, %s docs/s"
                        % (name, system, r["accuracy"], r["macro_f1"], fmt(r.get("predict_docs_per_s"), ".0f")))
                except BenchError as e:
                    log("ERROR %s/%s: %s" % (name, system, e))
                    r = {"error": str(e)}
                for w in r.get("warnings", []):
                    log("warning: %s/%s: %s" % (name, system, w))
                base.update(r)
                results.append(base)
    finally:
        if not args.keep_work and not args.workdir:
            shutil.rmtree(work_root, ignore_errors=True)

    report = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": dict(machine_info(), loadavg_start=load_start, loadavg_end=loadavg()),
        "versions": versions(),
        "settings": {
            "seed": args.seed,
            "threads": args.threads,
            "repeat_predict": args.repeat_predict,
            "systems": systems,
            "systems_per_corpus": plan,
            "ft_tokenize": ft_tokenize_summary(args.corpora, args),
            "fasttext": dict(W.FT_PARAMS),
            "sklearn_lr": SKLEARN_LR,
            "sklearn_svc": SKLEARN_SVC,
            "sklearn_svc_char": SKLEARN_SVC_CHAR,
            "corpus_notes": corpus_notes(args.corpora),
            "quarry": args.quarry,
            "vectors": args.vectors,
            "encoder": args.encoder,
            "tune_layers": args.tune_layers,
            "rss_measured_with": GNU_TIME if os.access(GNU_TIME, os.X_OK) else "os.wait4 (includes the harness's own peak RSS as a floor)",
        },
        "corpora": {n: {"train": tr, "test": te} for n, tr, te in corpora},
        "results": results,
        "ratios": [],
        "skipped": skipped,
        "total_seconds": time.perf_counter() - t_start,
        "bench_seconds": time.perf_counter() - t_bench,
        "max_other_load": MAX_OTHER_LOAD,
    }
    report["ratios"] = ratios(results)
    emit(report, args, print_table)
    return 1 if any("error" in r for r in results) else 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except BenchError as e:
        log("error: %s" % e)
        sys.exit(2)
