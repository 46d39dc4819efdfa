"""NCCL for CuPy arrays: GPU-to-GPU allreduce without a trip through host memory.

NCCL needs no launcher of its own: rank 0 makes a unique id, MPI broadcasts it, and every rank
joins ``cupy.cuda.nccl.NcclCommunicator(size, uid, rank)``. Each rank must drive its own GPU,
so call :func:`select_gpu` (GPU = local rank modulo the GPUs on the host) before the model is
moved to CuPy. Collectives are enqueued on CuPy's current stream, after the kernels that
packed the bucket and before those that unpack it, so no explicit synchronisation is needed.
"""
from ..backend import cupy_available

_NCCL_TYPES = {"float16": "NCCL_FLOAT16", "float32": "NCCL_FLOAT32", "float64": "NCCL_FLOAT64",
               "int8": "NCCL_INT8", "uint8": "NCCL_UINT8", "int32": "NCCL_INT32",
               "uint32": "NCCL_UINT32", "int64": "NCCL_INT64", "uint64": "NCCL_UINT64"}


def nccl_available():
    """True when CuPy sees a usable GPU and was built with its NCCL binding."""
    if not cupy_available():
        return False
    try:
        from cupy.cuda import nccl
    except Exception:
        return False
    return bool(getattr(nccl, "available", True))


def nccl_dtype(nccl_module, dtype):
    """The NCCL data-type code for a NumPy/CuPy dtype (TypeError when NCCL has none)."""
    name = getattr(dtype, "name", str(dtype))
    if name not in _NCCL_TYPES:
        raise TypeError(f"NCCL: no data type for {name}; supported: {sorted(_NCCL_TYPES)}")
    return getattr(nccl_module, _NCCL_TYPES[name])


def select_gpu(comm):
    """Make GPU ``comm.local_rank % (GPUs on this host)`` CuPy's current device; returns its id.
    Call it before ``set_backend('cupy')`` / ``model.to('cupy')`` on every rank."""
    import cupy
    count = cupy.cuda.runtime.getDeviceCount()
    if count < 1:
        raise RuntimeError(f"rank {comm.rank}: select_gpu found no CUDA device")
    device = comm.local_rank % count
    cupy.cuda.Device(device).use()
    return device


class NcclComm:
    """An NCCL communicator spanning the ranks of ``comm`` (a collective call: every rank
    must make one, in the same order relative to other collectives)."""

    def __init__(self, comm):
        from cupy.cuda import nccl
        self.nccl = nccl
        uid = nccl.get_unique_id() if comm.rank == 0 else None
        uid = comm.broadcast_object(uid, root=0)
        self.comm = nccl.NcclCommunicator(comm.size, uid, comm.rank)
        self.size = comm.size

    @staticmethod
    def _stream():
        import cupy
        return cupy.cuda.get_current_stream().ptr

    def allreduce_sum_(self, buffer):
        """Sum a contiguous CuPy array over the ranks, in place."""
        self.comm.allReduce(buffer.data.ptr, buffer.data.ptr, buffer.size,
                            nccl_dtype(self.nccl, buffer.dtype), self.nccl.NCCL_SUM, self._stream())

    def broadcast_(self, array, root=0):
        """Overwrite a contiguous CuPy array with rank ``root``'s values."""
        self.comm.bcast(array.data.ptr, array.size, nccl_dtype(self.nccl, array.dtype), root,
                        self._stream())
