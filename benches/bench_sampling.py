"""Image sampling (the augmentation layers' kernel): baeum vs PyTorch grid_sample, same run.

    python benches/bench_sampling.py            # table of times and torch/baeum ratios
    pytest benches/bench_sampling.py --benchmark-enable --benchmark-group-by=param:shape

Both sample bilinearly at the same points (random rotations + zooms) with zero fill
(baeum fill_mode='constant' ≡ torch padding_mode='zeros', align_corners=True); the script
checks the outputs agree before timing. Forward alone, and forward + backward w.r.t. the
input (torch through autograd). baeum is NHWC; torch gets a contiguous NCHW copy made once.
"""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(__file__))
from _common import best_time, try_torch  # noqa: E402

import baeum  # noqa: E402
from baeum import ops  # noqa: E402
from baeum.reference import preprocessing as P  # noqa: E402
from baeum.reference.sampling import sample_points  # noqa: E402

SHAPES = [(256, 8, 8, 1), (64, 32, 32, 3), (32, 64, 64, 16), (8, 224, 224, 3)]


def problem(shape, seed=0):
    n, h, w, c = shape
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape, dtype=np.float32)
    rot = P.rotation_transforms(rng.uniform(-0.6, 0.6, n), h, w)
    zoom = P.zoom_transforms(*rng.uniform(0.8, 1.2, (2, n)), h, w)
    t = rot.copy()  # rotation then zoom: compose the 3×3 matrices
    for i in range(n):
        m = np.vstack([rot[i].reshape(-1)[:6].reshape(2, 3), [0, 0, 1]]) @ \
            np.vstack([zoom[i][:6].reshape(2, 3), [0, 0, 1]])
        t[i, :6] = m[:2].reshape(-1)
    dy = rng.standard_normal(shape, dtype=np.float32)
    return x, t, dy


def torch_grid(t, h, w):
    """The same sample points as normalized coordinates for grid_sample(align_corners=True)."""
    grid = np.empty((len(t), h, w, 2), np.float32)
    for i in range(len(t)):
        ys, xs = sample_points(t[i], h, w)
        grid[i, ..., 0] = 2 * xs / max(w - 1, 1) - 1
        grid[i, ..., 1] = 2 * ys / max(h - 1, 1) - 1
    return grid


def run_baeum(x, t, dy):
    out = np.empty_like(x)
    dx = np.zeros_like(x)
    fwd = lambda: ops.sampling_forward(x, t, fill_mode="constant", out=out)  # noqa: E731

    def both():
        fwd()
        dx[...] = 0
        ops.sampling_backward(dy, t, input_size=x.shape[1:3], fill_mode="constant", dinp=dx)
    return fwd, both, out


def run_torch(torch, x, t, dy):
    n, h, w, c = x.shape
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    grid = torch.from_numpy(torch_grid(t, h, w))
    g = torch.from_numpy(np.ascontiguousarray(dy.transpose(0, 3, 1, 2)))
    gs = torch.nn.functional.grid_sample
    kw = dict(mode="bilinear", padding_mode="zeros", align_corners=True)

    def fwd():
        with torch.no_grad():
            return gs(xt, grid, **kw)

    xr = xt.clone().requires_grad_(True)

    def both():
        xr.grad = None
        gs(xr, grid, **kw).backward(g)
    return fwd, both


def main():
    torch = try_torch()
    print(f"baeum threads: {baeum.get_num_threads()}; torch: {torch.__version__ if torch else 'not installed'}"
          + (f" (threads {torch.get_num_threads()})" if torch else ""))
    print(f"{'shape (N,H,W,C)':>20} {'baeum fwd':>10} {'torch fwd':>10} {'ratio':>6} "
          f"{'baeum f+b':>10} {'torch f+b':>10} {'ratio':>6}")
    for shape in SHAPES:
        x, t, dy = problem(shape)
        bf, bb, out = run_baeum(x, t, dy)
        row = f"{str(shape):>20} {best_time(bf) * 1e3:9.3f}ms"
        if torch is None:
            print(row + f" {'-':>10} {'-':>6} {best_time(bb) * 1e3:9.3f}ms")
            continue
        tf, tb = run_torch(torch, x, t, dy)
        bf()
        np.testing.assert_allclose(out, tf().numpy().transpose(0, 2, 3, 1), rtol=1e-4, atol=1e-4)
        tbf, ttf, tbb, ttb = best_time(bf), best_time(tf), best_time(bb), best_time(tb)
        print(f"{str(shape):>20} {tbf * 1e3:9.3f}ms {ttf * 1e3:9.3f}ms {ttf / tbf:6.2f} "
              f"{tbb * 1e3:9.3f}ms {ttb * 1e3:9.3f}ms {ttb / tbb:6.2f}")
    print("ratio = torch time / baeum time (> 1: baeum faster)")


@pytest.mark.parametrize("shape", SHAPES, ids=str)
@pytest.mark.parametrize("impl", ["baeum", "torch"])
@pytest.mark.parametrize("direction", ["forward", "forward+backward"])
def test_sampling(benchmark, shape, impl, direction):
    x, t, dy = problem(shape)
    if impl == "baeum":
        fwd, both, _ = run_baeum(x, t, dy)
    else:
        torch = pytest.importorskip("torch")
        fwd, both = run_torch(torch, x, t, dy)
    benchmark(fwd if direction == "forward" else both)


if __name__ == "__main__":
    main()
