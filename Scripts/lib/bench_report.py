"""Scripts/bench's report: the JSON object of a run (report_head, run_settings and what
each mode adds) and its text tables, for one split (print_table, with quarry / fastText
ratios) and for seeded splits (print_splits_table, with means, sds and quarry against
each peer).
"""

import datetime
import json
import os

import bench_measure as M
import bench_workers as W  # pure Python, no heavy imports
from bench_corpora import SPLIT_PROCEDURE, corpus_notes, ft_tokenize_summary
from bench_measure import DISTURBED, loadavg, machine_info, rss_measured_with, versions
from bench_systems import SKLEARN_LR, SKLEARN_SVC, SKLEARN_SVC_CHAR


def report_head(load_start):
    """The first keys of every report: the date, the machine (with its load average at
    the start, load_start, and now) and the versions."""
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": dict(machine_info(), loadavg_start=load_start, loadavg_end=loadavg()),
        "versions": versions(),
    }


def run_settings(args):
    """The settings every report has, after its mode's own: how the systems were set up
    on the run's corpora."""
    return {
        "ft_tokenize": ft_tokenize_summary(args.corpora, args),
        "fasttext": dict(W.FT_PARAMS),
        "sklearn_lr": SKLEARN_LR,
        "sklearn_svc": SKLEARN_SVC,
        "sklearn_svc_char": SKLEARN_SVC_CHAR,
        "corpus_notes": corpus_notes(args.corpora),
        "quarry": args.quarry,
        "vectors": args.vectors,
        "encoder": args.encoder,
        "tune_layers": args.tune_layers,
    }


def fixed_report(args, plan, systems, corpora, results, skipped, load_start, timing):
    """The report of the default mode (plan: corpus name -> its systems; corpora: (name,
    train, test) triples; timing: total_seconds and bench_seconds)."""
    return {
        **report_head(load_start),
        "settings": {
            "seed": args.seed,
            "threads": args.threads,
            "repeat_predict": args.repeat_predict,
            "systems": systems,
            "systems_per_corpus": plan,
            **run_settings(args),
            "rss_measured_with": rss_measured_with(),
        },
        "corpora": {n: {"train": tr, "test": te} for n, tr, te in corpora},
        "results": results,
        "ratios": ratios(results),
        "skipped": skipped,
        **timing,
        "max_other_load": M.MAX_OTHER_LOAD,
    }


def splits_report(args, plan, systems, pooled_info, splits, skipped, load_start, timing):
    """The report of the --splits mode, with the mean and sd per system and quarry
    against each peer (split_summaries)."""
    summary, versus = split_summaries(splits, systems)
    return {
        "mode": "splits",
        **report_head(load_start),
        "settings": {
            "systems": systems,
            "systems_per_corpus": plan,
            "split_seeds": args.split_seeds,
            "split_procedure": SPLIT_PROCEDURE % ",".join(str(x) for x in args.split_seeds),
            "seed": args.seed,
            "threads": args.threads,
            **run_settings(args),
        },
        "corpora": pooled_info,
        "splits": splits,
        "summary": summary,
        "quarry_vs_peers": versus,
        "skipped": skipped,
        **timing,
    }


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


def is_report(path):
    """Whether `path` holds a report this script wrote: a JSON object with `report_head`'s
    keys. Only the first byte is read of anything else."""
    try:
        with open(path, "rb") as f:
            if f.read(1) != b"{":
                return False
            f.seek(0)
            report = json.load(f)
    except (OSError, ValueError):
        return False
    return isinstance(report, dict) and {"date", "machine", "versions"} <= report.keys()


def emit(report, args, print_text):
    """Writes the report to --save-json if asked (whole, by a rename), then prints it as
    JSON or as text."""
    if args.save_json:
        tmp = "%s.tmp-%d" % (args.save_json, os.getpid())
        with open(tmp, "w") as f:
            json.dump(report, f, indent=2)
        os.replace(tmp, args.save_json)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print_text(report)


RATIO_KEYS = [
    # key, wording, lower_is_better, what quarry is when better, when not
    ("train_seconds", "train time", True, "faster", "slower"),
    ("predict_docs_per_s", "predict docs/s", False, "faster", "slower"),
    ("train_peak_rss_mb", "train peak RSS", True, "less memory", "more memory"),
    ("predict_peak_rss_mb", "predict peak RSS", True, "less memory", "more memory"),
]


def ratios(results):
    """Quarry against each fastText variant in the same run: quarry / fastText."""
    out = []
    by = {(r["corpus"], r["system"]): r for r in results if "error" not in r}
    for (corpus, system), q in by.items():
        if system != "quarry":
            continue
        for base in ("fasttext", "fasttext-glove"):
            b = by.get((corpus, base))
            if not b:
                continue
            entry = {"corpus": corpus, "baseline": base, "definition": "quarry / " + base}
            for key, *_ in RATIO_KEYS:
                if q.get(key) and b.get(key):
                    entry[key] = q[key] / b[key]
            out.append(entry)
    return out


