#!/usr/bin/env python3
"""Build the debtags multi-label corpus from Debian's package index.

Called by Scripts/setup after it fetched bookworm's `main` lists into a private apt
lists directory (apt-get update with Dir::State::Lists pointing there):

    make_debtags.py --lists DIR --out DIR

Reads (through /usr/lib/apt/apt-helper cat-file, which undoes any compression apt
stored them with) the lists' bookworm main binary-amd64 Packages file, whose `Tag:`
field holds each package's debtags (e.g. `game::arcade, interface::graphical,
use::gameplaying`), and i18n/Translation-en, the long English descriptions, joined
to the packages on Description-md5.

Rows: one per distinct description of a package with a Tag field (descriptions
that differ only in whitespace, which their Description-md5 tells apart, are one).
  * labels: the tags of every package with that description (their union; a few
    dozen descriptions are shared by packages tagged differently), without
    `special::*` and `*::TODO` tags, and of those only the tags that label at least
    MIN_ROWS_PER_TAG such rows; a row left with no tag is dropped;
  * text: the short description, a space, then the long description with its
    " ." paragraph-separator lines dropped and every run of whitespace (line
    breaks, the indentation of verbatim lines, tabs) made one space, then
    cleaned as make_corpora.py cleans every corpus.
Written as `tag1,tag2,...<TAB>text` (labels sorted, comma-separated, no spaces), one
row per line, UTF-8, LF, no header, to DIR/train.tsv and DIR/test.tsv through
temporary files renamed into place only after every check passed.  DIR/.source
records the archive's Version and Date, the two lists' sha256 and the counts.

Split (seeded 80/20, not stratified: the rows are multi-label):
  rng = random.Random(SEED); rng.shuffle() the row positions 0..n-1 (rows in the
  order their description first occurs in Packages, i.e. by package name); the
  first round(n * TEST_PERCENT / 100) are test.  Train and test keep that order.

The archive changes only at point releases, so the counts are not pinned exactly:
EXPECTED holds those counted once (Debian 12.15); a count more than TOLERANCE away
from its expected value (relative) is a hard error, with a message saying which.
"""

import argparse
import collections
import glob
import hashlib
import os
import random
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_corpora  # noqa: E402  (its cleaning, reporting and writing helpers)
from make_corpora import clean, commit, dup_report, odd_chars_report, write_split  # noqa: E402

SUITE = "bookworm"
ARCH = "amd64"
APT_HELPER = "/usr/lib/apt/apt-helper"
MIN_ROWS_PER_TAG = 50
SEED = 20261207
TEST_PERCENT = 20

# Counted once from Debian 12.15 (InRelease Date: Sat, 11 Jul 2026 10:16:37 UTC):
# 63,440 packages, 30,303 with a Tag field, 29,417 distinct descriptions among them
# (29,415 texts once whitespace is collapsed), 27 of those left with no tag.
EXPECTED = {
    "rows": 29388,
    "tags": 224,
    "mean_tags_per_row": 3.5113,
    "train_rows": 23510,
    "test_rows": 5878,
}
TOLERANCE = 0.10

make_corpora._corpus = "debtags"
say = make_corpora.say
die = make_corpora.die


def find_list(lists, pattern, what):
    """The one file of the lists directory matching pattern (any compression suffix)."""
    found = sorted(set(glob.glob(os.path.join(lists, pattern)) + glob.glob(os.path.join(lists, pattern + ".*"))))
    found = [p for p in found if os.path.isfile(p)]
    if not found:
        die(f"no {what} in {lists} (looked for {pattern}[.*]); did apt-get update fetch it?")
    if len(found) > 1:
        die(f"more than one {what} in {lists}: {', '.join(os.path.basename(p) for p in found)}")
    return found[0]


def cat_file(path):
    """The decompressed bytes of an apt lists file, and the sha256 of the file as stored."""
    if not os.access(APT_HELPER, os.X_OK):
        die(f"{APT_HELPER} not found (it comes with apt)")
    try:
        raw = subprocess.run([APT_HELPER, "cat-file", path], check=True, stdout=subprocess.PIPE).stdout
    except subprocess.CalledProcessError as e:
        die(f"apt-helper cat-file {path} failed (exit {e.returncode})")
    with open(path, "rb") as f:
        stored_sha = hashlib.sha256(f.read()).hexdigest()
    return raw, stored_sha


