"""A Quarry model loaded into this process: `Model(path).predict(texts, k=...)`."""

import ctypes
import itertools
import os
import threading
from array import array
from typing import List, NamedTuple

from . import _native
from .errors import QuarryError


class Prediction(NamedTuple):
    """A text's k most probable labels, best first, and their probabilities."""

    labels: List[str]
    probabilities: List[float]


def probability_text(p):
    """`p` with four decimals, the characters `quarry predict` prints for it.

    Python formats a float as the correctly rounded decimal of its exact binary value,
    and quarry rounds p·10⁴ (exact in a double for a float32 p) half to even: the same.
    """
    return f"{p:.4f}"


def encode_texts(texts):
    """UTF-8 bytes of `texts` end to end, and the n+1 byte offsets where each starts."""
    parts = []
    for i, t in enumerate(texts):
        if not isinstance(t, str):
            raise TypeError(f"text {i} is a {type(t).__name__}, not a str")
        parts.append(t.encode("utf-8", "surrogatepass"))
    offsets = array("q", itertools.accumulate(map(len, parts), initial=0))
    return b"".join(parts), offsets


class Model:
    """A model file loaded once; prediction runs in this process through libQuarryC.

    `threads` is how many threads featurize and score each batch (the CLI's default, 2).
    Several Python threads may predict with one Model at once: the library holds no
    state between calls, and ctypes releases the GIL while it runs.
    """

    def __init__(self, path, threads=2):
        self.path = os.fspath(path)
        self.threads = int(threads)
        if self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {threads}")
        self._handle = None
        self._lock = threading.Lock()
        self._calls = 0  # calls running in the library on this handle
        self._closing = False
        dll = _native.lib()
        err = ctypes.c_void_p()
        handle = dll.quarry_model_load(self.path.encode("utf-8"), ctypes.byref(err))
        if not handle:
            raise QuarryError(_native.take_error(dll, err))
        self._handle = handle
        self._dll = dll
        c = dll.quarry_model_classes(handle)
        self.labels = tuple(dll.quarry_model_label(handle, i).decode("utf-8") for i in range(c))
        t = tuple(dll.quarry_model_threshold(handle, i) for i in range(c))
        # A multi-label model's per-label thresholds; None for a single-label model.
        self.thresholds = t if c and t[0] > 0 else None

    @property
    def classes(self):
        return len(self.labels)

    def close(self):
        """Frees the model now rather than when the object is collected. Calls running in
        other threads finish first: the last of them frees it; later calls raise."""
        with self._lock:
            if not self._handle or self._closing:
                return
            self._closing = True
            if self._calls == 0:
                self._free()

    def _free(self):
        self._dll.quarry_model_free(self._handle)
        self._handle = None

    def __del__(self):
        if getattr(self, "_handle", None) and getattr(self, "_lock", None):
            self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def __reduce__(self):
        # Pickled as its path: unpickling loads the file again (for Spark, MLflow, joblib).
        return (Model, (self.path, self.threads))

    def __repr__(self):
        return f"Model({self.path!r}, classes={self.classes})"

    def _acquire(self):
        """The handle, counted as in use until `_release`."""
        with self._lock:
            if not self._handle or self._closing:
                raise QuarryError(f"{self.path}: the model was closed")
            self._calls += 1
            return self._handle

    def _call(self, fn, *args):
        """`fn(handle, *args, &error)` with the handle held: a QuarryError with the library's
        message when it returns non-zero."""
        err = ctypes.c_void_p()
        handle = self._acquire()
        try:
            rc = fn(handle, *args, ctypes.byref(err))
        finally:
            self._release()
        if rc != 0:
            raise QuarryError(_native.take_error(self._dll, err))

    def _release(self):
        with self._lock:
            self._calls -= 1
            if self._closing and self._calls == 0:
                self._free()

    def predict_arrays(self, texts, k=1, threads=None):
        """The raw form of `predict`: (label indices, probabilities, kk), both flat arrays
        of n·kk entries (row-major, kk = min(k, classes)): array('i') and array('f')."""
        if k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        kk = min(int(k), self.classes)
        buf, offsets = encode_texts(texts)
        n = len(offsets) - 1
        labels = array("i", bytes(4 * n * kk))
        probs = array("f", bytes(4 * n * kk))
        if n == 0:
            return labels, probs, kk
        self._call(
            self._dll.quarry_predict, buf, offsets.buffer_info()[0], n, kk,
            threads or self.threads, labels.buffer_info()[0], probs.buffer_info()[0],
        )
        return labels, probs, kk

    def predict(self, texts, k=None, threads=None, threshold=None):
        """Each text's k most probable labels (default 1) with their probabilities, as
        `quarry predict --k k` gives them (ties: the lower label first). For a multi-label
        model: every label at or above its threshold (or `threshold`), at most k (default:
        no cap). A str gives one Prediction, a sequence of str a list of them."""
        if isinstance(texts, str):
            return self.predict([texts], k, threads, threshold)[0]
        if self.thresholds is not None:
            return self._predict_multi_label(texts, k, threads, threshold)
        if threshold is not None:
            raise ValueError("threshold is for multi-label models; this one is single-label")
        k = 1 if k is None else k
        labels, probs, kk = self.predict_arrays(texts, k, threads)
        names = self.labels
        ids, ps = labels.tolist(), probs.tolist()
        return [
            Prediction([names[j] for j in ids[i : i + kk]], ps[i : i + kk])
            for i in range(0, len(ids), kk)
        ]

    def probabilities(self, texts, threads=None):
        """All class probabilities of each text: a list of n rows of `classes` floats,
        in the order of `labels`."""
        buf, offsets = encode_texts(texts)
        n, c = len(offsets) - 1, self.classes
        out = array("f", bytes(4 * n * c))
        if n == 0:
            return []
        self._call(
            self._dll.quarry_probabilities, buf, offsets.buffer_info()[0], n,
            threads or self.threads, out.buffer_info()[0],
        )
        flat = out.tolist()
        return [flat[i : i + c] for i in range(0, n * c, c)]

    def _predict_multi_label(self, texts, k, threads, threshold):
        """`predict` of a multi-label model, in one call of the library (quarry_predict_sets):
        the labels at or above their thresholds, most probable first (ties: the lower label
        first), at most k."""
        if k is not None and k < 1:
            raise ValueError(f"k must be at least 1, got {k}")
        if threshold is not None and not 0 < threshold < 1:
            raise ValueError(f"threshold must be between 0 and 1 (exclusive), got {threshold}")
        kk = self.classes if k is None else min(int(k), self.classes)
        buf, offsets = encode_texts(texts)
        n = len(offsets) - 1
        if n == 0:
            return []
        counts = array("i", bytes(4 * n))
        labels = array("i", bytes(4 * n * kk))
        probs = array("f", bytes(4 * n * kk))
        self._call(
            self._dll.quarry_predict_sets, buf, offsets.buffer_info()[0], n, kk,
            threshold or 0.0, threads or self.threads, counts.buffer_info()[0],
            labels.buffer_info()[0], probs.buffer_info()[0],
        )
        names, ids, ps = self.labels, labels.tolist(), probs.tolist()
        return [
            Prediction([names[j] for j in ids[i * kk : i * kk + m]], ps[i * kk : i * kk + m])
            for i, m in enumerate(counts)
        ]
