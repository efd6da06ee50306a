"""Helpers of Scripts/bench-serve (run with the venv's python; standard library only,
except check-fasttext, which imports fasttext).

  prepare TRAIN_TSV TEST_TSV WORKDIR BATCH...
        writes WORKDIR/train-fasttext.tsv (fastText's copy of the train file, tokenized as
        Scripts/bench does), WORKDIR/bodies-N.jsonl for each batch size N (one
        {"texts": [...], "k": 1} body a line; N consecutive R8 test texts, wrapping round
        at the end, so every test text is sent) and WORKDIR/check-texts.txt (a few test
        texts spread over the file, for the answer checks). Refuses a test text that
        fastText's tokenizing would change, since the FastAPI app passes texts as they come.
  check-quarry URL QUARRY MODEL TEXTS_FILE
        POSTs the texts (k=2) to URL/v1/predict and compares each answer with
        `quarry predict --format jsonl --k 2` on the same texts: labels and probabilities equal.
  check-fasttext URL MODEL TEXTS_FILE
        the same against fasttext.load_model(MODEL).predict(texts, k=2) in this process.
  proc PID
        prints "cpu_s rss_mb processes busy_s": of PID and its descendants, CPU (user +
        system seconds so far), the sum of their resident sets now and their count; and
        the CPU seconds every process of the machine has used so far (/proc/stat).
  table RESULTS_JSONL
        prints the table of a run (and the goal lines) from its result rows.
"""

import json
import os
import subprocess
import sys
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_workers as W  # noqa: E402

CHECK_TEXTS = 20
CHECK_K = 2


