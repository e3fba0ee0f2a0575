import os
import subprocess
import sys

import pytest

import baeum
from baeum import _core


def run_python(code, **env):
    full_env = dict(os.environ, **env)
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env)


def test_show_config_lists_the_facts(capsys):
    baeum.show_config()
    text = capsys.readouterr().out
    for key in ("version", "compiler", "openmp", "threads", "simd", "gemm_tile"):
        assert key in text
    assert _core.gemm_isa() in text
    assert baeum.__version__ in text


def test_set_and_get_num_threads(threads):
    baeum.set_num_threads(1)
    assert baeum.get_num_threads() == 1
    baeum.set_num_threads(3)
    assert baeum.get_num_threads() == (3 if _core.openmp else 1)
    for bad in (0, -1, 1.5, "2", True):
        with pytest.raises(ValueError, match="integer >= 1"):
            baeum.set_num_threads(bad)


def test_env_variable_sets_threads():
    r = run_python("import baeum; print(baeum.get_num_threads())", BAEUM_NUM_THREADS="1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "1"


def test_bad_env_variable_is_a_clear_error():
    r = run_python("import baeum", BAEUM_NUM_THREADS="lots")
    assert r.returncode != 0
    assert "BAEUM_NUM_THREADS='lots'" in r.stderr and "Fix" in r.stderr


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="needs sched_setaffinity")
def test_default_threads_follow_cpu_affinity():
    code = "import os; os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]}); " \
           "import baeum; print(baeum.get_num_threads(), baeum._core.available_cpus())"
    env = {k: v for k, v in os.environ.items() if k != "BAEUM_NUM_THREADS"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1", "1"]


def test_short_openmp_spin_does_not_leak():
    """baeum sets GOMP_SPINCOUNT=1000 only while its own libgomp loads (unless the user chose a
    wait policy), then removes it: later OpenMP runtimes and child processes keep theirs."""
    base = {k: v for k, v in os.environ.items() if k not in ("GOMP_SPINCOUNT", "OMP_WAIT_POLICY")}
    code = ("import os, baeum._config as c; "
            "print(c._SHORT_SPIN, os.environ.get('GOMP_SPINCOUNT'), os.environ.get('OMP_WAIT_POLICY'))")

    def run(**extra):
        r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           env=dict(base, **extra))
        assert r.returncode == 0, r.stderr
        return r.stdout.split()

    assert run() == ["True", "None", "None"]
    assert run(GOMP_SPINCOUNT="5") == ["False", "5", "None"]
    assert run(OMP_WAIT_POLICY="passive") == ["False", "None", "passive"]
