"""Child processes of Scripts/bench (started by Scripts/lib/bench_systems.py).

Each subcommand runs as its own process (timed and measured by the harness as a
whole, like a user would run a trainer or a predictor), so that peak RSS and wall
time belong to that one job:

  ft-train   TRAIN_TSV MODEL SEED TRAIN_FT [PRETRAINED]
                                                convert + seeded shuffle, train, save
  ft-predict MODEL INPUT OUTPUT                 load model, predict every line
  sk-train   KIND TRAIN MODEL SEED              fit a TF-IDF + linear pipeline, pickle it
                                                (KIND: lr, svc or svc-char)
  sk-predict MODEL INPUT OUTPUT                 unpickle, predict every line, write labels

Each prints one JSON object on its last stdout line with figures measured inside
the process (e.g. sklearn fit seconds).
"""

import json
import re
import sys
import time

# fastText hyperparameters of the benchmark (fixed contract, see Scripts/bench --help).
FT_PARAMS = dict(epoch=25, lr=0.5, wordNgrams=2, dim=50, thread=2, loss="softmax")
LABEL_PREFIX = "__label__"

# Tokenizer modes for fastText input (fastText itself only splits on whitespace).
#   raw:   text as it is in the corpus
#   lower: lowercased
#   words: lowercased, and every punctuation or symbol character made a token of its own
#          by spaces around it, except '.' and ',' between two digits ("3.5", "1,000")
#          -- the way fastText's tutorial prepares text, and close to Quarry's own
#          tokenizer (Sources/Quarry/Text/Tokenizer.swift).
#   cjk-spaced: as words, and every Han character made a token of its own by spaces
#          around it (other Unicode whitespace, such as U+3000, becomes a space, since
#          fastText splits on ASCII whitespace only).  Chinese text has no spaces
#          between words; one token per character is what a fastText user does for it
#          without a word segmenter (and what BERT's tokenizer does).  The same as words
#          on text without Han characters.
# The harness tokenizes fastText's copies of the corpus and of the predict input before
# anything is timed (R8 comes tokenized from its distributor anyway).
_PUNCT_RE = re.compile(r"([^\w\s.,]|(?<![0-9])[.,]|[.,](?![0-9]))", re.UNICODE)
# Han ideographs: the BMP's blocks (extension A, unified, compatibility) and planes 2-3.
_HAN_RE = re.compile("([\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff])")
_OTHER_SPACE_RE = re.compile(r"[^\S ]")
TOKENIZE_MODES = ("raw", "lower", "words", "cjk-spaced")


def tokenize(text, mode):
    if mode == "raw":
        return text
    if mode == "lower":
        return text.lower()
    if mode == "words":
        return _PUNCT_RE.sub(r" \1 ", text.lower())
    if mode == "cjk-spaced":
        words = _PUNCT_RE.sub(r" \1 ", text.lower())
        return _OTHER_SPACE_RE.sub(" ", _HAN_RE.sub(r" \1 ", words))
    raise ValueError("unknown tokenize mode %r" % mode)


def read_lines(path):
    with open(path, encoding="utf-8", newline="\n") as f:
        return [line.rstrip("\n").rstrip("\r") for line in f]


def read_tsv(path):
    labels, texts = [], []
    for line in read_lines(path):
        if not line.strip():
            continue
        label, _, text = line.partition("\t")
        labels.append(label)
        texts.append(text)
    return labels, texts


def ft_label(label):
    return "_".join(label.split()) if label else "_"