def prepare(train_tsv, test_tsv, work, *batches):
    os.makedirs(work, exist_ok=True)
    train_labels, train_texts = W.read_tsv(train_tsv)
    _, test_texts = W.read_tsv(test_tsv)
    changed = [t for t in test_texts if W.tokenize(t, "words") != t or "\n" in t]
    if changed:
        raise SystemExit(
            "bench-serve: %d test texts change under fastText's tokenizing (first: %r); "
            "the FastAPI app passes texts as they come, so the comparison would not be fair"
            % (len(changed), changed[0][:80]))
    with open(os.path.join(work, "train-fasttext.tsv"), "w", encoding="utf-8", newline="\n") as f:
        for lab, txt in zip(train_labels, train_texts):
            f.write("%s\t%s\n" % (lab, W.tokenize(txt, "words")))
    n = len(test_texts)
    for b in batches:
        b = int(b)
        count = (n + b - 1) // b
        with open(os.path.join(work, "bodies-%d.jsonl" % b), "w", encoding="utf-8") as f:
            for j in range(count):
                texts = [test_texts[(j * b + m) % n] for m in range(b)]
                f.write(json.dumps({"texts": texts, "k": 1}, ensure_ascii=False) + "\n")
    step = max(1, n // CHECK_TEXTS)
    with open(os.path.join(work, "check-texts.txt"), "w", encoding="utf-8", newline="\n") as f:
        f.writelines(test_texts[i] + "\n" for i in range(0, n, step)[:CHECK_TEXTS])
    print("%d train rows, %d test texts; bodies of %s texts" % (
        len(train_texts), n, ", ".join(str(b) for b in batches)))


def post(url, texts):
    body = json.dumps({"texts": texts, "k": CHECK_K}).encode("utf-8")
    req = urllib.request.Request(
        url.rstrip("/") + "/v1/predict", data=body,
        headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read().decode("utf-8"))["predictions"]


def compare(what, got, want):
    if len(got) != len(want):
        raise SystemExit("%s: %d answers for %d texts" % (what, len(got), len(want)))
    bad = 0
    for i, (g, w) in enumerate(zip(got, want)):
        if g["labels"] != w["labels"] or g["probabilities"] != w["probabilities"]:
            bad += 1
            print("%s: text %d: server %s, expected %s" % (what, i + 1, g, w), file=sys.stderr)
    if bad:
        raise SystemExit("%s: %d of %d answers differ" % (what, bad, len(want)))
    print("%s: %d answers (k=%d) equal" % (what, len(want), CHECK_K))


def read_texts(path):
    return [t for t in W.read_lines(path) if t]


def check_quarry(url, quarry, model, texts_file):
    texts = read_texts(texts_file)
    out = subprocess.run(
        [quarry, "predict", "--model", model, "--input", texts_file, "--format", "jsonl",
         "--k", str(CHECK_K)],
        check=True, capture_output=True, text=True).stdout
    want = [json.loads(line) for line in out.splitlines() if line.strip()]
    compare("quarry serve vs quarry predict", post(url, texts), want)


def check_fasttext(url, model_path, texts_file):
    import fasttext

    texts = read_texts(texts_file)
    labels, probs = fasttext.load_model(model_path).predict(texts, k=CHECK_K)
    n = len(W.LABEL_PREFIX)
    want = [{"labels": [l[n:] for l in ls], "probabilities": [float(p) for p in ps]}
            for ls, ps in zip(labels, probs)]
    compare("fastapi vs fasttext predict", post(url, texts), want)


def proc(pid):
    pid = int(pid)
    parent = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open("/proc/%s/stat" % name) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                parent[int(name)] = (int(fields[1]), fields)
            except OSError:
                continue
    tree, grew = {pid}, True
    while grew:
        more = {p for p, (pp, _) in parent.items() if pp in tree} - tree
        tree |= more
        grew = bool(more)
    ticks = os.sysconf("SC_CLK_TCK")
    page = os.sysconf("SC_PAGE_SIZE")
    cpu = rss = 0.0
    alive = 0
    for p in tree:
        if p not in parent:
            continue
        fields = parent[p][1]
        # fields[0] is the state; utime, stime are stat's 14th and 15th, rss its 24th.
        cpu += (int(fields[11]) + int(fields[12])) / ticks
        rss += int(fields[21]) * page / 2**20
        alive += 1
    with open("/proc/stat") as f:
        # the first line: cpu user nice system idle iowait irq softirq steal ...
        t = [int(x) for x in f.readline().split()[1:9]]
    busy = (t[0] + t[1] + t[2] + t[5] + t[6] + t[7]) / ticks
    print("%.2f %.1f %d %.2f" % (cpu, rss, alive, busy))


def fmt_ms(us):
    return "%.2f" % (us / 1000.0) if us < 100000 else "%.0f" % (us / 1000.0)


def errors_text(r):
    parts = ["%s %d" % (k, r[k]) for k in ("status", "connect", "read", "write", "timeout") if r[k]]
    if r.get("died"):
        parts.append("SERVER DIED")
    return ", ".join(parts) if parts else "0"


def table(path):
    rows = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
    for r in rows:
        secs = r["duration_us"] / 1e6
        r["rps"] = r["requests"] / secs if secs > 0 else 0.0
        r["tps"] = r["rps"] * r["texts"]
        r["srv_cpu"] = 100.0 * r["server_cpu_s"] / secs if secs > 0 else 0.0
        r["wrk_cpu"] = 100.0 * r["wrk_cpu_s"] / secs if secs > 0 else 0.0
        other = r["machine_busy_s"] - r["server_cpu_s"] - r["wrk_cpu_s"]
        r["other_cpu"] = max(0.0, 100.0 * other / secs) if secs > 0 else 0.0
    peers = sorted({r["server"] for r in rows if r["server"] != "quarry"})
    head = ["server", "conns", "texts/req", "req/s", "texts/s", "p50 ms", "p99 ms", "max ms",
            "errors", "srv CPU%", "wrk CPU%", "other CPU%", "srv RSS MB"]
    head += ["quarry/" + p for p in peers]
    lines = []
    for r in rows:
        cells = [r["server"], str(r["connections"]), str(r["texts"]), "%.0f" % r["rps"],
                 "%.0f" % r["tps"], fmt_ms(r["p50_us"]), fmt_ms(r["p99_us"]),
                 fmt_ms(r["max_us"]), errors_text(r), "%.0f" % r["srv_cpu"],
                 "%.0f" % r["wrk_cpu"], "%.0f" % r["other_cpu"],
                 "%.0f" % r["server_rss_mb"]]
        for p in peers:
            if r["server"] != "quarry":
                cells.append("")
                continue
            peer = [x for x in rows if x["server"] == p and x["connections"] == r["connections"]
                    and x["texts"] == r["texts"]]
            cells.append("%.1fx" % (r["rps"] / peer[0]["rps"]) if peer and peer[0]["rps"] else "-")
        lines.append(cells)
    widths = [max(len(c) for c in col) for col in zip(head, *lines)]

    def show(cells):
        print("  ".join(c.rjust(w) if i else c.ljust(w)
                        for i, (c, w) in enumerate(zip(cells, widths))).rstrip())

    show(head)
    show(["-" * w for w in widths])
    for cells in lines:
        show(cells)

    # Goal of issue 22: quarry >= 5x the throughput of the FastAPI app, at a lower p99.
    # Each case is judged against the FastAPI row with the most requests/s there.
    if not peers:
        return
    print()
    met_all = True
    for r in rows:
        if r["server"] != "quarry":
            continue
        peer = [x for x in rows if x["server"] != "quarry" and x["connections"] == r["connections"]
                and x["texts"] == r["texts"]]
        if not peer:
            continue
        best = max(peer, key=lambda x: x["rps"])
        ratio = r["rps"] / best["rps"] if best["rps"] else float("inf")
        clean = errors_text(r) == "0"
        met = ratio >= 5 and r["p99_us"] < best["p99_us"] and clean
        met_all &= met
        print("goal %s: %d conns, %d texts/req: %.1fx the requests/s of %s (>= 5x: %s), "
              "p99 %s ms vs %s ms (lower: %s)%s" % (
                  "met" if met else "NOT met", r["connections"], r["texts"], ratio,
                  best["server"], "yes" if ratio >= 5 else "no", fmt_ms(r["p99_us"]),
                  fmt_ms(best["p99_us"]), "yes" if r["p99_us"] < best["p99_us"] else "no",
                  "" if clean else "; quarry had errors"))
    print("goal (>= 5x the throughput at a lower p99, every case): %s"
          % ("met" if met_all else "NOT met"))


def main(argv):
    cmd, args = argv[0], argv[1:]
    {"prepare": prepare, "check-quarry": check_quarry, "check-fasttext": check_fasttext,
     "proc": proc, "table": table}[cmd](*args)


if __name__ == "__main__":
    main(sys.argv[1:])