def print_header(report, title):
    """The title with the date, then the machine and the versions."""
    m, v = report["machine"], report["versions"]
    print("%s  %s" % (title, report["date"]))
    print("machine: %s, nproc %s, kernel %s, load average at start %s, at end %s" % (
        m["cpu"], m["nproc"], m["kernel"],
        fmt(m["loadavg_start"] and m["loadavg_start"][0], ".2f"),
        fmt(m["loadavg_end"] and m["loadavg_end"][0], ".2f")))
    print("versions: python %s, fasttext-wheel %s, scikit-learn %s, numpy %s"
          % (v["python"], v["fasttext-wheel"], v["scikit-learn"], v["numpy"]))


def print_table(report):
    s = report["settings"]
    print_header(report, "Quarry benchmark")
    print(
        "settings: seed %s, threads %s, predict input = test set x %s (one text per line, "
        "whole process incl. model load), fastText tokenize=%s, quarry=%s"
        % (s["seed"], s["threads"], s["repeat_predict"], s["ft_tokenize"], s["quarry"])
    )
    print()
    head = ["corpus", "system", "accuracy", "macro-F1", "train s", "predict docs/s",
            "train RSS MB", "predict RSS MB"]
    rows = []
    for r in report["results"]:
        if "error" in r:
            rows.append([r["corpus"], r["system"], "ERROR", "", "", "", "", ""])
            continue
        mark_t = "*" if (r.get("train_other_load") or 0) > DISTURBED else ""
        mark_p = "*" if (r.get("predict_other_load") or 0) > DISTURBED else ""
        rows.append([
            r["corpus"], r["system"], fmt(r.get("accuracy"), ".4f"), fmt(r.get("macro_f1"), ".4f"),
            fmt(r.get("train_seconds"), ".2f") + mark_t,
            fmt(r.get("predict_docs_per_s"), ",.0f") + mark_p,
            fmt(r.get("train_peak_rss_mb"), ".0f"), fmt(r.get("predict_peak_rss_mb"), ".0f"),
        ])
    for l in text_table(head, rows, {0, 1}):
        print(l)
    print()
    print("train s: whole training process (read data, train, write model) for quarry and fastText;")
    print("         fit time (vectorizing included) for scikit-learn.  RSS: peak resident set of the process.")
    print("predict docs/s: test texts x %d through one predict process each (start-up and model load"
          % s["repeat_predict"])
    print("         included).  fastText is given its copies of the texts tokenized (--ft-tokenize %s)"
          % s["ft_tokenize"])
    print("         before timing; Quarry and scikit-learn get the corpus text and tokenize it themselves.")
    for name, note in s.get("corpus_notes", {}).items():
        print("%s: %s" % (name, note))
    for e in report["ratios"]:
        parts = []
        for key, words, lower_better, better, worse in RATIO_KEYS:
            if key not in e:
                continue
            x = e[key]
            how = better if (x < 1 if lower_better else x > 1) else worse
            parts.append("%s %.2fx %s's (%s)" % (words, x, e["baseline"], how))
        print("quarry vs %s on %s, quarry / %s: %s"
              % (e["baseline"], e["corpus"], e["baseline"], "; ".join(parts)))
    for r in report["results"]:
        if "train_cached_seconds" in r:
            print("%s on %s: finetune %.1f s cold (its own empty feature cache), %.1f s again from "
                  "that cache; evaluate %.1f s; predict docs/s on the test texts once, every text "
                  "encoded" % (r["system"], r["corpus"], r["train_seconds"], r["train_cached_seconds"],
                               r["evaluate_seconds"]))
        if "encode_train_seconds" in r:
            print("%s on %s: train s = quarry encode of the train texts %.1f s + fit %.1f s (test "
                  "texts encoded in %.1f s, untimed)" % (r["system"], r["corpus"], r["encode_train_seconds"],
                                                         r["fit_seconds"], r["encode_test_seconds"]))
    for r in report["results"]:
        for w in r.get("warnings", []):
            print("warning: %s/%s: %s" % (r["corpus"], r["system"], w))
        if "error" in r:
            print("error: %s/%s: %s" % (r["corpus"], r["system"], r["error"].splitlines()[0]))
    for sk in report["skipped"]:
        print("skipped: %s" % sk)
    print("other processes' CPU use during the timed jobs: at most %.2f cores%s"
          % (report["max_other_load"],
             "  (* = over %.2f cores during that job: timing disturbed, rerun on an idle machine)"
             % DISTURBED if report["max_other_load"] > DISTURBED else ""))
    print("total wall time: %.1fs (%.1fs after waiting for an idle machine)"
          % (report["total_seconds"], report["bench_seconds"]))


def mean_sd(xs):
    """Mean and sample standard deviation (n - 1; None for one value)."""
    if not xs:
        return None, None
    m = sum(xs) / len(xs)
    if len(xs) < 2:
        return m, None
    return m, (sum((x - m) ** 2 for x in xs) / (len(xs) - 1)) ** 0.5


