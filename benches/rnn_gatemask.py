"""Per-call time of the recurrent kernels with per-gate dropout masks (rnn_gatemask_*, what
LSTM / GRU(recurrent_dropout > 0) trains with) vs the same call without masks, same run.

    python benches/rnn_gatemask.py [--threads 1] [--large]

Best of 5 rounds of 200 calls (5 at 128 units); forward and backward (with dX) separately;
masks (G, N, U) with 20 % zeros. Prints µs per call and the masked / unmasked ratio.
"""
import argparse
import time

import numpy as np


def best_us(f, reps):
    best = float("inf")
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(reps):
            f()
        best = min(best, (time.perf_counter() - t) / reps)
    return best * 1e6


def case(ops, cell, n, t, f, u, rng):
    g = 4 if cell == "lstm" else 3
    x = rng.standard_normal((n, t, f)).astype(np.float32)
    k = (rng.standard_normal((f, g * u)) / np.sqrt(f)).astype(np.float32)
    r = (rng.standard_normal((u, g * u)) / np.sqrt(u)).astype(np.float32)
    b = np.zeros((2, 3 * u) if cell == "gru" else g * u, np.float32)
    rm = ((rng.random((g, n, u)) > 0.2) / 0.8).astype(np.float32)
    dhs = rng.standard_normal((n, t, u)).astype(np.float32)
    reps = 200 if u < 100 else 5
    out = {}
    for name, o in (("plain", {}), ("masked", {"recurrent_mask": rm})):
        grads = dict(dkernel=np.zeros_like(k), drecurrent_kernel=np.zeros_like(r), dbias=np.zeros_like(b),
                     dinp=np.empty_like(x))
        if cell == "lstm":
            fw = lambda: ops.lstm_forward(x, k, r, b, **o)
            hs, cs, cache = fw()
            bw = lambda: ops.lstm_backward(dhs, x, k, r, None, None, hs, cs, cache, **o, **grads)
        else:
            ra = cell == "gru"
            fw = lambda: ops.gru_forward(x, k, r, b, reset_after=ra, **o)
            hs, cache = fw()
            bw = lambda: ops.gru_backward(dhs, x, k, r, None, hs, cache, reset_after=ra, **o, **grads)
        out[name] = (best_us(fw, reps), best_us(bw, reps))
    (pf, pb), (mf, mb) = out["plain"], out["masked"]
    print(f"{cell:17s} N{n} T{t} F{f} U{u}: forward {pf:9.1f} → {mf:9.1f} µs ({mf / pf:.2f}x), "
          f"backward {pb:9.1f} → {mb:9.1f} µs ({mb / pb:.2f}x)   (no masks → per-gate masks)")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--large", action="store_true", help="also N64 T100 U128 (LSTM)")
    args = p.parse_args()
    import baeum
    from baeum import ops
    baeum.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    shapes = [("lstm", 32, 50, 1, 20), ("lstm", 32, 50, 20, 20), ("gru", 32, 50, 1, 20),
              ("gru_reset_before", 32, 50, 1, 20)]
    if args.large:
        shapes += [("lstm", 64, 100, 8, 128), ("lstm", 64, 100, 128, 128)]
    for s in shapes:
        case(ops, *s, rng)


if __name__ == "__main__":
    main()
