"""What Scripts/bench measures, and how (Scripts/lib/bench.py's base module: the others
import it).

  run_measured   a child process: wall seconds, peak RSS, CPU seconds and other
                 processes' CPU use while it ran (MAX_OTHER_LOAD keeps the highest)
  scores         accuracy and macro-F1 of a system's predictions
  machine_info, loadavg, versions, wait_quiet   the machine a run is on, and its load

Child processes are measured with /usr/bin/time (GNU time) when present: a child's
ru_maxrss as seen by os.wait4 from this process would include this process's own peak
RSS (Linux carries the old mm's high-water mark over exec), so the tiny `time` process
sits in between.
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time

GNU_TIME = "/usr/bin/time"


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# Highest CPU use by other processes seen during a timed job (cores busy on average,
# from /proc/stat minus the job's own CPU time); not measured on jobs under 0.3 s.
MAX_OTHER_LOAD = 0.0
DISTURBED = 0.25


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


def rss_measured_with():
    """How run_measured measures peak RSS, for the report."""
    if os.access(GNU_TIME, os.X_OK):
        return GNU_TIME
    return "os.wait4 (includes the harness's own peak RSS as a floor)"


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
