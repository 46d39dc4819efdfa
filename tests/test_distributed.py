"""minicnn.distributed: single-process paths in this process; MPI paths under `mpiexec -n 2`.

The MPI tests launch scripts from tests/distributed_scripts/ in a subprocess with a timeout
(a hang is a failure, not a stuck test run) and skip when mpi4py or mpiexec is missing.
"""
import importlib.util
import os
import pathlib
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import minicnn as mc
from minicnn import distributed as dist
from minicnn.distributed import comm as comm_module
from minicnn.distributed.bucket import BucketPlan, allreduce_flat_
from tests.distributed_scripts import tiny_model
from tests.distributed_scripts.tiny_model import train

ROOT = pathlib.Path(__file__).resolve().parents[1]
SCRIPTS = ROOT / "tests" / "distributed_scripts"
MPIEXEC = shutil.which("mpiexec")
needs_mpi = pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None or MPIEXEC is None,
                               reason="mpi4py or mpiexec not installed (pip install 'minicnn[mpi]')")


def mpirun(script, *args, n=2, timeout=60):
    """Run ``mpiexec -n n python script args`` from the repo root; kill the whole process
    group on timeout so a hung job cannot outlive the test."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PMI_", "OMPI_", "PMIX_"))}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["OMP_NUM_THREADS"] = "1"
    cmd = [MPIEXEC, "-n", str(n), sys.executable, str(SCRIPTS / script), *map(str, args)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    start = time.perf_counter()
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{script} still running after {timeout} s (a hang):\n{out}\n{err}")
    return proc.returncode, out, err, time.perf_counter() - start


@pytest.fixture
def fresh_init(monkeypatch):
    """init() caches its communicator; give each test a clean slate and no launcher variables."""
    monkeypatch.setattr(comm_module, "_comm", None)
    for var in comm_module._LAUNCHER_VARS:
        monkeypatch.delenv(var, raising=False)
    yield
    comm_module._comm = None


# --- the single-process communicator --------------------------------------------------------
def test_init_without_launcher_is_single_process_even_without_mpi4py(fresh_init, monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now raises ImportError
    comm = dist.init()
    assert isinstance(comm, dist.SingleProcessCommunicator)
    assert (comm.rank, comm.size, comm.is_main) == (0, 1, True)
    assert dist.init() is comm


def test_init_under_launcher_without_mpi4py_says_what_to_install(fresh_init, monkeypatch):
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    monkeypatch.setenv("PMI_SIZE", "4")
    with pytest.raises(RuntimeError, match=r"world size 4.*mpi4py is not installed.*minicnn\[mpi\]"):
        dist.init()


def test_init_rejects_unknown_use_mpi(fresh_init):
    with pytest.raises(ValueError, match="use_mpi"):
        dist.init(use_mpi="yes")


def test_single_process_collectives_are_identities():
    comm = dist.SingleProcessCommunicator()
    a = np.arange(6, dtype=np.float32).reshape(2, 3)
    before = a.copy()
    assert comm.allreduce_mean_([a])[0] is a and comm.broadcast_([a])[0] is a
    np.testing.assert_array_equal(a, before)
    assert comm.allreduce_scalar(np.int64(7)) == 7 and isinstance(comm.allreduce_scalar(np.int64(7)), int)
    assert comm.allreduce_scalar(np.float32(0.5), op="max") == 0.5
    assert comm.allgather_object("x") == ["x"] and comm.broadcast_object(3) == 3
    comm.barrier()
    with pytest.raises(ValueError, match="op must be one of"):
        comm.allreduce_scalar(1, op="prod")
    with pytest.raises(ValueError, match="root must be a rank"):
        comm.broadcast_([a], root=1)
    with pytest.raises(TypeError, match="use allreduce_sum_ for counts"):
        comm.allreduce_mean_([np.arange(3)])
    assert comm.allreduce_sum_([np.arange(3)])[0].tolist() == [0, 1, 2]


def test_reduce_metrics_on_one_rank_divides_by_total():
    m = dist.reduce_metrics(dist.SingleProcessCommunicator(), correct=9, total=12, loss_sum=6.0)
    assert m == {"correct": 9, "total": 12, "loss_sum": 6.0, "accuracy": 0.75, "loss": 0.5}


def test_one_rank_distributed_optimizer_steps_like_the_plain_one():
    comm = dist.SingleProcessCommunicator()
    model_a, _ = train(comm, steps=5)
    mc.manual_seed(100)
    model_b = tiny_model.TinyNet()
    plain = tiny_model.make_optimizer(model_b.parameters())
    x, y = tiny_model.make_data()
    order = dist.shard_indices(len(x), 0, 1, epoch=0, seed=3)
    for k in range(5):
        idx = order[8 * k:8 * (k + 1)]
        plain.zero_grad()
        ((model_b(mc.Tensor(x[idx])) - mc.Tensor(y[idx])) ** 2).mean().backward()
        plain.step()
    for (name, a), b in zip(model_a.state_dict().items(), model_b.state_dict().values()):
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_distributed_optimizer_rejects_bad_arguments():
    comm = dist.SingleProcessCommunicator()
    with pytest.raises(ValueError, match="bucket_mb"):
        dist.DistributedOptimizer(object(), comm, bucket_mb=0)
    with pytest.raises(ValueError, match="allreduce must be"):
        dist.DistributedOptimizer(object(), comm, allreduce="gloo")


# --- buckets --------------------------------------------------------------------------------
@settings(max_examples=60, deadline=None)
@given(sizes=st.lists(st.integers(0, 40), min_size=1, max_size=8), bucket=st.integers(1, 50))
def test_bucket_plan_covers_every_element_once_within_the_bucket_size(sizes, bucket):
    plan = BucketPlan(sizes, bucket)
    assert all(0 < n <= bucket for n in plan.bucket_lengths())
    seen = [np.zeros(n, dtype=int) for n in sizes]
    for pieces in plan.buckets:
        offsets = [offset for _, _, _, offset in pieces]
        assert offsets == sorted(offsets) and offsets[0] == 0
        for index, start, stop, _ in pieces:
            seen[index][start:stop] += 1
    assert all((s == 1).all() for s in seen)


def test_allreduce_flat_packs_buckets_in_order_and_unpacks_scaled(rng):
    arrays = [rng.normal(size=s).astype(np.float32) for s in [(3, 4), (5,), (2, 2, 2)]]
    original = np.concatenate([a.ravel() for a in arrays])
    buffer = np.empty(7, dtype=np.float32)
    sent = []

    def fake_sum_over_2_identical_ranks(view):
        sent.append(view.copy())
        view *= 2

    allreduce_flat_(arrays, buffer, fake_sum_over_2_identical_ranks, scale=0.5)
    assert [len(s) for s in sent] == [7, 7, 7, 4]
    np.testing.assert_array_equal(np.concatenate(sent), original)  # what went out, in order
    np.testing.assert_array_equal(np.concatenate([a.ravel() for a in arrays]), original)
    assert all(a.dtype == np.float32 for a in arrays)


# --- transport selection --------------------------------------------------------------------
@pytest.mark.parametrize("kind, size, nccl, allreduce, path", [
    ("numpy", 1, False, "auto", "local"),
    ("cupy", 1, True, "auto", "local"),
    ("numpy", 4, True, "auto", "mpi"),
    ("numpy", 2, False, "mpi", "mpi"),
    ("cupy", 2, True, "auto", "nccl"),
    ("cupy", 2, True, "nccl", "nccl"),
    ("cupy", 2, False, "auto", "mpi-staged"),
    ("cupy", 2, True, "mpi", "mpi-staged"),
])
def test_allreduce_path_selection(kind, size, nccl, allreduce, path):
    assert dist.select_allreduce_path(kind, size, nccl, allreduce) == path


def test_allreduce_path_selection_refuses_impossible_requests():
    with pytest.raises(ValueError, match="needs CuPy arrays"):
        dist.select_allreduce_path("numpy", 2, True, "nccl")
    with pytest.raises(RuntimeError, match="NCCL is not usable on every rank"):
        dist.select_allreduce_path("cupy", 2, False, "nccl")
    with pytest.raises(ValueError, match="array kind"):
        dist.select_allreduce_path("torch", 2, False)


def test_nccl_is_unavailable_without_a_gpu():
    if mc.cupy_available():
        pytest.skip("a GPU is present")
    assert dist.nccl_available() is False


# --- shards ---------------------------------------------------------------------------------
@settings(max_examples=80, deadline=None)
@given(n=st.integers(1, 60), size=st.integers(1, 7), epoch=st.integers(0, 5), seed=st.integers(0, 99),
       shuffle=st.booleans())
def test_shards_are_equal_disjoint_and_cover_the_dataset(n, size, epoch, seed, shuffle):
    padded = [dist.shard_indices(n, r, size, epoch, seed, shuffle) for r in range(size)]
    assert len({len(s) for s in padded}) == 1 and len(padded[0]) == -(-n // size)
    assert set(np.concatenate(padded).tolist()) == set(range(n))
    dropped = [dist.shard_indices(n, r, size, epoch, seed, shuffle, drop_last=True) for r in range(size)]
    flat = np.concatenate(dropped)
    assert len({len(s) for s in dropped}) == 1 and len(flat) == n - n % size == len(set(flat.tolist()))
    exact = np.concatenate([dist.shard_indices(n, r, size, epoch, seed, shuffle, pad=False)
                            for r in range(size)])
    assert sorted(exact.tolist()) == list(range(n))


def test_shards_depend_only_on_arguments_and_change_with_epoch():
    a = dist.shard_indices(1000, 1, 4, epoch=2, seed=5)
    mc.manual_seed(123)  # the library RNG must not matter: other ranks never see it
    np.random.seed(9)
    np.testing.assert_array_equal(a, dist.shard_indices(1000, 1, 4, epoch=2, seed=5))
    assert not np.array_equal(a, dist.shard_indices(1000, 1, 4, epoch=3, seed=5))
    assert not np.array_equal(a, dist.shard_indices(1000, 1, 4, epoch=2, seed=6))
    np.testing.assert_array_equal(dist.shard_indices(10, 1, 3, shuffle=False), [1, 4, 7, 0])


def test_dealt_shards_rebuild_the_one_process_batches():
    whole = dist.shard_indices(48, 0, 1, epoch=1, seed=3)
    halves = [dist.shard_indices(48, r, 2, epoch=1, seed=3) for r in range(2)]
    for k in range(6):
        batch = np.concatenate([h[4 * k:4 * (k + 1)] for h in halves])
        assert sorted(batch.tolist()) == sorted(whole[8 * k:8 * (k + 1)].tolist())


def test_shard_indices_rejects_bad_ranks():
    with pytest.raises(ValueError, match="rank < size"):
        dist.shard_indices(10, 2, 2)
    with pytest.raises(ValueError, match="n must be a non-negative integer"):
        dist.shard_indices(-1, 0, 1)


def test_distributed_sampler_length_matches_its_indices_and_follows_set_epoch():
    for kwargs in ({}, {"drop_last": True}, {"pad": False}):
        for rank in range(3):
            sampler = dist.DistributedSampler(10, rank=rank, size=3, seed=1, **kwargs)
            assert len(sampler) == len(list(sampler))
    sampler = dist.DistributedSampler(list(range(50)), comm=dist.SingleProcessCommunicator())
    first = list(sampler)
    sampler.set_epoch(1)
    assert sorted(first) == sorted(sampler) == list(range(50)) and first != list(sampler)


class _ArrayData:
    """A dataset with the DataLoader's batch protocol: sample i is (i * 10, i)."""

    classes = [0, 1]

    def __init__(self, n):
        self.x, self.y = np.arange(n) * 10, np.arange(n)

    def __len__(self):
        return len(self.y)

    def __getitem__(self, i):
        return self.x[i], self.y[i]

    def get_batch(self, indices, xp=None, rng=None):
        return self.x[indices], self.y[indices]


