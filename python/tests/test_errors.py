"""A missing or broken model file is a QuarryError that names the file and says what is
wrong, in the words `quarry predict` uses."""

import os
import subprocess

import pytest

import quarry
from quarry import cli


def cli_error(path):
    done = subprocess.run(
        [cli.binary(), "predict", "--model", str(path)], input="", capture_output=True, text=True
    )
    assert done.returncode != 0
    return done.stderr


def load_error(path):
    with pytest.raises(quarry.QuarryError) as e:
        quarry.Model(path)
    message = str(e.value)
    assert message.startswith(str(path)), message
    assert message in cli_error(path), "the CLI says the same"
    return message


def test_missing_file(tmp_path):
    assert "no such file" in load_error(tmp_path / "absent.qmodel")


def test_directory(tmp_path):
    assert "directory" in load_error(tmp_path)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.qmodel"
    p.write_bytes(b"")
    assert "empty" in load_error(p)


def test_not_a_model(tmp_path):
    p = tmp_path / "text.qmodel"
    p.write_text("earn\tthis is a corpus, not a model\n" * 50)
    load_error(p)


def test_flipped_byte_fails_the_checksum(model_path, tmp_path):
    data = bytearray(open(model_path, "rb").read())
    data[len(data) // 2] ^= 0x40
    p = tmp_path / "corrupt.qmodel"
    p.write_bytes(bytes(data))
    message = load_error(p)
    assert "checksum" in message.lower(), message


def test_truncated_file(model_path, tmp_path):
    data = open(model_path, "rb").read()
    p = tmp_path / "truncated.qmodel"
    p.write_bytes(data[: len(data) // 3])
    load_error(p)


def test_closed_model(model_path):
    m = quarry.Model(model_path)
    m.close()
    with pytest.raises(quarry.QuarryError, match="closed"):
        m.predict(["x"])


def test_close_while_other_threads_predict(model_path):
    """close() from one thread while four others predict in a loop: every call either
    answers in full or raises QuarryError('closed'); none crashes or reads freed memory,
    and a call that answered is right."""
    import threading

    m = quarry.Model(model_path, threads=1)
    want = m.predict(["crude oil prices rose sharply"] * 64)
    outcomes, started = [], threading.Barrier(5)

    def loop():
        started.wait()
        while True:
            try:
                got = m.predict(["crude oil prices rose sharply"] * 64)
            except quarry.QuarryError as e:
                outcomes.append("closed" if "closed" in str(e) else str(e))
                return
            outcomes.append("ok" if got == want else "wrong")

    workers = [threading.Thread(target=loop) for _ in range(4)]
    for w in workers:
        w.start()
    started.wait()
    m.close()
    for w in workers:
        w.join(timeout=60)
    assert outcomes.count("closed") == 4, outcomes[-8:]
    assert set(outcomes) <= {"ok", "closed"}, set(outcomes)


def test_missing_library(monkeypatch, tmp_path):
    from quarry import _native

    monkeypatch.setattr(_native, "_lib", None)
    monkeypatch.setenv("QUARRY_LIB", str(tmp_path / "libQuarryC.so"))
    with pytest.raises(quarry.QuarryError, match="libQuarryC.so: no such file"):
        quarry.Model("whatever.qmodel")
