"""LSTM training epochs, baeum vs PyTorch (nn.LSTM) with the same model, same run.

    python benches/rnn.py [--epochs 3] [--threads 1] [--which small,large]

small: Hands-On ML ch. 15 deep LSTM, LSTM(20, return_sequences=True) → LSTM(20) → Dense(1) on
       7000 series × 50 steps × 1 feature, batch 32, Adam, MSE.
large: LSTM(128, return_sequences=True) → LSTM(128) → Dense(1), T = 100, batch 64, 1280
       series of 8 features, Adam, MSE.
Prints the best epoch time of each and the ratio. PyTorch is optional.
"""
import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))

CONFIGS = {
    "small": dict(n=7000, t=50, f=1, units=20, batch=32),
    "large": dict(n=1280, t=100, f=8, units=128, batch=64),
}


def data(n, t, f, seed=42, **_):
    """Two sine waves plus noise (the book's generate_time_series), next value as target."""
    rng = np.random.default_rng(seed)
    f1, f2, o1, o2 = rng.random((4, n, 1, 1))
    time_ = np.linspace(0, 1, t + 1)[None, :, None]
    s = 0.5 * np.sin((time_ - o1) * (f1 * 10 + 10)) + 0.2 * np.sin((time_ - o2) * (f2 * 20 + 20))
    s = s + 0.1 * (rng.random((n, t + 1, 1)) - 0.5)
    x = np.repeat(s[:, :t], f, axis=2).astype(np.float32)
    return x, s[:, t].astype(np.float32)


def baeum_epoch_times(x, y, units, batch, epochs):
    import baeum
    from baeum.layers import LSTM, Dense, Input
    from baeum.models import Sequential

    baeum.utils.set_random_seed(0)
    m = Sequential([Input((None, x.shape[2])), LSTM(units, return_sequences=True), LSTM(units), Dense(1)])
    m.compile(optimizer="adam", loss="mse")
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        h = m.fit(x, y, batch_size=batch, epochs=1, verbose=0)
        times.append(time.perf_counter() - t0)
    return times, h.history["loss"][-1]


def torch_epoch_times(x, y, units, batch, epochs):
    import torch
    from torch import nn

    torch.manual_seed(0)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.l1 = nn.LSTM(x.shape[2], units, batch_first=True)
            self.l2 = nn.LSTM(units, units, batch_first=True)
            self.out = nn.Linear(units, 1)

        def forward(self, v):
            v, _ = self.l1(v)
            v, _ = self.l2(v)
            return self.out(v[:, -1])

    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = nn.MSELoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    n = len(x)
    times = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        total = 0.0
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        times.append(time.perf_counter() - t0)
    return times, total / n


def run(which, epochs, threads):
    import baeum

    baeum.set_num_threads(threads)
    cfg = CONFIGS[which]
    x, y = data(**cfg)
    steps = -(-cfg["n"] // cfg["batch"])
    print(f"[{which}] LSTM({cfg['units']}, return_sequences=True) → LSTM({cfg['units']}) → Dense(1); "
          f"{cfg['n']} series × {cfg['t']} steps × {cfg['f']} features, batch {cfg['batch']}, "
          f"{threads} thread(s)")
    b, bl = baeum_epoch_times(x, y, cfg["units"], cfg["batch"], epochs)
    print(f"  baeum  epoch: best {min(b) * 1e3:8.1f} ms  ({steps} steps, {min(b) / steps * 1e3:.2f} ms/step)"
          f"  last loss {bl:.4f}")
    try:
        import torch
    except ImportError:
        print("  torch not installed: pip install torch==2.13.0 to compare")
        return None
    torch.set_num_threads(threads)
    t, tl = torch_epoch_times(x, y, cfg["units"], cfg["batch"], epochs)
    print(f"  torch  epoch: best {min(t) * 1e3:8.1f} ms  ({min(t) / steps * 1e3:.2f} ms/step)"
          f"  last loss {tl:.4f}  torch {torch.__version__}")
    print(f"  baeum is {min(t) / min(b):.2f}x faster than PyTorch nn.LSTM")
    return min(t) / min(b)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--which", default="small,large")
    args = p.parse_args()
    for which in args.which.split(","):
        run(which, args.epochs, args.threads)


if __name__ == "__main__":
    main()
