"""Convolutional networks: one training epoch in baeum and in PyTorch eager, same model,
same data, Adam, categorical cross-entropy; plus conv forward/backward GFLOP/s.

    python benches/cnn.py [--model deck|vgg|all] [--epochs 3] [--threads 1] [--steps 16]

* deck: the course's deck-003 CNN on 28×28×1, batch 256 — Conv2D(16,3,s2,same,relu) →
  Conv2D(8,3,s2,same) → Flatten → Dense 30 relu → 20 relu → 10 softmax.
* vgg: 32×32×3, batch 64 — Conv 32-32-MaxPool-64-64-MaxPool (3×3, same, relu) → Flatten →
  Dense 128 relu → 10 softmax.
* gflops: each conv layer of both models alone, forward and backward (weights + data),
  against the machine's FMA peak (baeum._core.fma_peak_gflops).

Synthetic data (steps × batch samples). Prints best epoch times and the ratio. On a shared,
oversubscribed machine OpenMP's spin-waiting makes 2-thread runs erratic: compare within
one run, and consider OMP_WAIT_POLICY=passive.

Measured (AVX2 Zen 4, torch 2.13, 11 runs): deck 3.18–3.44× PyTorch's speed at 1 thread (37.3–40
ms/epoch; the fused CNN step, docs/conv.md), 4.3–4.8× at 2 threads; vgg ≈ 1.0–1.13×.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

from _common import best_time, try_torch  # noqa: E402

MODELS = {"deck": dict(shape=(28, 28, 1), batch=256), "vgg": dict(shape=(32, 32, 3), batch=64)}


def data(model, steps, seed=0):
    cfg = MODELS[model]
    rng = np.random.default_rng(seed)
    n = steps * cfg["batch"]
    x = rng.standard_normal((n,) + cfg["shape"]).astype(np.float32)
    y = rng.integers(0, 10, n)
    return x, np.eye(10, dtype=np.float32)[y]


def baeum_model(model):
    from baeum.layers import Conv2D, Dense, Flatten, Input, MaxPooling2D
    from baeum.models import Sequential

    if model == "deck":
        layers = [Input((28, 28, 1)), Conv2D(16, 3, strides=2, padding="same", activation="relu"),
                  Conv2D(8, 3, strides=2, padding="same"), Flatten(), Dense(30, activation="relu"),
                  Dense(20, activation="relu"), Dense(10, activation="softmax")]
    else:
        c = dict(padding="same", activation="relu")
        layers = [Input((32, 32, 3)), Conv2D(32, 3, **c), Conv2D(32, 3, **c), MaxPooling2D(),
                  Conv2D(64, 3, **c), Conv2D(64, 3, **c), MaxPooling2D(), Flatten(),
                  Dense(128, activation="relu"), Dense(10, activation="softmax")]
    m = Sequential(layers)
    m.compile(optimizer="adam", loss="categorical_crossentropy")
    return m


def baeum_epoch_times(model, x, y, epochs):
    """Epoch times inside ONE fit call, as a notebook trains (the PyTorch loop below has no
    per-fit set-up either): a callback reads the clocks at each epoch's begin and end."""
    from baeum.callbacks import Callback

    class Clock(Callback):
        def __init__(self):
            super().__init__()
            self.times = []

        def on_epoch_begin(self, epoch, logs=None):
            self.t0, self.c0 = time.perf_counter(), time.process_time()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append((time.perf_counter() - self.t0, time.process_time() - self.c0))

    m = baeum_model(model)
    clock = Clock()
    m.fit(x, y, batch_size=MODELS[model]["batch"], epochs=epochs, verbose=0, callbacks=[clock])
    return clock.times


