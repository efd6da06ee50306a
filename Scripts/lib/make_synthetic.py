"""Writes a synthetic labelled corpus (TSV) for the scaling benchmark.

Words are made of syllables; their frequencies follow Zipf's law over a 30,000-word
vocabulary. Each of K classes owns 300 topic words: a row of 8-40 tokens draws each token
from its class's topic words with probability 0.2, else from the shared vocabulary, and
2% of labels are replaced by a random class, so the task is learnable but not trivial.
The same seed gives the same file.

usage: make_synthetic.py OUT (--rows N | --bytes N) [--seed S] [--classes K]
"""
import argparse
import itertools
import random


def words(n, rng):
    syllables = [c + v for c in "bdfgklmnprstvz" for v in "aeiou"]
    out, seen = [], set()
    while len(out) < n:
        w = "".join(rng.choice(syllables) for _ in range(rng.choice((1, 2, 2, 3))))
        if w not in seen:
            seen.add(w)
            out.append(w)
    return out


def zipf_cumulative(n):
    return list(itertools.accumulate(1.0 / (r + 1) for r in range(n)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rows", type=int)
    ap.add_argument("--bytes", type=int)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--classes", type=int, default=8)
    a = ap.parse_args()
    rng = random.Random(a.seed)
    vocab = words(30000, random.Random(0))
    shared_cum = zipf_cumulative(len(vocab))
    labels = [f"class{k}" for k in range(a.classes)]
    topic_rng = random.Random(1)
    topics = [topic_rng.sample(vocab[200:], 300) for _ in labels]
    topic_cum = zipf_cumulative(300)
    written, rows = 0, 0
    with open(a.out, "w", encoding="utf-8") as f:
        while (a.rows is None or rows < a.rows) and (a.bytes is None or written < a.bytes):
            k = rng.randrange(a.classes)
            n = rng.randint(8, 40)
            topical = sum(rng.random() < 0.2 for _ in range(n))
            toks = rng.choices(topics[k], cum_weights=topic_cum, k=topical)
            toks += rng.choices(vocab, cum_weights=shared_cum, k=n - topical)
            rng.shuffle(toks)
            label = labels[rng.randrange(a.classes)] if rng.random() < 0.02 else labels[k]
            line = label + "\t" + " ".join(toks) + "\n"
            f.write(line)
            written += len(line.encode())
            rows += 1


if __name__ == "__main__":
    main()
