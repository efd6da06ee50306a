"""The corpora of Scripts/bench: where the catalog puts them, what differs on a corpus
(CORPUS_SETTINGS), the Corpus a system runs on (its predict input and fastText's copies,
written before anything is timed, and how predictions on it are scored), and the
pooled rows and seeded splits of --splits.

Per-corpus settings (CORPUS_SETTINGS): thucnews is Chinese headlines, not word-segmented.
On it fastText gets its texts cjk-spaced (a space around every Han character, see
bench_workers.tokenize) unless --ft-tokenize says otherwise, Quarry runs without
--pretrained (GloVe holds English words; there is no Chinese vector file), fasttext-glove
is skipped with a message, and the default systems include sklearn-svc-char.
"""

import os

import bench_workers as W  # pure Python, no heavy imports
import make_corpora as MC  # standard library only
from bench_measure import BenchError, log, scores
from bench_systems import ALL_SYSTEMS, BASE_SYSTEMS

DEFAULT_FT_TOKENIZE = "words"

# What differs on a corpus from the defaults (BASE_SYSTEMS, DEFAULT_FT_TOKENIZE, the
# quarry systems with --pretrained); a corpus not listed has none:
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


def pretrained_for(name, args):
    """The --pretrained vectors of the quarry systems on corpus NAME, or None."""
    return args.vectors if corpus_settings(name).get("pretrained", True) else None


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


# Characters that some readers treat as line breaks: replaced by a space in the predict
# input so that every system sees exactly one document per '\n'-terminated line.
_LINEBREAKS = {ord(c): " " for c in "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"}


def write_lines(path, lines, copies=1):
    """Writes the lines, each '\n'-terminated, `copies` times over."""
    block = "".join(t + "\n" for t in lines)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for _ in range(copies):
            f.write(block)


def write_rows(path, rows):
    """Writes (label, text) rows as label<TAB>text lines."""
    write_lines(path, ["%s\t%s" % r for r in rows])


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
        write_lines(self.predict_input, clean, self.repeat)
        self.n_predict = self.n_test * self.repeat
        self.predict_once = os.path.join(work, "predict-input-once.txt")
        write_lines(self.predict_once, clean)
        # fastText's copies: the same texts, tokenized for it (see --ft-tokenize and
        # CORPUS_SETTINGS). Made here, before anything is timed; the same as the originals
        # for raw.
        mode = self.ft_tokenize
        self.ft_train_tsv = os.path.join(work, "train-fasttext.tsv")
        write_rows(self.ft_train_tsv, [(lab, W.tokenize(txt, mode).translate(_LINEBREAKS))
                                       for lab, txt in zip(self.train_labels, self.train_texts)])
        self.ft_predict_input = os.path.join(work, "predict-input-fasttext.txt")
        write_lines(self.ft_predict_input, [W.tokenize(t, mode) for t in clean], self.repeat)

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

SPLIT_PROCEDURE = (
    "sklearn.model_selection.train_test_split(pooled rows, test_size=0.2, stratify=labels, "
    "random_state=SEED) for SEED in %s")


def pooled_rows(name, train, test):
    """The corpus's train and test rows as one list of (label, text), in source order
    (step 1 above), and a phrase saying which order it is."""
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