def split_summaries(splits, systems):
    """Per corpus and system the mean and sd over splits; per corpus, quarry against each
    peer on the splits where both have a result."""
    summary, versus = [], []
    for corpus in dict.fromkeys(sp["corpus"] for sp in splits):
        mine = [sp for sp in splits if sp["corpus"] == corpus]
        ran = [s for s in systems if any(s in sp["results"] for sp in mine)]  # this corpus's
        for system in ran:
            ok = [sp["results"][system] for sp in mine if "error" not in sp["results"].get(system, {"error": 1})]
            acc_m, acc_sd = mean_sd([r["accuracy"] for r in ok])
            f1_m, f1_sd = mean_sd([r["macro_f1"] for r in ok])
            summary.append({"corpus": corpus, "system": system, "splits": len(ok), "of": len(mine),
                            "accuracy_mean": acc_m, "accuracy_sd": acc_sd,
                            "macro_f1_mean": f1_m, "macro_f1_sd": f1_sd})
        # Every Quarry system (quarry, quarry-encoder, quarry-tuned) against every peer.
        for own in (s for s in ran if s.startswith("quarry")):
            for peer in (s for s in ran if not s.startswith("quarry")):
                pairs = [(sp["results"][own]["macro_f1"], sp["results"][peer]["macro_f1"])
                         for sp in mine
                         if "macro_f1" in sp["results"].get(own, {})
                         and "macro_f1" in sp["results"].get(peer, {})]
                d_m, d_sd = mean_sd([q - p for q, p in pairs])
                versus.append({"corpus": corpus, "system": own, "peer": peer, "splits": len(pairs),
                               "quarry_macro_f1_ge": sum(1 for q, p in pairs if q >= p),
                               "quarry_macro_f1_equal": sum(1 for q, p in pairs if q == p),
                               "macro_f1_difference_mean": d_m, "macro_f1_difference_sd": d_sd,
                               "definition": "%s's macro-F1 minus %s's, per split" % (own, peer)})
    return summary, versus


def text_table(head, rows, left):
    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]

    def line(cells):
        return "  ".join(
            str(c).ljust(w) if i in left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    return [line(head), "  ".join("-" * w for w in widths)] + [line(r) for r in rows]


def print_splits_table(report):
    s = report["settings"]
    systems = s["systems"]
    print_header(report, "Quarry benchmark over seeded splits")
    print("settings: training seed %s for every split, threads %s, fastText tokenize=%s, quarry=%s"
          % (s["seed"], s["threads"], s["ft_tokenize"], s["quarry"]))
    print("splits: %s" % s["split_procedure"])
    for name, c in report["corpora"].items():
        print("  %s: %d rows pooled, %s" % (name, c["pooled_rows"], c["pooled_order"]))
    for name, note in s.get("corpus_notes", {}).items():
        print("%s: %s" % (name, note))
    print()
    print("Per split, accuracy / macro-F1 on the split's test rows:")
    head = ["corpus", "split seed", "train", "test"] + systems
    rows = []
    for sp in report["splits"]:
        cells = [sp["corpus"], sp["seed"], sp["train_rows"], sp["test_rows"]]
        for system in systems:
            r = sp["results"].get(system)
            cells.append("-" if r is None else "ERROR" if "error" in r
                         else "%.4f / %.4f" % (r["accuracy"], r["macro_f1"]))
        rows.append(cells)
    for l in text_table(head, rows, {0}):
        print(l)
    print()
    print("Per system over the splits, mean ± sd (sd with n - 1):")
    rows = []
    for e in report["summary"]:
        ms = lambda k: "-" if e[k + "_mean"] is None else "%.4f ± %s" % (
            e[k + "_mean"], fmt(e[k + "_sd"], ".4f"))
        rows.append([e["corpus"], e["system"], "%d of %d" % (e["splits"], e["of"]),
                     ms("accuracy"), ms("macro_f1")])
    for l in text_table(["corpus", "system", "splits", "accuracy", "macro-F1"], rows, {0, 1}):
        print(l)
    if report["quarry_vs_peers"]:
        print()
        print("Each Quarry system against each peer, macro-F1 split by split:")
        rows = []
        for e in report["quarry_vs_peers"]:
            rows.append([e["corpus"], e["system"], e["peer"],
                         "%d of %d" % (e["quarry_macro_f1_ge"], e["splits"])
                         + (" (%d equal)" % e["quarry_macro_f1_equal"] if e["quarry_macro_f1_equal"] else ""),
                         "-" if e["macro_f1_difference_mean"] is None else "%+.4f ± %s" % (
                             e["macro_f1_difference_mean"], fmt(e["macro_f1_difference_sd"], ".4f"))])
        for l in text_table(["corpus", "system", "peer", "splits where system >= peer",
                             "system - peer, mean ± sd"], rows, {0, 1, 2}):
            print(l)
    for sp in report["splits"]:
        for system, r in sp["results"].items():
            for w in r.get("warnings", []):
                print("warning: %s split %s/%s: %s" % (sp["corpus"], sp["seed"], system, w))
            if "error" in r:
                print("error: %s split %s/%s: %s" % (sp["corpus"], sp["seed"], system, r["error"].splitlines()[0]))
    for sk in report["skipped"]:
        print("skipped: %s" % sk)
    print("total wall time: %.1fs (%.1fs after waiting for an idle machine)"
          % (report["total_seconds"], report["bench_seconds"]))
