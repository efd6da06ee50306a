#!/usr/bin/env python3
"""Label noise for a multi-label TSV corpus (labels joined by "," TAB text), and how well
a mine-report finds it.

  multilabel_noise.py perturb SRC OUT TRUTH [--seed S] [--rate R]
      Copies SRC to OUT, with a share R (default 0.05) of its rows perturbed, a third
      each: one label dropped, one label added (drawn by frequency among the labels the
      row lacks), or both; a row of one label always gains one. TRUTH gets one line per change:
      "line TAB dropped|added TAB label".

  multilabel_noise.py score REPORT TRUTH
      Reads a mine-report --json of OUT and prints, for the added labels (which the report
      should call "wrong") and the dropped ones ("missing"): recall, precision, and the
      number flagged, as "wrong_recall wrong_precision missing_recall missing_precision
      flagged". Precision counts only the injected changes as true: the corpus has errors
      of its own.
"""
import json
import random
import sys
from collections import Counter


def perturb(src, out, truth, seed, rate):
    rows = []
    with open(src, encoding="utf-8") as f:
        for line in f:
            labels, text = line.rstrip("\n").split("\t", 1)
            rows.append((labels.split(","), text))
    counts = Counter(l for labels, _ in rows for l in labels)
    names = sorted(counts)
    weights = [counts[n] for n in names]
    rng = random.Random(seed)
    changes = []
    with open(out, "w", encoding="utf-8") as f:
        for i, (labels, text) in enumerate(rows):
            original = list(labels)
            labels = list(labels)
            if rng.random() < rate:
                # A row of one label cannot lose it: it gains one instead.
                kind = rng.choice(["drop", "add", "both"]) if len(labels) > 1 else "add"
                if kind in ("drop", "both"):
                    gone = rng.choice(labels)
                    labels.remove(gone)
                    changes.append((i + 1, "dropped", gone))
                if kind in ("add", "both"):
                    while True:
                        extra = rng.choices(names, weights)[0]
                        if extra not in original:
                            break
                    labels.append(extra)
                    changes.append((i + 1, "added", extra))
            f.write(",".join(labels) + "\t" + text + "\n")
    with open(truth, "w", encoding="utf-8") as f:
        for line, kind, label in changes:
            f.write(f"{line}\t{kind}\t{label}\n")


def score(report, truth):
    with open(report, encoding="utf-8") as f:
        r = json.load(f)
    injected = {"added": set(), "dropped": set()}
    with open(truth, encoding="utf-8") as f:
        for line in f:
            n, kind, label = line.rstrip("\n").split("\t")
            injected[kind].add((int(n), label))
    flagged = {"wrong": set(), "missing": set()}
    for issue in r["label_issues"]:
        flagged[issue["issue"]].add((issue["line"], issue["label"]))
    out = []
    for issue, kind in (("wrong", "added"), ("missing", "dropped")):
        hit = len(flagged[issue] & injected[kind])
        out += [hit / max(1, len(injected[kind])), hit / max(1, len(flagged[issue]))]
    out.append(len(r["label_issues"]))
    print(" ".join(f"{x:.4f}" if isinstance(x, float) else str(x) for x in out))


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["perturb"]:
        seed = int(args[args.index("--seed") + 1]) if "--seed" in args else 0
        rate = float(args[args.index("--rate") + 1]) if "--rate" in args else 0.05
        perturb(args[1], args[2], args[3], seed, rate)
    elif args[:1] == ["score"]:
        score(args[1], args[2])
    else:
        sys.exit(__doc__)
