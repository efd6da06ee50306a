"""libQuarryC through ctypes: finding the library and declaring its C functions.

The library is the one inside the package (copied there when the wheel was built), or the
file $QUARRY_LIB names. It is loaded once per process, on first use.
"""

import ctypes
import os
import threading

from .errors import QuarryError

_lib = None
_lock = threading.Lock()

_c_char_pp = ctypes.POINTER(ctypes.c_void_p)  # char **error, read as a raw pointer to free it


def library_path():
    """The libQuarryC.so this process loads."""
    return os.environ.get("QUARRY_LIB") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "libQuarryC.so"
    )


def lib():
    """The loaded library, with its functions' argument and result types declared."""
    global _lib
    if _lib is not None:
        return _lib
    with _lock:
        if _lib is None:
            path = library_path()
            if not os.path.isfile(path):
                raise QuarryError(
                    f"{path}: no such file; build it with `swift build -c release` and "
                    "reinstall the package, or set QUARRY_LIB to libQuarryC.so"
                )
            try:
                dll = ctypes.CDLL(path)
            except OSError as e:
                raise QuarryError(f"{path}: cannot be loaded ({e})") from None
            _declare(dll)
            _lib = dll
    return _lib


def _declare(dll):
    vp, i32, i64 = ctypes.c_void_p, ctypes.c_int32, ctypes.c_int64
    dll.quarry_model_load.argtypes = [ctypes.c_char_p, _c_char_pp]
    dll.quarry_model_load.restype = vp
    dll.quarry_model_free.argtypes = [vp]
    dll.quarry_model_free.restype = None
    dll.quarry_model_classes.argtypes = [vp]
    dll.quarry_model_classes.restype = i32
    dll.quarry_model_label.argtypes = [vp, i32]
    dll.quarry_model_label.restype = ctypes.c_char_p
    dll.quarry_model_threshold.argtypes = [vp, i32]
    dll.quarry_model_threshold.restype = ctypes.c_float
    dll.quarry_predict.argtypes = [vp, ctypes.c_char_p, vp, i64, i32, i32, vp, vp, _c_char_pp]
    dll.quarry_predict.restype = i32
    dll.quarry_predict_sets.argtypes = [
        vp, ctypes.c_char_p, vp, i64, i32, ctypes.c_float, i32, vp, vp, vp, _c_char_pp,
    ]
    dll.quarry_predict_sets.restype = i32
    dll.quarry_probabilities.argtypes = [vp, ctypes.c_char_p, vp, i64, i32, vp, _c_char_pp]
    dll.quarry_probabilities.restype = i32
    dll.quarry_string_free.argtypes = [vp]
    dll.quarry_string_free.restype = None


def take_error(dll, err):
    """The message a failed call left in `err` (a c_void_p), freed."""
    if not err.value:
        return "unknown error (the library gave no message)"
    try:
        return ctypes.string_at(err.value).decode("utf-8", "replace")
    finally:
        dll.quarry_string_free(err)
