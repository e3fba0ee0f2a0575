"""Max pooling and batch normalization, forward and backward, at a CNN-typical shape
(N=64, 32×32×64, NHWC): baeum vs PyTorch (channels_last, the same memory layout) in the
same run. Prints the best time of each and the ratio torch/baeum (> 1: baeum is faster).

    python benches/pool_norm.py [--threads 2] [--n 64] [--hw 32] [--c 64]

PyTorch is optional (baeum times are printed alone without it). Kernels compared one to one:
maxpool 2×2/2 forward (with argmax) and its backward; batch norm training forward (batch
statistics + moving-stat update) and its fused backward (dx, dgamma, dbeta).
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "python"))

from _common import best_time, try_torch  # noqa: E402


def baeum_cases(n, hw, c, seed=0):
    from baeum import ops

    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, hw, hw, c)).astype(np.float32)
    y, a = ops.max_pool2d_forward(x, 2)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    dx = np.empty_like(x)
    out, arg = np.empty_like(y), np.empty(y.shape, np.int32)
    g, b = np.ones(c, np.float32), np.zeros(c, np.float32)
    mm, mv = np.zeros(c, np.float32), np.ones(c, np.float32)
    bn_out = np.empty_like(x)
    _, sm, si = ops.batch_norm_forward(x, g, b, mm, mv, training=True)
    dyb = rng.standard_normal(x.shape).astype(np.float32)
    dg, db = np.zeros(c, np.float32), np.zeros(c, np.float32)
    return {
        "maxpool fwd": lambda: ops.max_pool2d_forward(x, 2, out=out, argmax=arg),
        "maxpool bwd": lambda: ops.max_pool2d_backward(dy, a, x.shape, dinp=dx),
        "batchnorm fwd (train)": lambda: ops.batch_norm_forward(x, g, b, mm, mv, training=True, out=bn_out),
        "batchnorm bwd": lambda: ops.batch_norm_backward(dyb, x, sm, si, g, training=True, dgamma=dg, dbeta=db,
                                                         dinp=dx),
    }


def torch_cases(torch, n, hw, c, seed=0):
    aten = torch.ops.aten
    rng = np.random.default_rng(seed)
    cl = torch.channels_last
    x = torch.from_numpy(rng.standard_normal((n, c, hw, hw)).astype(np.float32)).contiguous(memory_format=cl)
    y, idx = aten.max_pool2d_with_indices(x, [2, 2], [2, 2])
    dy = torch.randn(y.shape).contiguous(memory_format=cl)
    g, b = torch.ones(c), torch.zeros(c)
    rm, rv = torch.zeros(c), torch.ones(c)
    _, sm, si = aten.native_batch_norm(x, g, b, rm, rv, True, 0.01, 1e-3)
    dyb = torch.randn(x.shape).contiguous(memory_format=cl)
    return {
        "maxpool fwd": lambda: aten.max_pool2d_with_indices(x, [2, 2], [2, 2]),
        "maxpool bwd": lambda: aten.max_pool2d_with_indices_backward(dy, x, [2, 2], [2, 2], [0, 0], [1, 1],
                                                                      False, idx),
        "batchnorm fwd (train)": lambda: aten.native_batch_norm(x, g, b, rm, rv, True, 0.01, 1e-3),
        "batchnorm bwd": lambda: aten.native_batch_norm_backward(dyb, x, g, rm, rv, sm, si, True, 1e-3,
                                                                 [True, True, True]),
    }


def run(n, hw, c, threads):
    import baeum

    baeum.set_num_threads(threads)
    torch = try_torch()
    if torch is not None:
        torch.set_num_threads(threads)
    ours = {k: best_time(f) for k, f in baeum_cases(n, hw, c).items()}
    theirs = {}
    if torch is not None:
        with torch.no_grad():
            theirs = {k: best_time(f) for k, f in torch_cases(torch, n, hw, c).items()}
    print(f"shape N={n} {hw}x{hw}x{c} (NHWC), threads={threads}"
          + (f", torch {torch.__version__}" if torch is not None else ", torch not installed"))
    print(f"{'kernel':24s} {'baeum ms':>9s} {'torch ms':>9s} {'torch/baeum':>12s}")
    for k, t in ours.items():
        if k in theirs:
            print(f"{k:24s} {t * 1e3:9.3f} {theirs[k] * 1e3:9.3f} {theirs[k] / t:11.2f}x")
        else:
            print(f"{k:24s} {t * 1e3:9.3f} {'-':>9s} {'-':>12s}")
    return ours, theirs


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--n", type=int, default=64)
    ap.add_argument("--hw", type=int, default=32)
    ap.add_argument("--c", type=int, default=64)
    a = ap.parse_args()
    run(a.n, a.hw, a.c, a.threads)
