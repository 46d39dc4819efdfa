"""mc.threads: one count for OpenBLAS and Numba, reported for benchmark rows."""
import pytest

import minicnn as mc


@pytest.fixture
def restore_threads():
    before = mc.threads.get_num_threads()
    yield
    mc.threads.set_num_threads(before)


def test_set_num_threads_sets_both_pools(restore_threads):
    pytest.importorskip("threadpoolctl")
    assert mc.threads.set_num_threads(1) == 1
    info = mc.threads.describe()
    assert info["numba"] == 1
    assert info["blas"] and all(pool["threads"] == 1 for pool in info["blas"])
    assert mc.threads.get_num_threads() == 1


def test_default_is_the_usable_cpus(restore_threads):
    assert mc.threads.set_num_threads() == mc.threads.usable_cpus() >= 1


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "2"])
def test_bad_counts_are_refused(bad):
    with pytest.raises(ValueError, match="set_num_threads"):
        mc.threads.set_num_threads(bad)


def test_environment_variable_sets_the_count(monkeypatch, restore_threads):
    monkeypatch.setenv("MINICNN_NUM_THREADS", "1")
    assert mc.threads.apply_default_policy() == 1
    monkeypatch.setenv("MINICNN_NUM_THREADS", "two")
    with pytest.raises(ValueError, match="MINICNN_NUM_THREADS"):
        mc.threads.apply_default_policy()


def _wait_policy_after_import(env):
    """OMP_WAIT_POLICY (or None) seen in a fresh interpreter after ``import minicnn``, under ``env``."""
    import os
    import subprocess
    import sys
    clean = {k: v for k, v in os.environ.items() if k not in mc.threads.OPENMP_WAIT}
    out = subprocess.run([sys.executable, "-c", "import os, minicnn; print(os.environ.get('OMP_WAIT_POLICY'))"],
                         env={**clean, **env}, capture_output=True, text=True, check=True)
    return out.stdout.strip()


@pytest.mark.parametrize("env, expected", [
    ({}, "PASSIVE"),                                   # OpenMP threads sleep when a loop ends
    ({"OMP_WAIT_POLICY": "ACTIVE"}, "ACTIVE"),          # the user's choice stands
    ({"GOMP_SPINCOUNT": "10000"}, "None"),              # so does any other wait setting
    ({"KMP_BLOCKTIME": "200"}, "None"),
])
def test_import_makes_openmp_threads_passive_unless_a_wait_setting_is_given(env, expected):
    assert _wait_policy_after_import(env) == expected


def test_describe_reports_the_openmp_wait_setting(monkeypatch):
    for key in mc.threads.OPENMP_WAIT:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("GOMP_SPINCOUNT", "123")
    assert mc.threads.describe()["openmp_wait"] == {"GOMP_SPINCOUNT": "123"}
