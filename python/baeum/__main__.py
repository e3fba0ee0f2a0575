"""python -m baeum [demo|info]

demo (default): train the course's first network (the churn DNN) on offline data.
info: print the configuration and the GEMM speed next to NumPy's.
"""
import sys
import time

import numpy as np

import baeum
from baeum import ops


def _gflops(fn, flop, min_time=0.2):
    fn()
    n, t0 = 0, time.perf_counter()
    best = float("inf")
    while time.perf_counter() - t0 < min_time:
        t1 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t1)
        n += 1
    return flop / best * 1e-9


def info():
    baeum.show_config()
    rng = np.random.default_rng(0)
    print("\nGEMM speed, float32 (best of repeated runs; the machine may be busy):")
    print(f"  {'shape':<22}{'baeum':>10}{'numpy':>10}{'ratio':>8}   GFLOP/s")
    for m, k, n in [(256, 256, 256), (1024, 1024, 1024), (32, 1024, 4096), (256, 392, 30)]:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), np.float32)
        flop = 2.0 * m * n * k
        gb = _gflops(lambda: ops.matmul(a, b, out=c), flop)
        gn = _gflops(lambda: np.matmul(a, b, out=c), flop)
        print(f"  {f'{m}x{k} · {k}x{n}':<22}{gb:10.1f}{gn:10.1f}{gb / gn:8.2f}")
    peak = baeum._core.fma_peak_gflops(baeum._core.gemm_isa(), 1, 0.2)
    print(f"\nFMA peak of the {baeum._core.gemm_isa()} path on 1 thread: {peak:.0f} GFLOP/s")


def main(argv):
    cmd = argv[0] if argv else "demo"
    if cmd == "info":
        info()
        return 0
    if cmd == "demo":
        from baeum import demo

        demo.run()
        return 0
    print(f"usage: python -m baeum [demo|info]   (unknown command {cmd!r})", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
