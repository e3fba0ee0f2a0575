"""Dense forward + backward of the course's narrow layers: baeum vs PyTorch (and NumPy).

    python benches/dense.py [--threads 1] [--rounds 5]

Stacks (one training step's Dense work, forward through all layers then backward):
* deck:    batch 256, 392 -> 30 relu -> 20 relu -> 10 softmax  (benches/cnn.py --model deck)
* churn10: batch 10,  30 -> 128 relu -> 64 relu -> 32 relu -> 1 sigmoid  (benches/churn.py)
* churn32: the same at batch 32.

baeum: `ops.dense_forward` / `ops.dense_backward` (the fused kernels the Dense layer calls).
PyTorch: the same math with its best eager ops and no autograd — addmm + activation forward;
dz = dy·f'(z), dW = xᵀ·dz, db = Σ dz, dx = dz·Wᵀ backward. NumPy: the same with OpenBLAS.
The machine is shared and noisy: implementations are interleaved, best of several rounds.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

import numpy as np  # noqa: E402

from _common import best_time, set_blas_threads, try_torch  # noqa: E402

STACKS = {
    "deck": (256, 392, [(30, "relu"), (20, "relu"), (10, "softmax")]),
    "churn10": (10, 30, [(128, "relu"), (64, "relu"), (32, "relu"), (1, "sigmoid")]),
    "churn32": (32, 30, [(128, "relu"), (64, "relu"), (32, "relu"), (1, "sigmoid")]),
}


def make_stack(name, seed=0):
    """Per layer: x, W, b, dy and preallocated outputs/gradients (float32)."""
    n, d, layers = STACKS[name]
    rng = np.random.default_rng(seed)
    out = []
    for u, act in layers:
        out.append(dict(
            act=act, x=rng.standard_normal((n, d), dtype=np.float32),
            w=(rng.standard_normal((d, u)) / np.sqrt(d)).astype(np.float32),
            b=rng.standard_normal(u).astype(np.float32),
            dy=rng.standard_normal((n, u), dtype=np.float32),
            y=np.empty((n, u), np.float32), z=np.empty((n, u), np.float32),
            dw=np.zeros((d, u), np.float32), db=np.zeros(u, np.float32),
            dx=np.empty((n, d), np.float32)))
        d = u
    return out


def baeum_step(stack):
    from baeum import ops

    def step():
        for L in stack:
            ops.dense_forward(L["x"], L["w"], L["b"], L["act"], out=L["y"], preact=L["z"])
        for L in reversed(stack):
            ops.dense_backward(L["dy"], L["x"], L["w"], L["y"], L["z"], L["act"], dkernel=L["dw"],
                               dbias=L["db"], dinp=L["dx"])
    return step


def numpy_step(stack):
    def fwd(L):
        z = L["x"] @ L["w"] + L["b"]
        if L["act"] == "relu":
            y = np.maximum(z, 0)
        elif L["act"] == "sigmoid":
            y = 1 / (1 + np.exp(-z))
        else:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            y = e / e.sum(axis=1, keepdims=True)
        L["y"][...] = y

    def bwd(L):
        y, dy = L["y"], L["dy"]
        if L["act"] == "relu":
            dz = dy * (y > 0)
        elif L["act"] == "sigmoid":
            dz = dy * y * (1 - y)
        else:
            dz = y * (dy - (dy * y).sum(axis=1, keepdims=True))
        L["dw"] += L["x"].T @ dz
        L["db"] += dz.sum(axis=0)
        np.matmul(dz, L["w"].T, out=L["dx"])

    def step():
        for L in stack:
            fwd(L)
        for L in reversed(stack):
            bwd(L)
    return step


def torch_step(torch, stack):
    T = [{k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else v) for k, v in L.items()}
         for L in stack]

    def step():
        with torch.no_grad():
            for L in T:
                z = torch.addmm(L["b"], L["x"], L["w"])
                if L["act"] == "relu":
                    L["y"].copy_(z.relu_())
                elif L["act"] == "sigmoid":
                    torch.sigmoid(z, out=L["y"])
                else:
                    L["y"].copy_(torch.softmax(z, dim=1))
            for L in reversed(T):
                y, dy = L["y"], L["dy"]
                if L["act"] == "relu":
                    dz = dy * (y > 0)
                elif L["act"] == "sigmoid":
                    dz = dy * y * (1 - y)
                else:
                    dz = y * (dy - (dy * y).sum(dim=1, keepdim=True))
                L["dw"].addmm_(L["x"].T, dz)
                L["db"].add_(dz.sum(dim=0))
                torch.mm(dz, L["w"].T, out=L["dx"])
    return step


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--rounds", type=int, default=5)
    args = p.parse_args()
    import baeum

    baeum.set_num_threads(args.threads)
    set_blas_threads(args.threads)
    torch = try_torch()
    if torch is not None:
        torch.set_num_threads(args.threads)
    print(f"# Dense fwd+bwd per step, {args.threads} thread(s); baeum simd={baeum._core.gemm_isa()}; "
          f"torch {'-' if torch is None else torch.__version__}   (µs, best of {args.rounds} rounds)")
    print(f"{'stack':<10}{'baeum':>10}{'numpy':>10}{'torch':>10}{'np/b':>8}{'torch/b':>9}")
    for name in STACKS:
        stack = make_stack(name)
        impls = {"baeum": baeum_step(stack), "numpy": numpy_step(stack)}
        if torch is not None:
            impls["torch"] = torch_step(torch, stack)
        best = {k: float("inf") for k in impls}
        for _ in range(args.rounds):  # interleaved: each implementation sees the same noise
            for k, fn in impls.items():
                best[k] = min(best[k], best_time(fn, min_time=0.05, reps=2))
        us = {k: v * 1e6 for k, v in best.items()}
        t = f"{us['torch']:10.1f}" if "torch" in us else f"{'-':>10}"
        rt = f"{us['torch'] / us['baeum']:9.2f}" if "torch" in us else f"{'-':>9}"
        print(f"{name:<10}{us['baeum']:10.1f}{us['numpy']:10.1f}{t}{us['numpy'] / us['baeum']:8.2f}{rt}",
              flush=True)


if __name__ == "__main__":
    main()
