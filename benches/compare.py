"""Side-by-side speed of baeum and NumPy (and PyTorch when installed), from one interleaved run.

    python benches/compare.py matmul [--threads 1|2] [--quick]

Prints GFLOP/s per implementation and the ratio baeum/numpy for every shape. The machine is
shared and noisy: each shape times all implementations back to back, several rounds, best of.
On machines where OPENBLAS_CORETYPE is forced (e.g. Haswell), numpy uses that kernel; unset
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE in the command to compare with its best kernel.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402

import baeum  # noqa: E402
from baeum import ops  # noqa: E402
from _common import best_time, openblas_info, set_blas_threads, try_torch  # noqa: E402

SQUARES = [64, 128, 256, 512, 1024, 2048]
# (name, M, N, K, transpose_a, transpose_b): forward X·W and the two backward products
# dX = dY·Wᵀ (trans_b) and dW = Xᵀ·dY (trans_a) of the layers the course trains.
TRAINING = []
for (m, k, n) in [(10, 30, 64), (256, 392, 30), (64, 4096, 128), (32, 1024, 4096)]:
    TRAINING += [
        (f"fwd {m}x{k}·{k}x{n}", m, n, k, False, False),
        (f"dX  {m}x{n}·({k}x{n})ᵀ", m, k, n, False, True),
        (f"dW  ({m}x{k})ᵀ·{m}x{n}", k, n, m, True, False),
    ]


def matmul_cases(quick):
    cases = [(f"square {n}", n, n, n, False, False) for n in (SQUARES[:4] if quick else SQUARES)]
    return cases + TRAINING


def run_matmul(args):
    torch = try_torch()
    if torch is not None:
        torch.set_num_threads(args.threads)
    baeum.set_num_threads(args.threads)
    set_blas_threads(args.threads)
    rng = np.random.default_rng(0)
    print(f"# matmul, {args.threads} thread(s); baeum {baeum.__version__} simd={baeum._core.gemm_isa()}; "
          f"numpy {np.__version__} ({openblas_info()}); torch {'-' if torch is None else torch.__version__}")
    header = f"{'shape':<28}{'baeum':>10}{'numpy':>10}{'torch':>10}{'b/np':>8}{'b/torch':>9}   (GFLOP/s)"
    print(header)
    ratios = []
    for name, m, n, k, ta, tb in matmul_cases(args.quick):
        a = rng.standard_normal((k, m) if ta else (m, k), dtype=np.float32)
        b = rng.standard_normal((n, k) if tb else (k, n), dtype=np.float32)
        c = np.empty((m, n), np.float32)
        an, bn = (a.T if ta else a), (b.T if tb else b)
        impls = {
            "baeum": lambda: ops.matmul(a, b, transpose_a=ta, transpose_b=tb, out=c),
            "numpy": lambda: np.matmul(an, bn, out=c),
        }
        if torch is not None:
            ta_, tb_, tc = torch.from_numpy(a), torch.from_numpy(b), torch.from_numpy(c)
            tan, tbn = (ta_.T if ta else ta_), (tb_.T if tb else tb_)
            impls["torch"] = lambda: torch.matmul(tan, tbn, out=tc)
        best = {key: float("inf") for key in impls}
        min_time = 0.02 if args.quick else 0.05
        for _ in range(args.rounds):  # interleave implementations, keep each one's best
            for key, fn in impls.items():
                best[key] = min(best[key], best_time(fn, min_time=min_time, reps=2))
        gf = {key: 2.0 * m * n * k / t * 1e-9 for key, t in best.items()}
        r_np = gf["baeum"] / gf["numpy"]
        ratios.append(r_np)
        t_str = f"{gf['torch']:10.1f}" if "torch" in gf else f"{'-':>10}"
        r_t = f"{gf['baeum'] / gf['torch']:9.2f}" if "torch" in gf else f"{'-':>9}"
        print(f"{name:<28}{gf['baeum']:10.1f}{gf['numpy']:10.1f}{t_str}{r_np:8.2f}{r_t}", flush=True)
    print(f"# geometric mean baeum/numpy: {np.exp(np.mean(np.log(ratios))):.2f}")


def run_peak(args):
    for isa in ("avx512", "avx2", "generic"):
        if baeum._core.isa_supported(isa):
            g = baeum._core.fma_peak_gflops(isa, args.threads, 0.3)
            print(f"FMA peak {isa:8s} {args.threads} thread(s): {g:7.1f} GFLOP/s")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("what", choices=["matmul", "peak"])
    p.add_argument("--threads", type=int, default=baeum.get_num_threads())
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--quick", action="store_true")
    args = p.parse_args()
    {"matmul": run_matmul, "peak": run_peak}[args.what](args)


if __name__ == "__main__":
    main()
