"""The systems Scripts/bench compares: how each is trained, how it predicts, and the
figures each run gives (run_system; every figure from bench_measure.run_measured, every
score from the corpus's score_predictions).

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
  sklearn-svc-minilm  the anchor of docs/encoder.md: TF-IDF as sklearn-svc, hstacked with the
                      frozen mean-pooled MiniLM vectors (L2-normalised; computed by
                      `quarry encode`, which matches Hugging Face to 1.5e-6), LinearSVC(C=1,
                      balanced).  Its train s is encoding the train texts plus the fit; it
                      has no predict process, so no predict figures.
The encoder systems predict the test texts once (not --repeat-predict times): at tens of
documents a second, R8 x 20 would take a quarter of an hour.
fastText and scikit-learn run as child processes of Scripts/lib/bench_workers.py.
"""

import os
import shutil
import subprocess
import sys

from bench_measure import BenchError, last_json, log, read_predictions, run_measured

BASE_SYSTEMS = ["quarry", "fasttext", "fasttext-glove", "sklearn-lr", "sklearn-svc"]
EXTRA_SYSTEMS = ["sklearn-svc-char"]
ENCODER_SYSTEMS = ["quarry-encoder", "quarry-tuned", "sklearn-svc-minilm"]
ALL_SYSTEMS = BASE_SYSTEMS + EXTRA_SYSTEMS + ENCODER_SYSTEMS

SKLEARN_LR = "TfidfVectorizer(ngram_range=(1,2), sublinear_tf=True) + LogisticRegression(C=10, max_iter=2000)"
SKLEARN_SVC = "TfidfVectorizer(ngram_range=(1,2), sublinear_tf=True) + LinearSVC(C=1, class_weight='balanced')"
SKLEARN_SVC_CHAR = ("TfidfVectorizer(analyzer='char', ngram_range=(1,2), sublinear_tf=True) + "
                    "LinearSVC(C=1, class_weight='balanced')")

WORKERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bench_workers.py")


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


def bench_quarry(corpus, args, warm=True, system="quarry"):
    """With corpus.pretrained as --pretrained (None: trains without)."""
    q = args.quarry
    glove = corpus.pretrained
    model = os.path.join(corpus.work, "%s.qmodel" % system)
    out = os.path.join(corpus.work, "%s.pred" % system)
    cache = os.path.join(corpus.work, "features-" + system)
    extra = encoder_flags(system, args, cache)
    finetune = [q, "finetune", "--train", corpus.train, "--output", model] + (
        ["--pretrained", glove] if glove else [])
    timed = finetune + ["--threads", str(args.threads), "--seed", str(args.seed)] + extra
    # The encoder systems predict the test texts once: see the module's docstring.
    predict_input, n_predict, repeat = (
        (corpus.predict_once, corpus.n_test, 1) if extra else
        (corpus.predict_input, corpus.n_predict, corpus.repeat))
    # Untimed: make sure the binary copy of the vectors exists ($QUARRY_CACHE/vector-cache),
    # as after any earlier finetune with them; the timed run then reads it, not the text.
    if warm and glove:
        subprocess.run(
            finetune + ["--epochs", "1", "--cross-fit", "0", "--no-mine", "--no-checkpoint"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    log("%s/%s: training%s" % (corpus.name, system, "" if glove else " (no --pretrained)"))
    tr = run_measured(timed, label=system + " finetune")
    res = {"train_seconds": tr["wall"], **train_figures(tr), "pretrained": glove}
    if extra:
        # Again, now that the encoder's vectors (and tuning) are in the cache.
        again = run_measured(timed, label=system + " finetune (cached)")
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
    """docs/encoder.md's anchor: TF-IDF + frozen MiniLM vectors, balanced LinearSVC.  The vectors
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
        return bench_quarry(corpus, args, warm=warm, system=system)
    if system == "sklearn-svc-minilm":
        return bench_svc_minilm(corpus, args)
    if system == "fasttext":
        return bench_fasttext(corpus, args)
    if system == "fasttext-glove":
        return bench_fasttext(corpus, args, glove=args.vectors)
    if system in ("sklearn-lr", "sklearn-svc", "sklearn-svc-char"):
        return bench_sklearn(corpus, args, system[len("sklearn-"):])
    raise BenchError("unknown system %r" % system)