def stanzas(raw, name):
    """The deb822 stanzas of raw as dicts: field -> value, continuation lines joined
    with '\\n' (each keeping its leading space)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        die(f"{name} is not valid UTF-8: {e}")
    cur, key = {}, None
    for n, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            if cur:
                yield cur
            cur, key = {}, None
        elif line[0] in " \t":
            if key is None:
                die(f"{name}:{n}: continuation line outside a field: {line[:80]!r}")
            cur[key] += "\n" + line
        else:
            k, colon, v = line.partition(":")
            if not colon:
                die(f"{name}:{n}: no field name in {line[:80]!r}")
            key = k.strip()
            cur[key] = v.strip()
    if cur:
        yield cur


def release_info(lists):
    """Version and Date of the suite's (In)Release file, for the log and .source."""
    for pattern in (f"*_dists_{SUITE}_InRelease", f"*_dists_{SUITE}_Release"):
        for p in glob.glob(os.path.join(lists, pattern)):
            info = {}
            with open(p, encoding="utf-8", errors="replace") as f:
                for line in f:
                    k, _, v = line.partition(":")
                    if k in ("Version", "Date", "Codename") and k not in info:
                        info[k] = v.strip()
                    if not line.strip() and info:
                        break
            return info
    return {}


def description_text(desc, stats):
    """Short description, space, long description (" ." lines dropped), whitespace
    runs made one space, then make_corpora.clean()."""
    lines = desc.split("\n")
    parts = [lines[0]]
    for line in lines[1:]:
        if line.strip() == ".":
            stats["paragraph markers dropped"] += 1
            continue
        parts.append(line)
    text = " ".join(" ".join(parts).split())
    return clean(text, stats)


def parse_tags(value):
    return {t.strip() for t in value.replace("\n", " ").split(",") if t.strip()}


