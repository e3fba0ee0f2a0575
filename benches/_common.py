"""Shared helpers for benches: timing, OpenBLAS control, optional torch."""
import ctypes
import glob
import os
import time

import numpy as np


def openblas():
    """numpy's bundled OpenBLAS (ctypes handle) or None."""
    libs = glob.glob(os.path.join(os.path.dirname(np.__file__), "..", "numpy.libs", "libscipy_openblas*.so*"))
    if not libs:
        return None
    try:
        return ctypes.CDLL(libs[0])
    except OSError:
        return None


def openblas_info():
    lib = openblas()
    if lib is None:
        return "unknown BLAS"
    for name in ("scipy_openblas_get_corename64_", "openblas_get_corename"):
        if hasattr(lib, name):
            fn = getattr(lib, name)
            fn.restype = ctypes.c_char_p
            return "OpenBLAS " + fn().decode()
    return "OpenBLAS"


def set_blas_threads(n):
    lib = openblas()
    for name in ("scipy_openblas_set_num_threads64_", "openblas_set_num_threads"):
        if lib is not None and hasattr(lib, name):
            getattr(lib, name)(ctypes.c_int(n))
            return


def best_time(fn, min_time=0.05, reps=3):
    """Best per-call time over `reps` rounds of ≥ min_time seconds each."""
    fn()
    n = 1
    while True:
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        dt = time.perf_counter() - t0
        if dt >= min_time / 4 or n >= 1 << 20:
            break
        n *= 2
    n = max(1, int(n * min_time / max(dt, 1e-9)))
    best = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, (time.perf_counter() - t0) / n)
    return best


def try_torch():
    try:
        import torch
    except ImportError:
        return None
    return torch