class _FakeComm:
    def __init__(self, rank, size):
        self.rank, self.size = rank, size


def test_shard_dataset_gives_each_rank_its_indices_with_the_batch_fast_path():
    data = _ArrayData(11)
    shards = [dist.shard_dataset(data, _FakeComm(r, 3), seed=4) for r in range(3)]
    assert [len(s) for s in shards] == [4, 4, 4] and shards[0].classes == [0, 1]
    for r, shard in enumerate(shards):
        expected = dist.shard_indices(11, r, 3, seed=4)
        x, y = shard.get_batch([0, 2])
        np.testing.assert_array_equal(y, expected[[0, 2]])
        assert shard[1] == (expected[1] * 10, expected[1])
    exact = [dist.shard_dataset(data, _FakeComm(r, 3), shuffle=False, pad=False) for r in range(3)]
    assert sorted(i for s in exact for i in s.indices.tolist()) == list(range(11))
    assert not hasattr(dist.shard_dataset(list(range(5)), _FakeComm(0, 2)), "get_batch")


# --- under mpiexec --------------------------------------------------------------------------
@needs_mpi
def test_collectives_on_two_ranks():
    rc, out, err, _ = mpirun("collectives.py")
    assert rc == 0, err
    assert "COLLECTIVES OK rank 0" in out and "COLLECTIVES OK rank 1" in out


