"""Per-step cost of the three model styles on the churn-shaped MLP (batch 10, Adam, BCE):
Sequential (the hot loop), functional (graph executor) and subclassed (recording tape).

    python benches/graph_styles.py [--epochs 3]

Prints the best epoch time per style in µs/step and the ratio to Sequential.
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))

import churn  # noqa: E402


def models():
    from baeum.layers import Dense, Dropout, Input
    from baeum.models import Model

    def stack():
        return [Dense(128, activation="relu"), Dropout(0.3), Dense(64, activation="relu"), Dropout(0.5),
                Dense(32, activation="relu"), Dropout(0.2), Dense(1, activation="sigmoid")]

    seq = churn.baeum_model()
    i = t = Input((churn.D,))
    for layer in stack():
        t = layer(t)
    fun = Model(i, t)

    class Sub(Model):
        def __init__(self):
            super().__init__()
            self.stack = stack()

        def call(self, x, training=None):
            for layer in self.stack:
                x = layer(x, training=training)
            return x

    sub = Sub()
    for m in (fun, sub):
        m.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return {"sequential": seq, "functional": fun, "subclassed": sub}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--epochs", type=int, default=3)
    args = p.parse_args()
    x, y = churn.data()
    steps = -(-len(x) // churn.BATCH)
    best = {}
    for name, m in models().items():
        m.fit(x[:200], y[:200], batch_size=churn.BATCH, epochs=1, verbose=0)
        times = []
        for _ in range(args.epochs):
            t = time.perf_counter()
            m.fit(x, y, batch_size=churn.BATCH, epochs=1, verbose=0)
            times.append(time.perf_counter() - t)
        best[name] = min(times) / steps * 1e6
    for name, us in best.items():
        print(f"{name:11s} {us:7.1f} µs/step  ({us / best['sequential']:.2f}× Sequential)")


if __name__ == "__main__":
    main()
