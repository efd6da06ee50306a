"""finetune and evaluate through the quarry CLI (a subprocess: these calls are long and
rare). Keyword arguments become flags: `word_ngrams=2` is `--word-ngrams 2`, `True` a bare
flag, `None` and `False` no flag."""

import json
import os
import shutil
import subprocess

from .errors import CLIError, QuarryError


def binary():
    """The quarry executable: $QUARRY_BIN, else the one inside the package, else PATH's."""
    env = os.environ.get("QUARRY_BIN")
    if env:
        return env
    packaged = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin", "quarry")
    if os.path.isfile(packaged) and os.access(packaged, os.X_OK):
        return packaged
    found = shutil.which("quarry")
    if found:
        return found
    raise QuarryError(
        "no quarry executable: the package holds none, none is on PATH, and QUARRY_BIN is not "
        "set (build it with `swift build -c release`)"
    )


def _flags(options):
    out = []
    for key, value in options.items():
        if value is None or value is False:
            continue
        flag = "--" + key.replace("_", "-")
        if value is True:
            out.append(flag)
        else:
            out += [flag, os.fspath(value) if isinstance(value, os.PathLike) else str(value)]
    return out


def run(subcommand, options, capture_stdout=True):
    """Runs `quarry SUBCOMMAND --flags…`: its stdout, or CLIError with its stderr."""
    command = [binary(), subcommand] + _flags(options)
    done = subprocess.run(
        command, stdout=subprocess.PIPE if capture_stdout else subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True,
    )
    if done.returncode != 0:
        lines = [l for l in done.stderr.strip().splitlines() if l.strip()]
        # The CLI's last lines say what went wrong (after progress, usage help goes last).
        errors = [l for l in lines if "rror" in l]
        message = "\n".join(errors) if errors else "\n".join(lines[-5:])
        raise CLIError(
            message or f"quarry {subcommand} exited with status {done.returncode}",
            done.returncode, command,
        )
    return done.stdout


def finetune(train, output, pretrained=None, valid=None, **options):
    """Trains a model on `train` and writes it to `output` (quarry finetune); returns
    `output`. Other flags as keywords: epochs=5, seed=2, threads=2, encoder="dir", …"""
    run("finetune", dict(train=train, output=output, pretrained=pretrained, valid=valid,
                         **options), capture_stdout=False)
    return os.fspath(output)


def evaluate(model, data, **options):
    """The metrics of `model` on the labelled corpus `data` (quarry evaluate --json): a
    dict with at least accuracy, macro_f1, per_class and confusion."""
    out = run("evaluate", dict(model=model, data=data, json=True, **options))
    try:
        return json.loads(out)
    except json.JSONDecodeError as e:
        raise QuarryError(f"quarry evaluate printed no JSON object ({e}): {out[:200]!r}") from None