@needs_mpi
@pytest.mark.parametrize("bucket_mb", [25, 40 / 2**20])  # one bucket; 10-float buckets that split w1, w2
def test_two_ranks_with_half_batches_end_with_the_weights_of_one_rank(tmp_path, bucket_mb):
    path = tmp_path / "weights.npz"
    rc, out, err, _ = mpirun("train_equivalence.py", path, repr(bucket_mb))
    assert rc == 0, err
    assert "EQUIVALENCE OK size=2 path=mpi" in out
    reference, _ = train(dist.SingleProcessCommunicator())
    two_ranks = np.load(path)
    mc.manual_seed(100)
    start = tiny_model.TinyNet().state_dict()
    for name, expected in reference.state_dict().items():
        assert not np.allclose(expected, start[name]), f"{name} did not train"
        np.testing.assert_allclose(two_ranks[name], expected, rtol=0, atol=1e-5, err_msg=name)


@needs_mpi
@pytest.mark.parametrize("mode", ["excepthook", "run_distributed"])
def test_an_exception_on_one_rank_aborts_the_whole_job(mode):
    rc, out, err, seconds = mpirun("broken_rank.py", mode, timeout=30)
    assert rc != 0
    assert "rank 1 failed: ValueError: deliberate failure on rank 1" in err
    assert "UNREACHABLE" not in out
    assert seconds < 30


