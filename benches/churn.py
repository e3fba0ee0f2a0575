"""The churn-shaped DNN (4930×30, Dense 128-64-32-1 with Dropout, batch 10, Adam, BCE):
one training epoch in baeum and in PyTorch eager with the same model.

    python benches/churn.py [--epochs 3] [--threads 1]

Synthetic data with the churn notebook's shape (the real CSV is not shipped). Prints the
best epoch time of each and the ratio. PyTorch is optional.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

N, D, BATCH = 4930, 30, 10


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.random((N, D), dtype=np.float32)
    w = rng.standard_normal(D).astype(np.float32)
    y = (x @ w + 0.3 * rng.standard_normal(N) > np.median(x @ w)).astype(np.float32)
    return x, y


def baeum_model():
    from baeum.layers import Dense, Dropout, Input
    from baeum.models import Sequential

    m = Sequential([Input((D,)), Dense(128, activation="relu"), Dropout(0.3), Dense(64, activation="relu"),
                    Dropout(0.5), Dense(32, activation="relu"), Dropout(0.2), Dense(1, activation="sigmoid")])
    m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return m


def baeum_epoch_times(x, y, epochs):
    m = baeum_model()
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        m.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        times.append(time.perf_counter() - t0)
    return times


def torch_epoch_times(x, y, epochs):
    import torch
    from torch import nn

    model = nn.Sequential(nn.Linear(D, 128), nn.ReLU(), nn.Dropout(0.3), nn.Linear(128, 64), nn.ReLU(),
                          nn.Dropout(0.5), nn.Linear(64, 32), nn.ReLU(), nn.Dropout(0.2), nn.Linear(32, 1))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.BCEWithLogitsLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y).reshape(-1, 1)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        model.train()
        perm = torch.randperm(N)
        correct = 0.0
        for s in range(0, N, BATCH):
            idx = perm[s:s + BATCH]
            xb, yb = xt[idx], yt[idx]
            opt.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            opt.step()
            correct += ((logits > 0).float() == yb).float().sum().item()  # the accuracy metric
        times.append(time.perf_counter() - t0)
    return times


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    import baeum

    baeum.set_num_threads(args.threads)
    x, y = data()
    b = baeum_epoch_times(x, y, args.epochs)
    print(f"baeum  epoch: best {min(b) * 1e3:8.1f} ms  ({N // BATCH + 1} steps, {min(b) / (N / BATCH) * 1e6:.1f} µs/step)")
    try:
        import torch

        torch.set_num_threads(args.threads)
    except ImportError:
        print("torch not installed: pip install torch==2.13.0 to compare")
        return
    t = torch_epoch_times(x, y, args.epochs)
    print(f"torch  epoch: best {min(t) * 1e3:8.1f} ms  ({min(t) / (N / BATCH) * 1e6:.1f} µs/step), torch {torch.__version__}")
    print(f"baeum is {min(t) / min(b):.1f}x faster than PyTorch eager ({args.threads} thread(s))")


if __name__ == "__main__":
    main()
