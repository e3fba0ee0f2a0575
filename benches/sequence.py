"""Sequence tooling layers, forward + backward of one call, baeum vs PyTorch eager (same run):

* Embedding(10000, 64) on (32, 100) ids — a gather and a scatter-add (np.add.at);
* TimeDistributed(Dense(10)) on (32, 50, 20) — time folded into the batch, one GEMM;
* Bidirectional(LSTM(20, return_sequences=True)) on (32, 50, 1).

    python benches/sequence.py [--threads 1]

Prints the best time of each and the ratio (PyTorch / baeum: > 1 means baeum is faster).
PyTorch is optional.
"""
import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

from _common import best_time, try_torch  # noqa: E402


def cases(rng):
    from baeum import layers as L

    ids = rng.integers(0, 10000, size=(32, 100)).astype(np.float32)
    x_td = rng.standard_normal((32, 50, 20)).astype(np.float32)
    x_bi = rng.standard_normal((32, 50, 1)).astype(np.float32)
    return [
        ("Embedding(10000, 64), ids (32, 100)", L.Embedding(10000, 64), ids, False),
        ("TimeDistributed(Dense(10)), (32, 50, 20)", L.TimeDistributed(L.Dense(10)), x_td, True),
        ("Bidirectional(LSTM(20, seq)), (32, 50, 1)", L.Bidirectional(L.LSTM(20, return_sequences=True)), x_bi, True),
    ]


def baeum_step(layer, x, need_dx):
    y = layer(x)
    dy = np.ones_like(y)

    def step():
        ctx = {}
        layer.forward(x, ctx, True)
        layer.backward(dy, ctx, need_dx=need_dx)
    return step


def torch_step(torch, name, x):
    xt = torch.from_numpy(x)
    if name.startswith("Embedding"):
        mod = torch.nn.Embedding(10000, 64)
        xt = xt.long()
        fwd = mod
    elif name.startswith("TimeDistributed"):
        mod = torch.nn.Linear(20, 10)
        fwd = mod
        xt.requires_grad_(True)
    else:
        mod = torch.nn.LSTM(1, 20, batch_first=True, bidirectional=True)
        fwd = lambda a: mod(a)[0]  # noqa: E731
        xt.requires_grad_(True)

    def step():
        out = fwd(xt)
        out.backward(torch.ones_like(out))
    return step


def main(threads=None):
    import baeum

    if threads:
        baeum.set_num_threads(threads)
    torch = try_torch()
    if torch is not None and threads:
        torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    print(f"threads: baeum {baeum.get_num_threads()}" + (f", torch {torch.get_num_threads()}" if torch else ""))
    for name, layer, x, need_dx in cases(rng):
        tb = best_time(baeum_step(layer, x, need_dx))
        line = f"{name:<44} baeum {tb * 1e3:8.3f} ms"
        if torch is not None:
            tt = best_time(torch_step(torch, name, x))
            line += f"   torch {tt * 1e3:8.3f} ms   torch/baeum {tt / tb:5.2f}"
        print(line)


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=None)
    main(ap.parse_args().threads)