def torch_model(model, nn):
    if model == "deck":
        return nn.Sequential(nn.Conv2d(1, 16, 3, stride=2, padding=1), nn.ReLU(),
                             nn.Conv2d(16, 8, 3, stride=2, padding=1), nn.Flatten(),
                             nn.Linear(392, 30), nn.ReLU(), nn.Linear(30, 20), nn.ReLU(), nn.Linear(20, 10))
    return nn.Sequential(nn.Conv2d(3, 32, 3, padding=1), nn.ReLU(), nn.Conv2d(32, 32, 3, padding=1), nn.ReLU(),
                         nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(64, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(64 * 8 * 8, 128), nn.ReLU(), nn.Linear(128, 10))


def torch_epoch_times(model, x, y, epochs):
    import torch
    from torch import nn

    net = torch_model(model, nn)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()  # softmax + CE on logits, as baeum's fused path
    xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous()  # PyTorch's native NCHW
    yt = torch.from_numpy(y.argmax(1))
    batch, n = MODELS[model]["batch"], len(x)
    times = []
    for _ in range(epochs):
        t0, c0 = time.perf_counter(), time.process_time()
        perm = torch.randperm(n)
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            opt.zero_grad()
            loss = loss_fn(net(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            loss.item()
        times.append((time.perf_counter() - t0, time.process_time() - c0))
    return times


def conv_layers():
    """(name, N, H, W, C, OC, stride) of every conv layer in the two models."""
    return [("deck conv1 28x28x1→16 s2", 256, 28, 28, 1, 16, 2), ("deck conv2 14x14x16→8 s2", 256, 14, 14, 16, 8, 2),
            ("vgg conv1 32x32x3→32", 64, 32, 32, 3, 32, 1), ("vgg conv2 32x32x32→32", 64, 32, 32, 32, 32, 1),
            ("vgg conv3 16x16x32→64", 64, 16, 16, 32, 64, 1), ("vgg conv4 16x16x64→64", 64, 16, 16, 64, 64, 1)]


def run_gflops(torch):
    from baeum import _core, ops

    rng = np.random.default_rng(0)
    print(f"{'conv layer (3x3, same)':<28}{'fwd':>8}{'bwd':>8}{'torch f':>9}{'torch b':>9}   GFLOP/s "
          "(bwd = data + weights, 2 GEMMs)")
    for name, n, h, w, c, oc, s in conv_layers():
        x = rng.standard_normal((n, h, w, c)).astype(np.float32)
        k = (rng.standard_normal((3, 3, c, oc)) * 0.1).astype(np.float32)
        b = np.zeros(oc, np.float32)
        y = ops.conv2d_forward(x, k, b, s, "same", activation="relu")
        dy = rng.standard_normal(y.shape).astype(np.float32)
        dk, db, dx = np.zeros_like(k), np.zeros_like(b), np.empty_like(x)
        flops = 2.0 * y.size * 9 * c
        tf = best_time(lambda: ops.conv2d_forward(x, k, b, s, "same", activation="relu", out=y))
        tb = best_time(lambda: ops.conv2d_backward(dy, x, k, y, None, "relu", s, "same", dkernel=dk, dbias=db,
                                                   dinp=dx if c > 1 else None))
        nb = 2 if c > 1 else 1  # the first layer needs no input gradient
        row = f"{name:<28}{flops / tf * 1e-9:8.1f}{nb * flops / tb * 1e-9:8.1f}"
        if torch is not None:
            xt = torch.from_numpy(x).permute(0, 3, 1, 2).contiguous().requires_grad_(c > 1)
            conv = torch.nn.Conv2d(c, oc, 3, stride=s, padding=1)
            tf_t = best_time(lambda: torch.relu(conv(xt)).detach())
            out = torch.relu(conv(xt))
            g = torch.from_numpy(dy).permute(0, 3, 1, 2).contiguous()

            def back():
                o = torch.relu(conv(xt))
                o.backward(g)
            tb_t = best_time(back) - tf_t
            row += f"{flops / tf_t * 1e-9:9.1f}{nb * flops / max(tb_t, 1e-9) * 1e-9:9.1f}"
            del out
        print(row)
    isa = _core.gemm_isa()
    print(f"machine FMA peak ({isa}): 1 thread {_core.fma_peak_gflops(isa, 1, 0.1):.0f} GFLOP/s, "
          f"{baeum_threads()} thread(s) {_core.fma_peak_gflops(isa, baeum_threads(), 0.1):.0f} GFLOP/s")


def baeum_threads():
    import baeum

    return baeum.get_num_threads()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", default="all", choices=["deck", "vgg", "gflops", "all"])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=16)
    args = p.parse_args()
    import baeum

    baeum.set_num_threads(args.threads)
    torch = try_torch()
    if torch is not None:
        torch.set_num_threads(args.threads)
    else:
        print("torch not installed: pip install torch==2.13.0 to compare")
    print(f"# cnn, {args.threads} thread(s), {args.steps} steps per epoch; baeum simd={baeum._core.gemm_isa()}; "
          f"torch {'-' if torch is None else torch.__version__}")
    for model in (["deck", "vgg"] if args.model == "all" else [args.model] if args.model != "gflops" else []):
        x, y = data(model, args.steps)
        b = baeum_epoch_times(model, x, y, args.epochs)
        bw, bc = min(w for w, _ in b), min(c for _, c in b)
        line = f"{model:5s} batch {MODELS[model]['batch']:3d}: baeum {bw * 1e3:8.1f} ms/epoch (cpu {bc * 1e3:8.1f})"
        if torch is not None:
            t = torch_epoch_times(model, x, y, args.epochs)
            tw, tc = min(w for w, _ in t), min(c for _, c in t)
            line += (f"   torch {tw * 1e3:8.1f} ms/epoch (cpu {tc * 1e3:8.1f})   baeum is {tw / bw:.2f}x PyTorch's "
                     f"speed (cpu time: {tc / bc:.2f}x)")
        print(line, flush=True)
    if args.model in ("gflops", "all"):
        run_gflops(torch)


if __name__ == "__main__":
    main()
