"""Communicators: who am I (rank), how many are we (size), and the collectives training needs.

``init()`` returns a :class:`MPICommunicator` when the script was started by ``mpiexec``
(or ``use_mpi=True``), and a :class:`SingleProcessCommunicator` otherwise, so a trainer runs
the same code with one process or many. The single-process one needs no MPI at all: every
collective is the identity.

A failure on one rank must not leave the others waiting forever in a collective: ``init()``
installs an excepthook that prints ``rank R failed: ...`` and calls ``MPI_Abort``, which ends
every process of the job; :func:`run_distributed` does the same around a function.
"""
import os
import sys
import time
import traceback

import numpy as np

from .bucket import allreduce_flat_, contiguous_targets

_OPS = ("sum", "mean", "max", "min")
# Variables that MPI launchers put into each process's environment (MPICH/Hydra, Intel MPI,
# Open MPI, PMIx, MVAPICH). Their presence means "started by mpiexec".
_LAUNCHER_VARS = ("PMI_SIZE", "PMI_RANK", "OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "MV2_COMM_WORLD_SIZE")
_INSTALL_HINT = "install the MPI extra: pip install 'minicnn[mpi]' (mpi4py and the mpich wheel)"
_comm = None


def _check_op(op):
    if op not in _OPS:
        raise ValueError(f"allreduce_scalar: op must be one of {_OPS}, got {op!r}")


def _check_arrays(arrays, mean):
    """One kind (NumPy or CuPy) per call; a mean needs floating-point arrays."""
    from ..backend import is_cupy_array
    kinds = {is_cupy_array(a) for a in arrays}
    if len(kinds) > 1:
        raise TypeError("allreduce/broadcast: got NumPy and CuPy arrays in one call; "
                        "pass the arrays of each kind in a call of their own")
    if mean:
        bad = [str(a.dtype) for a in arrays if a.dtype.kind not in "fc"]
        if bad:
            raise TypeError(f"allreduce_mean_: needs floating-point arrays, got {', '.join(bad)}; "
                            f"use allreduce_sum_ for counts")


def _as_python_number(x):
    """int stays int (counts), everything else becomes a float (NumPy/CuPy scalars too)."""
    if isinstance(x, (bool, np.bool_)):
        return int(x)
    if isinstance(x, (int, np.integer)):
        return int(x)
    return float(x)


class SingleProcessCommunicator:
    """The world of one process: rank 0 of 1; every collective returns its input unchanged."""

    rank, size, local_rank, local_size = 0, 1, 0, 1
    name = "single"

    @property
    def is_main(self):
        return self.rank == 0

    def allreduce_mean_(self, arrays, bucket_mb=25):
        """Average each array over the ranks, in place; returns ``arrays``."""
        arrays = list(arrays)
        _check_arrays(arrays, mean=True)
        return arrays

    def allreduce_sum_(self, arrays, bucket_mb=25):
        """Sum each array over the ranks, in place; returns ``arrays``."""
        arrays = list(arrays)
        _check_arrays(arrays, mean=False)
        return arrays

    def broadcast_(self, arrays, root=0):
        """Overwrite each array with rank ``root``'s values, in place; returns ``arrays``."""
        self._check_root(root)
        return arrays

    def barrier(self):
        pass

    def allreduce_scalar(self, x, op="sum"):
        """A Python number reduced over the ranks with ``op`` ("sum", "mean", "max", "min")."""
        _check_op(op)
        return _as_python_number(x)

    def broadcast_object(self, obj, root=0):
        self._check_root(root)
        return obj

    def allgather_object(self, obj):
        return [obj]

    def abort(self, code=1):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    def _check_root(self, root):
        if not 0 <= root < self.size:
            raise ValueError(f"root must be a rank in [0, {self.size}), got {root}")

    def __repr__(self):
        return f"{type(self).__name__}(rank={self.rank}, size={self.size})"


class MPICommunicator(SingleProcessCommunicator):
    """Collectives over an mpi4py communicator (``MPI.COMM_WORLD`` by default).

    NumPy arrays go to MPI directly; CuPy arrays go through NCCL when every rank has it
    (see :mod:`minicnn.distributed.nccl`), else they are staged through host memory.
    """

    name = "mpi"

    def __init__(self, mpi_comm=None):
        from mpi4py import MPI
        self.MPI = MPI
        self.mpi_comm = MPI.COMM_WORLD if mpi_comm is None else mpi_comm
        self.rank, self.size = self.mpi_comm.Get_rank(), self.mpi_comm.Get_size()
        node = self.mpi_comm.Split_type(MPI.COMM_TYPE_SHARED)  # the ranks on this host
        self.local_rank, self.local_size = node.Get_rank(), node.Get_size()
        node.Free()
        self._nccl = None  # the NcclComm, made on first use (a collective call)
        self._nccl_everywhere = None
        self._reducers = {}

    # --- array collectives ------------------------------------------------------------
    def allreduce_mean_(self, arrays, bucket_mb=25):
        """Average each array over the ranks, in place (arrays of one kind: all NumPy or all
        CuPy; several dtypes are fine). Packed into a flat buffer per dtype, bucket by bucket."""
        return self._allreduce_(arrays, bucket_mb, scale=1.0 / self.size)

    def allreduce_sum_(self, arrays, bucket_mb=25):
        """Sum each array over the ranks, in place (see ``allreduce_mean_``)."""
        return self._allreduce_(arrays, bucket_mb, scale=None)

    def _allreduce_(self, arrays, bucket_mb, scale):
        arrays = list(arrays)
        _check_arrays(arrays, mean=scale is not None)
        if not arrays:
            return arrays
        reducer = self._reducer(arrays[0])
        targets, write_back = contiguous_targets(arrays)
        by_dtype = {}
        for i, a in enumerate(targets):
            by_dtype.setdefault(a.dtype, []).append(i)
        for dtype, idx in by_dtype.items():
            group = [targets[i] for i in idx]
            elems = max(1, int(bucket_mb * 2**20) // dtype.itemsize)
            buffer = reducer.empty(min(elems, sum(a.size for a in group)), dtype)
            allreduce_flat_(group, buffer, reducer.sum_, scale)
        write_back()
        return arrays

    def broadcast_(self, arrays, root=0):
        self._check_root(root)
        arrays = list(arrays)
        _check_arrays(arrays, mean=False)
        if arrays:
            self._reducer(arrays[0]).broadcast_(arrays, root)
        return arrays

    def _reducer(self, sample):
        """The transport for arrays like ``sample``, agreed with the other ranks on first use."""
        from ..backend import is_cupy_array
        from .reducers import make_reducer
        kind = "cupy" if is_cupy_array(sample) else "numpy"
        if kind not in self._reducers:
            self._reducers[kind] = make_reducer(self, sample, allreduce="auto")
        return self._reducers[kind]

    # --- host collectives ---------------------------------------------------------------
    def barrier(self):
        self.mpi_comm.Barrier()

    def allreduce_scalar(self, x, op="sum"):
        _check_op(op)
        x = _as_python_number(x)
        mpi_op = {"sum": self.MPI.SUM, "mean": self.MPI.SUM, "max": self.MPI.MAX,
                  "min": self.MPI.MIN}[op]
        total = self.mpi_comm.allreduce(x, op=mpi_op)
        return total / self.size if op == "mean" else total

    def broadcast_object(self, obj, root=0):
        self._check_root(root)
        return self.mpi_comm.bcast(obj, root=root)

    def allgather_object(self, obj):
        return self.mpi_comm.allgather(obj)

    def abort(self, code=1):
        sys.stdout.flush()
        sys.stderr.flush()
        self.mpi_comm.Abort(code)
        # MPICH's MPI_Abort can return after telling the launcher, which then kills the job;
        # never fall through into the caller (or into Python's own exception printing).
        time.sleep(5)
        os._exit(code)


def launched_by_mpi(environ=None):
    """True when a launcher (mpiexec, mpirun, srun with PMI) started this process."""
    environ = os.environ if environ is None else environ
    return any(var in environ for var in _LAUNCHER_VARS)


def init(use_mpi="auto", install_excepthook=True):
    """The communicator of this process (the same object on later calls).

    use_mpi: "auto" uses MPI when the process was started by an MPI launcher, True always
    (mpi4py required), False never. Under MPI with more than one rank an excepthook is
    installed so that an uncaught exception on any rank aborts the whole job.
    """
    global _comm
    if _comm is not None:
        return _comm
    if use_mpi not in ("auto", True, False):
        raise ValueError(f"init: use_mpi must be 'auto', True or False, got {use_mpi!r}")
    want = launched_by_mpi() if use_mpi == "auto" else use_mpi
    if not want:
        _comm = SingleProcessCommunicator()
        return _comm
    try:
        import mpi4py  # noqa: F401
    except ImportError as err:
        size = os.environ.get("PMI_SIZE") or os.environ.get("OMPI_COMM_WORLD_SIZE") or "?"
        raise RuntimeError(f"minicnn.distributed.init: this process was started by an MPI launcher "
                           f"(world size {size}) but mpi4py is not installed, so every process "
                           f"would train alone; {_INSTALL_HINT}") from err
    _comm = MPICommunicator()
    if install_excepthook and _comm.size > 1:
        install_abort_on_exception(_comm)
    return _comm


def failure_message(rank, exc):
    return f"minicnn.distributed: rank {rank} failed: {type(exc).__name__}: {exc}"


def _report_and_abort(comm, exc_type, exc, tb):
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    # The one-line summary comes last, so it is what a reader of the job's log sees first
    # when scrolling up from the launcher's own "killed" lines.
    sys.stderr.write(f"{text}{failure_message(comm.rank, exc)}; aborting all {comm.size} ranks\n")
    sys.stderr.flush()
    # MPI_Abort tears down the launcher's output forwarding at once; on a loaded machine the
    # message above was lost. A moment lets the launcher pass it on before the job ends.
    time.sleep(0.5)
    comm.abort(1)


def install_abort_on_exception(comm):
    """Make an uncaught exception on this rank abort the whole MPI job (not hang it)."""
    previous = sys.excepthook

    def excepthook(exc_type, exc, tb):
        if comm.size > 1:
            _report_and_abort(comm, exc_type, exc, tb)
        previous(exc_type, exc, tb)

    sys.excepthook = excepthook


def run_distributed(main_fn, *args, comm=None, **kwargs):
    """Call ``main_fn(comm, *args, **kwargs)``; an exception on any rank aborts the whole job
    with ``rank R failed: ...`` (exit status 1) instead of leaving the others in a collective."""
    comm = init() if comm is None else comm
    try:
        return main_fn(comm, *args, **kwargs)
    except SystemExit as exit_:
        if exit_.code in (None, 0) or comm.size == 1:
            raise
        _report_and_abort(comm, type(exit_), exit_, exit_.__traceback__)
    except BaseException as exc:
        if comm.size == 1:
            raise
        _report_and_abort(comm, type(exc), exc, exc.__traceback__)


def reduce_metrics(comm, correct, total, loss_sum):
    """Sum evaluation counts over the ranks (one collective): returns a dict with
    ``correct``, ``total``, ``loss_sum``, ``accuracy`` = correct/total, ``loss`` = loss_sum/total."""
    values = np.array([float(correct), float(total), float(loss_sum)], dtype=np.float64)
    if comm.size > 1:
        comm.allreduce_sum_([values])  # float64: counts are exact below 2**53
    correct, total, loss_sum = (float(v) for v in values)
    return {"correct": int(round(correct)), "total": int(round(total)), "loss_sum": float(loss_sum),
            "accuracy": correct / total if total else float("nan"),
            "loss": loss_sum / total if total else float("nan")}
