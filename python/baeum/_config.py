"""Build facts and the one thread-count setting every kernel uses."""
import os
import platform

# libgomp reads its wait settings once, when _core (linking it) loads. By default a thread
# that finishes a parallel region spins ~300k iterations before sleeping. When the process
# has fewer free CPUs than threads (a shared or busy machine), the spinner burns the time
# slice the thread with real work needs, and every region's join can cost a scheduler
# slice: a 2-thread LSTM epoch took 10.5 s instead of 0.33 s here. A short spin keeps
# back-to-back regions cheap without that. Only a default: OMP_WAIT_POLICY / GOMP_SPINCOUNT
# set by the user win (docs/rnn.md, "Threads"). Removed again right after the load, so
# OpenMP runtimes loaded later (PyTorch bundles its own libgomp) and child processes keep
# their own defaults.
_SHORT_SPIN = "OMP_WAIT_POLICY" not in os.environ and "GOMP_SPINCOUNT" not in os.environ
if _SHORT_SPIN:
    os.environ["GOMP_SPINCOUNT"] = "1000"
try:
    from baeum import _core  # noqa: E402  (after the libgomp setting above)
finally:
    if _SHORT_SPIN:
        del os.environ["GOMP_SPINCOUNT"]

__version__ = _core.__version__


def _check_env_threads():
    raw = os.environ.get("BAEUM_NUM_THREADS")
    if raw is None:
        return
    try:
        ok = 1 <= int(raw) <= 1024
    except ValueError:
        ok = False
    if not ok:
        raise ValueError(
            f"BAEUM_NUM_THREADS={raw!r} is not a thread count: expected an integer from 1 "
            f"to 1024. Fix: unset it (default: the {_core.available_cpus()} CPUs this process "
            "may use) or set e.g. BAEUM_NUM_THREADS=2."
        )


_check_env_threads()


def get_num_threads():
    """Threads baeum's kernels may use (default: CPUs this process may run on,
    or the environment variable ``BAEUM_NUM_THREADS``)."""
    return _core.get_num_threads()


def set_num_threads(n):
    """Set the threads every baeum kernel may use. Small work always runs on one thread,
    and results are bit-identical for any thread count."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected an integer >= 1, got {n!r}")
    _core.set_num_threads(n)


def config():
    """The facts show_config() prints, as a dict."""
    b = _core.gemm_blocking()
    return {
        "version": __version__,
        "python": platform.python_version(),
        "compiler": _core.compiler,
        "openmp": bool(_core.openmp),
        "threads": _core.get_num_threads(),
        "cpus_available": _core.available_cpus(),
        "simd": _core.gemm_isa(),
        "simd_best": _core.best_isa(),
        "gemm_tile": f"{b['mr']}x{b['nr']}",
        "gemm_blocks": f"MC={b['mc']} KC={b['kc']} NC={b['nc']}",
        "machine": platform.machine(),
    }


def show_config():
    """Print the version, compiler, OpenMP, thread count and the chosen SIMD path."""
    c = config()
    width = max(len(k) for k in c)
    print("baeum configuration")
    for k, v in c.items():
        if k == "openmp":
            v = "on" if v else "off (built without OpenMP: single-threaded)"
        print(f"  {k:<{width}} : {v}")