@needs_mpi
@pytest.mark.gpu
def test_two_ranks_on_gpus_end_with_the_weights_of_one_cpu_rank(tmp_path):
    if not mc.cupy_available():
        pytest.skip("CuPy with a usable GPU is not available")
    import cupy
    gpus = cupy.cuda.runtime.getDeviceCount()
    # NCCL wants one GPU per rank; with one GPU the ranks share it through host-staged MPI
    allreduce = "auto" if gpus >= 2 else "mpi"
    expected_path = "nccl" if gpus >= 2 and dist.nccl_available() else "mpi-staged"
    path = tmp_path / "weights.npz"
    rc, out, err, _ = mpirun("train_equivalence.py", path, "0.0001", "cupy", allreduce, timeout=120)
    assert rc == 0, err
    assert f"path={expected_path}" in out
    reference, _ = train(dist.SingleProcessCommunicator())
    two_ranks = np.load(path)
    for name, expected in reference.state_dict().items():
        np.testing.assert_allclose(two_ranks[name], expected, rtol=0, atol=1e-5, err_msg=name)


@needs_mpi
def test_trainer_on_two_ranks_keeps_ranks_identical_and_only_rank_0_writes(tmp_path):
    rc, out, err, _ = mpirun("fit_two_ranks.py", tmp_path, timeout=120)
    assert rc == 0, err
    assert "FIT OK rank 0" in out and "FIT OK rank 1" in out
    assert (tmp_path / "rank0" / "last.npz").exists() and not (tmp_path / "rank1").exists()
