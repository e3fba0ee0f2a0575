"""LSTM training epochs, baeum vs PyTorch (nn.LSTM) with the same model, same run.

    python benches/rnn.py [--epochs 3] [--threads 1] [--which small,large] [--recurrent-dropout 0.2]

small: Hands-On ML ch. 15 deep LSTM, LSTM(20, return_sequences=True) → LSTM(20) → Dense(1) on
       7000 series × 50 steps × 1 feature, batch 32, Adam, MSE.
large: LSTM(128, return_sequences=True) → LSTM(128) → Dense(1), T = 100, batch 64, 1280
       series of 8 features, Adam, MSE.
Prints the best epoch time of each and the ratio. PyTorch is optional.

--recurrent-dropout r: both LSTM layers get recurrent_dropout=r (Keras implementation 1: one
recurrent mask per gate, the per-gate kernels). PyTorch's nn.LSTM has no recurrent dropout, so
this mode compares baeum with r against the same baeum model without it (epochs alternate).
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


def baeum_trainer(x, y, units, batch, recurrent_dropout=0.0):
    """A function that trains one epoch of the baeum model (built once)."""
    import baeum
    from baeum.layers import LSTM, Dense, Input
    from baeum.models import Sequential

    baeum.utils.set_random_seed(0)
    rd = dict(recurrent_dropout=recurrent_dropout)
    m = Sequential([Input((None, x.shape[2])), LSTM(units, return_sequences=True, **rd), LSTM(units, **rd),
                    Dense(1)])
    m.compile(optimizer="adam", loss="mse")

    def epoch():
        return m.fit(x, y, batch_size=batch, epochs=1, verbose=0).history["loss"][-1]
    return epoch


def torch_trainer(x, y, units, batch):
    """The same model and loop in PyTorch eager (nn.LSTM), one epoch per call."""
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

    def epoch():
        perm = torch.randperm(n)
        total = 0.0
        for s in range(0, n, batch):
            idx = perm[s:s + batch]
            opt.zero_grad()
            loss = loss_fn(model(xt[idx]), yt[idx])
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
        return total / n
    return epoch


def timed(epoch):
    w, c = time.perf_counter(), time.process_time()
    loss = epoch()
    return time.perf_counter() - w, time.process_time() - c, loss


def _setup(which, threads, what=""):
    """(config, x, y, steps per epoch) of a benchmark model, after printing what it is."""
    import baeum

    baeum.set_num_threads(threads)
    cfg = CONFIGS[which]
    x, y = data(**cfg)
    print(f"[{which}] LSTM({cfg['units']}, return_sequences=True) → LSTM({cfg['units']}) → Dense(1); "
          f"{cfg['n']} series × {cfg['t']} steps × {cfg['f']} features, batch {cfg['batch']}, "
          f"{threads} thread(s){what}")
    return cfg, x, y, -(-cfg["n"] // cfg["batch"])


def run_recurrent_dropout(which, epochs, threads, rate):
    """baeum with recurrent_dropout=rate vs the same model without it, epochs alternating."""
    cfg, x, y, steps = _setup(which, threads, f"; recurrent_dropout={rate} vs 0")
    masked = baeum_trainer(x, y, cfg["units"], cfg["batch"], recurrent_dropout=rate)
    plain = baeum_trainer(x, y, cfg["units"], cfg["batch"])
    a, b = [], []
    for _ in range(epochs):
        a.append(timed(masked))
        b.append(timed(plain))
    aw, ac = min(r[0] for r in a), min(r[1] for r in a)
    bw, bc = min(r[0] for r in b), min(r[1] for r in b)
    print(f"  recurrent_dropout={rate}: best {aw * 1e3:8.1f} ms wall, {ac * 1e3:8.1f} ms CPU  "
          f"({aw / steps * 1e3:.2f} ms/step)  last loss {a[-1][2]:.4f}")
    print(f"  no dropout:            best {bw * 1e3:8.1f} ms wall, {bc * 1e3:8.1f} ms CPU  "
          f"({bw / steps * 1e3:.2f} ms/step)  last loss {b[-1][2]:.4f}")
    print(f"  masked / unmasked epoch time: {aw / bw:.2f}x (wall), {ac / bc:.2f}x (CPU time)")
    return aw / bw


def run(which, epochs, threads):
    cfg, x, y, steps = _setup(which, threads)
    b_epoch = baeum_trainer(x, y, cfg["units"], cfg["batch"])
    try:
        import torch
        torch.set_num_threads(threads)
        t_epoch = torch_trainer(x, y, cfg["units"], cfg["batch"])
    except ImportError:
        torch = t_epoch = None
    # Epochs alternate (baeum, torch, baeum, ...) so both see the same machine load.
    b, t = [], []
    for _ in range(epochs):
        b.append(timed(b_epoch))
        if t_epoch is not None:
            t.append(timed(t_epoch))
    bw, bc = min(r[0] for r in b), min(r[1] for r in b)
    print(f"  baeum  epoch: best {bw * 1e3:8.1f} ms wall, {bc * 1e3:8.1f} ms CPU  ({steps} steps, "
          f"{bw / steps * 1e3:.2f} ms/step)  last loss {b[-1][2]:.4f}")
    if t_epoch is None:
        print("  torch not installed: pip install torch==2.13.0 to compare")
        return None
    tw, tc = min(r[0] for r in t), min(r[1] for r in t)
    print(f"  torch  epoch: best {tw * 1e3:8.1f} ms wall, {tc * 1e3:8.1f} ms CPU  ({tw / steps * 1e3:.2f} ms/step)"
          f"  last loss {t[-1][2]:.4f}  torch {torch.__version__}")
    print(f"  baeum is {tw / bw:.2f}x faster than PyTorch nn.LSTM (wall), {tc / bc:.2f}x (CPU time)")
    return tw / bw


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--which", default="small,large")
    p.add_argument("--recurrent-dropout", type=float, default=0.0,
                   help="> 0: time LSTM(recurrent_dropout=r) against the same model without it")
    args = p.parse_args()
    for which in args.which.split(","):
        if args.recurrent_dropout > 0:
            run_recurrent_dropout(which, args.epochs, args.threads, args.recurrent_dropout)
        else:
            run(which, args.epochs, args.threads)


if __name__ == "__main__":
    main()