def ft_train(train_tsv, model_path, seed, train_ft, pretrained=None):
    """Reads the label<TAB>text corpus (already tokenized for fastText by the harness),
    writes a seeded-shuffle copy in fastText's format (`__label__X tokens`), trains on
    it and saves the model: all of it in this (timed) process, as Quarry's finetune
    reads its TSV itself."""
    import random

    import fasttext

    t0 = time.perf_counter()
    labels, texts = read_tsv(train_tsv)
    lines = [
        "%s%s %s\n" % (LABEL_PREFIX, ft_label(lab), txt)
        for lab, txt in zip(labels, texts)
    ]
    random.Random(int(seed)).shuffle(lines)
    with open(train_ft, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(lines)
    prep_s = time.perf_counter() - t0
    params = dict(FT_PARAMS, input=train_ft, seed=int(seed), verbose=0)
    if pretrained:
        params["pretrainedVectors"] = pretrained
    t1 = time.perf_counter()
    model = fasttext.train_supervised(**params)
    train_s = time.perf_counter() - t1
    t2 = time.perf_counter()
    model.save_model(model_path)
    save_s = time.perf_counter() - t2
    return {
        "labels": len(model.labels),
        "words": len(model.words),
        "prepare_seconds": prep_s,
        "fasttext_train_seconds": train_s,
        "save_seconds": save_s,
    }


def ft_predict(model_path, input_path, output_path):
    """Loads the model, predicts every line of the input (one batch call) and writes one
    label per line."""
    import fasttext

    model = fasttext.load_model(model_path)
    lines = read_lines(input_path)
    labels, _ = model.predict(lines, k=1)
    n = len(LABEL_PREFIX)
    with open(output_path, "w", encoding="utf-8") as out:
        out.write("".join((l[0][n:] if l else "") + "\n" for l in labels))
    return {"docs": len(lines)}


def make_pipeline(kind, seed):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC

    # svc-char: character 1-2 grams, for text without spaces between words (Chinese);
    # it needs no tokenizer, so it runs on any corpus.
    tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    if kind == "lr":
        clf = LogisticRegression(C=10, max_iter=2000, random_state=seed)
    elif kind == "svc":
        clf = LinearSVC(C=1, class_weight="balanced", random_state=seed)
    elif kind == "svc-char":
        tfidf = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True)
        clf = LinearSVC(C=1, class_weight="balanced", random_state=seed)
    else:
        raise ValueError(kind)
    return Pipeline([("tfidf", tfidf), ("clf", clf)])


def sk_train(kind, train_path, model_path, seed):
    import pickle
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    labels, texts = read_tsv(train_path)
    pipe = make_pipeline(kind, int(seed))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        t0 = time.perf_counter()
        pipe.fit(texts, labels)
        fit_s = time.perf_counter() - t0
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    with open(model_path, "wb") as f:
        pickle.dump(pipe, f, protocol=pickle.HIGHEST_PROTOCOL)
    clf = pipe.named_steps["clf"]
    n_iter = getattr(clf, "n_iter_", None)
    try:
        n_iter = int(max(n_iter)) if hasattr(n_iter, "__len__") else int(n_iter)
    except Exception:
        n_iter = None
    return {
        "fit_seconds": fit_s,
        "converged": converged,
        "n_iter": n_iter,
        "features": len(pipe.named_steps["tfidf"].vocabulary_),
    }


def sk_predict(model_path, input_path, output_path):
    import pickle

    with open(model_path, "rb") as f:
        pipe = pickle.load(f)
    lines = read_lines(input_path)
    pred = pipe.predict(lines)
    with open(output_path, "w", encoding="utf-8") as out:
        out.write("".join(str(p) + "\n" for p in pred))
    return {"docs": len(lines)}


def sk_minilm(train_path, test_path, train_npy, test_npy, output_path, seed):
    """TF-IDF (as make_pipeline) hstacked with L2-normalised encoder vectors, then
    LinearSVC(C=1, balanced): fit on the train rows, predict the test rows into output_path."""
    import warnings

    import numpy as np
    import scipy.sparse as sp
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    labels, texts = read_tsv(train_path)
    _, test_texts = read_tsv(test_path)
    u, v = np.load(train_npy), np.load(test_npy)
    if u.shape[0] != len(texts) or v.shape[0] != len(test_texts):
        raise SystemExit("vectors: %d and %d rows for %d and %d texts"
                         % (u.shape[0], v.shape[0], len(texts), len(test_texts)))

    def unit(m):
        return m / np.maximum(np.linalg.norm(m, axis=1, keepdims=True), 1e-12)

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ConvergenceWarning)
        t0 = time.perf_counter()
        tfidf = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
        x = sp.hstack([tfidf.fit_transform(texts), sp.csr_matrix(unit(u))]).tocsr()
        clf = LinearSVC(C=1, class_weight="balanced", random_state=int(seed)).fit(x, labels)
        fit_s = time.perf_counter() - t0
    pred = clf.predict(sp.hstack([tfidf.transform(test_texts), sp.csr_matrix(unit(v))]).tocsr())
    with open(output_path, "w", encoding="utf-8", newline="\n") as f:
        f.writelines("%s\n" % p for p in pred)
    converged = not any(issubclass(w.category, ConvergenceWarning) for w in caught)
    return {"fit_seconds": fit_s, "converged": converged, "features": x.shape[1]}


def main(argv):
    cmd, args = argv[0], argv[1:]
    if cmd == "ft-train":
        res = ft_train(*args)
    elif cmd == "ft-predict":
        res = ft_predict(*args)
    elif cmd == "sk-train":
        res = sk_train(*args)
    elif cmd == "sk-predict":
        res = sk_predict(*args)
    elif cmd == "sk-minilm":
        res = sk_minilm(*args)
    else:
        raise SystemExit("unknown worker command %r" % cmd)
    print(json.dumps(res))


if __name__ == "__main__":
    main(sys.argv[1:])
