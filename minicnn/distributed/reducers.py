"""The transport under the collectives: which library moves the bytes.

==============  =====================  ===============================================
path            arrays                 how a bucket is summed
==============  =====================  ===============================================
``local``       any, one rank          nothing to do
``mpi``         NumPy                  ``MPI.Allreduce(MPI.IN_PLACE, buffer)``
``nccl``        CuPy, NCCL everywhere  ``ncclAllReduce`` in place on the GPU buffer
``mpi-staged``  CuPy, no NCCL          GPU buffer -> pinned host buffer -> MPI -> GPU
==============  =====================  ===============================================

All ranks must take the same path (a rank in NCCL and one in MPI would wait for each other
forever), so availability is agreed with a collective before the first use.
"""
import numpy as np

from ..backend import is_cupy_array
from .nccl import NcclComm, nccl_available

PATHS = ("local", "mpi", "nccl", "mpi-staged")


def select_allreduce_path(kind, size, nccl_everywhere, allreduce="auto"):
    """The path for arrays of ``kind`` ("numpy"/"cupy") on ``size`` ranks.

    allreduce: "auto" (NCCL for CuPy when every rank has it, else host-staged MPI), "mpi"
    (never NCCL), or "nccl" (insist; RuntimeError when unavailable, ValueError for NumPy).
    """
    if kind not in ("numpy", "cupy"):
        raise ValueError(f"allreduce: array kind must be 'numpy' or 'cupy', got {kind!r}")
    if allreduce not in ("auto", "mpi", "nccl"):
        raise ValueError(f"allreduce must be 'auto', 'mpi' or 'nccl', got {allreduce!r}")
    if allreduce == "nccl" and kind == "numpy":
        raise ValueError("allreduce='nccl' needs CuPy arrays (NCCL reduces GPU memory); "
                         "the gradients are NumPy arrays: use allreduce='auto' or 'mpi'")
    if size == 1:
        return "local"
    if kind == "numpy":
        return "mpi"
    if allreduce == "nccl" and not nccl_everywhere:
        raise RuntimeError("allreduce='nccl' asked for, but NCCL is not usable on every rank "
                           "(CuPy without its NCCL binding, or no GPU); use allreduce='auto'")
    return "nccl" if nccl_everywhere and allreduce != "mpi" else "mpi-staged"


class LocalReducer:
    name = "local"

    def __init__(self, xp):
        self.xp = xp

    def empty(self, n, dtype):
        return self.xp.empty(n, dtype=dtype)

    def sum_(self, buffer):
        pass

    def broadcast_(self, arrays, root=0):
        pass


class MPIReducer(LocalReducer):
    """NumPy buffers straight into MPI."""
    name = "mpi"

    def __init__(self, comm):
        super().__init__(np)
        self.comm = comm

    def sum_(self, buffer):
        self.comm.mpi_comm.Allreduce(self.comm.MPI.IN_PLACE, buffer, op=self.comm.MPI.SUM)

    def broadcast_(self, arrays, root=0):
        for a in arrays:
            if a.flags.c_contiguous:
                self.comm.mpi_comm.Bcast(a, root=root)
            else:
                staged = np.ascontiguousarray(a)
                self.comm.mpi_comm.Bcast(staged, root=root)
                a[...] = staged


class StagedReducer(LocalReducer):
    """CuPy buffers copied to pinned host memory, summed by MPI, copied back: works with any
    MPI (CUDA-aware or not); costs two PCIe copies per bucket."""
    name = "mpi-staged"

    def __init__(self, comm):
        import cupy
        super().__init__(cupy)
        self.comm, self._host = comm, {}

    def _host_buffer(self, n, dtype):
        held = self._host.get(np.dtype(dtype))
        if held is None or held.size < n:
            import cupyx
            held = cupyx.empty_pinned((n,), dtype=dtype)
            self._host[np.dtype(dtype)] = held
        return held[:n]

    def sum_(self, buffer):
        host = self._host_buffer(buffer.size, buffer.dtype)
        buffer.get(out=host)
        self.comm.mpi_comm.Allreduce(self.comm.MPI.IN_PLACE, host, op=self.comm.MPI.SUM)
        buffer.set(host)

    def broadcast_(self, arrays, root=0):
        for a in arrays:
            host = np.ascontiguousarray(self.xp.asnumpy(a))
            self.comm.mpi_comm.Bcast(host, root=root)
            a[...] = self.xp.asarray(host)


class NcclReducer(LocalReducer):
    name = "nccl"

    def __init__(self, comm, nccl_comm):
        import cupy
        super().__init__(cupy)
        self.nccl_comm = nccl_comm

    def sum_(self, buffer):
        self.nccl_comm.allreduce_sum_(buffer)

    def broadcast_(self, arrays, root=0):
        for a in arrays:
            if a.flags.c_contiguous:
                self.nccl_comm.broadcast_(a, root)
            else:
                staged = self.xp.ascontiguousarray(a)
                self.nccl_comm.broadcast_(staged, root)
                a[...] = staged


def _agreed_nccl(comm):
    """NCCL usable on every rank? (one collective, remembered on ``comm``)."""
    if getattr(comm, "_nccl_everywhere", None) is None:
        comm._nccl_everywhere = bool(comm.allreduce_scalar(int(nccl_available()), op="min"))
    return comm._nccl_everywhere


def make_reducer(comm, sample, allreduce="auto"):
    """The reducer for arrays like ``sample`` on ``comm``; every rank must call it together
    (the first call on a communicator runs collectives to agree on the path)."""
    kind = "cupy" if is_cupy_array(sample) else "numpy"
    if comm.size > 1:
        kinds = comm.allgather_object(kind)
        if len(set(kinds)) > 1:
            raise TypeError(f"allreduce: ranks hold different array kinds {kinds} (by rank); "
                            f"use the same backend on every rank")
    nccl_everywhere = kind == "cupy" and comm.size > 1 and _agreed_nccl(comm)
    path = select_allreduce_path(kind, comm.size, nccl_everywhere, allreduce)
    if path == "local":
        from ..backend import get_array_module
        return LocalReducer(get_array_module(sample))
    if path == "mpi":
        return MPIReducer(comm)
    if path == "mpi-staged":
        return StagedReducer(comm)
    if getattr(comm, "_nccl", None) is None:
        comm._nccl = NcclComm(comm)
    return NcclReducer(comm, comm._nccl)
