"""baeum's one global random generator.

Everything random in baeum that is not given an explicit seed (weight initialisers,
shuffling in ``fit``, the validation split, dropout masks in C++) draws from here, so a
single ``baeum.utils.set_random_seed(seed)`` makes a whole run repeatable.

* ``global_generator()`` -> the shared ``numpy.random.Generator``. Until
  ``set_random_seed`` is called it is seeded from OS entropy (a fresh run differs).
* ``next_seed()`` -> a fresh 63-bit int drawn from that generator, for C++ kernels that
  keep their own counter-based RNG (e.g. dropout): pass it down per call.
* ``generator(seed)`` -> ``global_generator()`` for ``seed=None``, else a new generator
  seeded with ``seed`` (same ``seed`` -> same numbers, independent of the global state).
"""
import numpy as np

_generator = None


def _check_seed(seed, where, upper=2**32):
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(
            f"{where}: expected an integer seed, received seed={seed!r} "
            f"(of type {type(seed).__name__}). Fix: pass e.g. seed=42."
        )
    seed = int(seed)
    if seed < 0 or (upper is not None and seed >= upper):
        bound = "2**32 - 1] (NumPy's global seed range)" if upper else "...)"
        raise ValueError(f"{where}: seed must be in [0, {bound}, received seed={seed}.")
    return seed


def seed_global(seed):
    """Re-seed baeum's global generator (``set_random_seed`` also seeds Python and NumPy)."""
    global _generator
    _generator = np.random.default_rng(_check_seed(seed, "seed_global"))
    _seed_pool.clear()


def global_generator():
    """The shared ``numpy.random.Generator`` (OS entropy until a seed is set)."""
    global _generator
    if _generator is None:
        _generator = np.random.default_rng()
    return _generator


_seed_pool = []


def next_seed():
    """A fresh seed in [0, 2**63 - 1) for a C++ kernel's own RNG, drawn from the global
    generator (so it is repeatable after ``set_random_seed``).

    Seeds are drawn 256 at a time (one Generator call costs ~2 µs; a Dropout layer needs a
    seed every training step)."""
    if not _seed_pool:
        _seed_pool.extend(global_generator().integers(0, 2**63 - 1, size=256, dtype=np.int64).tolist()[::-1])
    return _seed_pool.pop()


def generator(seed=None):
    """``seed=None`` -> the global generator; an int -> a new, independent generator."""
    if seed is None:
        return global_generator()
    return np.random.default_rng(_check_seed(seed, "generator", upper=None))