def check_counts(found):
    bad = []
    for k, want in EXPECTED.items():
        got = found[k]
        if abs(got - want) > TOLERANCE * want:
            bad.append(f"{k} {got:g} (expected about {want:g})")
    if bad:
        die("debtags counts far from the recorded ones (more than %d%% off): %s.  The Debian "
            "archive changed more than a point release should change it, or the lists are not "
            "bookworm main; check the lists in the apt directory, and if the new counts are "
            "right, update EXPECTED in Scripts/lib/make_debtags.py"
            % (round(TOLERANCE * 100), "; ".join(bad)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lists", required=True, help="the apt lists directory apt-get update filled")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    packages_path = find_list(a.lists, f"*_dists_{SUITE}_main_binary-{ARCH}_Packages", "Packages file")
    trans_path = find_list(a.lists, f"*_dists_{SUITE}_main_i18n_Translation-en", "Translation-en file")
    rel = release_info(a.lists)
    say("Debian %s %s (%s)" % (rel.get("Codename", SUITE), rel.get("Version", "?"), rel.get("Date", "date unknown")))

    raw, packages_sha = cat_file(packages_path)
    packages = list(stanzas(raw, os.path.basename(packages_path)))
    raw, trans_sha = cat_file(trans_path)
    translations = list(stanzas(raw, os.path.basename(trans_path)))
    del raw

    descriptions = {}
    for s in translations:
        md5, desc = s.get("Description-md5"), s.get("Description-en")
        if md5 is None or desc is None:
            die(f"Translation-en stanza without Description-md5 or Description-en: {s.get('Package', '?')}")
        if descriptions.setdefault(md5, desc) != desc:
            die(f"Translation-en has two descriptions with Description-md5 {md5}")

    # description md5 -> union of its packages' tags, in order of first occurrence
    tagged = {}
    tag_sets = collections.defaultdict(set)
    untagged = 0
    for s in packages:
        if "Package" not in s or "Description-md5" not in s:
            die(f"Packages stanza without Package or Description-md5: {s.get('Package', '?')}")
        if "Tag" not in s:
            untagged += 1
            continue
        md5 = s["Description-md5"]
        tags = parse_tags(s["Tag"])
        tag_sets[md5].add(frozenset(tags))
        tagged.setdefault(md5, set()).update(tags)
    say(f"{len(packages)} packages, {len(packages) - untagged} with a Tag field, "
        f"{len(tagged)} distinct descriptions among them; {len(translations)} Translation-en entries")
    differing = sum(1 for v in tag_sets.values() if len(v) > 1)
    if differing:
        say(f"note: {differing} descriptions are shared by packages with different tags (their union is used)")
    missing = [md5 for md5 in tagged if md5 not in descriptions]
    if missing:
        die(f"{len(missing)} tagged descriptions are not in Translation-en, e.g. Description-md5 {missing[0]}")

    # One row per distinct description text: descriptions that differ only in whitespace
    # become the same text, and their tags are joined too.
    stats = collections.Counter()
    by_text = {}
    for md5, tags in tagged.items():
        text = description_text(descriptions[md5], stats)
        if not text:
            die(f"empty text for Description-md5 {md5}")
        if text in by_text:
            stats["descriptions equal to another after whitespace is collapsed (merged)"] += 1
        by_text.setdefault(text, set()).update(tags)

    dropped = collections.Counter()
    for tags in by_text.values():
        for t in list(tags):
            if t.startswith("special::") or t.endswith("::TODO"):
                tags.discard(t)
                dropped["special::" if t.startswith("special::") else "::TODO"] += 1
    for k in ("special::", "::TODO"):
        say(f"{k} tags dropped: {dropped[k]}")
    per_tag = collections.Counter(t for tags in by_text.values() for t in tags)
    kept = {t for t, n in per_tag.items() if n >= MIN_ROWS_PER_TAG}
    say(f"{len(per_tag)} distinct tags; {len(kept)} label at least {MIN_ROWS_PER_TAG} descriptions (kept)")

    rows = []
    for text, tags in by_text.items():
        labels = sorted(tags & kept)
        if not labels:
            stats["descriptions with no kept tag (dropped)"] += 1
            continue
        for lab in labels:
            if not re.fullmatch(r"[^\s,]+", lab):
                die(f"tag {lab!r} has a space or a comma")
        rows.append((",".join(labels), text))
    for k, v in sorted(stats.items()):
        say(f"{k}: {v}")

    dup_report("all", rows)
    odd_chars_report(rows)

    rng = random.Random(SEED)
    positions = list(range(len(rows)))
    rng.shuffle(positions)
    test_idx = set(positions[:round(len(rows) * TEST_PERCENT / 100)])
    train = [r for i, r in enumerate(rows) if i not in test_idx]
    test = [r for i, r in enumerate(rows) if i in test_idx]

    n_labels = sum(len(lab.split(",")) for lab, _ in rows)
    found = {
        "rows": len(rows),
        "tags": len({t for lab, _ in rows for t in lab.split(",")}),
        "mean_tags_per_row": n_labels / len(rows) if rows else 0.0,
        "train_rows": len(train),
        "test_rows": len(test),
    }
    check_counts(found)
    train_tags = {t for lab, _ in train for t in lab.split(",")}
    test_tags = {t for lab, _ in test for t in lab.split(",")}
    if test_tags - train_tags:
        die(f"tags in test but not in train: {sorted(test_tags - train_tags)[:5]}")
    if train_tags - test_tags:
        say(f"note: {len(train_tags - test_tags)} tags have no test row: {sorted(train_tags - test_tags)[:5]}")

    os.makedirs(a.out, exist_ok=True)
    pending = [write_split(a.out, "train", train), write_split(a.out, "test", test)]
    source = os.path.join(a.out, ".source")
    source_tmp = f"{source}.tmp.{os.getpid()}"
    with open(source_tmp, "w", encoding="utf-8") as f:
        f.write("suite: %s main %s (Version %s, Date %s)\n"
                % (SUITE, ARCH, rel.get("Version", "?"), rel.get("Date", "?")))
        f.write(f"{os.path.basename(packages_path)} sha256 {packages_sha}\n")
        f.write(f"{os.path.basename(trans_path)} sha256 {trans_sha}\n")
        f.write("".join(f"{k}: {found[k]:.4f}\n" if isinstance(found[k], float) else f"{k}: {found[k]}\n"
                        for k in EXPECTED))
    pending.append((source_tmp, source))
    commit(pending)
    say(f"{found['rows']} rows, {found['tags']} tags, {found['mean_tags_per_row']:.2f} tags a row; "
        f"train {found['train_rows']}, test {found['test_rows']} (recorded: {EXPECTED['rows']} rows, "
        f"{EXPECTED['tags']} tags, {EXPECTED['mean_tags_per_row']:.2f} a row)")


if __name__ == "__main__":
    main()
