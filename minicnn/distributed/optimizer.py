"""Data parallelism in the style of Horovod/ChainerMN: same model on every rank, a different
shard of each batch, gradients averaged before the update.

Why averaging is exact: with the loss a mean over the batch, the gradient on a batch of B
examples is the mean of the gradients of its halves, g_B = (g_{B/2, rank 0} + g_{B/2, rank 1}) / 2.
So N ranks with B/N examples each, after one allreduce-mean, hold the very gradient one process
would compute on all B; from identical weights (broadcast from rank 0) and the same update
rule, the weights stay identical on every rank without ever being sent again.
"""
import time

import numpy as np

from ..backend import get_array_module
from ..tensor import Tensor
from .bucket import BucketPlan, allreduce_flat_
from .reducers import make_reducer


def _contiguous_writeable(array):
    return array.flags.c_contiguous and getattr(array.flags, "writeable", True)


def broadcast_parameters(module, comm, root=0):
    """Overwrite every parameter and buffer of ``module`` (BatchNorm running statistics too)
    with rank ``root``'s values, in place. Call it once after building the model, so every
    rank starts from the same weights. Raises ValueError (on every rank) when the models differ."""
    named = [(name, p.data) for name, p in module.named_parameters()]
    named += list(module.named_buffers())
    if comm.size == 1:
        return module
    layout = [(name, tuple(a.shape), str(a.dtype)) for name, a in named]
    layouts = comm.allgather_object(layout)
    for rank, other in enumerate(layouts):
        if other != layouts[root]:
            diff = next(((a, b) for a, b in zip(layouts[root], other) if a != b),
                        (f"{len(layouts[root])} arrays", f"{len(other)} arrays"))
            raise ValueError(f"broadcast_parameters: rank {rank}'s {type(module).__name__} differs "
                             f"from rank {root}'s: {diff[1]} vs {diff[0]}; build the same model on every rank")
    arrays = [a for _, a in named]
    for kind in ("numpy", "cupy"):  # a module may keep NumPy buffers beside CuPy parameters
        group = [a for a in arrays if (get_array_module(a) is np) == (kind == "numpy")]
        has = comm.allreduce_scalar(len(group), op="max")
        if has:
            comm.broadcast_(group, root=root)
    return module


def average_buffers(module, comm):
    """Average the floating-point buffers of ``module`` (BatchNorm running mean/var) over the
    ranks, in place; integer buffers (counters) take rank 0's value. Each rank's BatchNorm
    normalises with its own batch statistics, so the running estimates drift apart; call this
    before evaluating or saving a checkpoint so every rank holds the same model."""
    if comm.size == 1:
        return module
    buffers = [b for _, b in module.named_buffers()]
    floating = [b for b in buffers if b.dtype.kind == "f"]
    others = [b for b in buffers if b.dtype.kind != "f"]
    for kind in ("numpy", "cupy"):
        for group, collective in ((floating, comm.allreduce_mean_), (others, comm.broadcast_)):
            part = [b for b in group if (get_array_module(b) is np) == (kind == "numpy")]
            if comm.allreduce_scalar(len(part), op="max"):
                collective(part)
    return module


class DistributedOptimizer:
    """Wrap ``optimizer`` so that ``step()`` first averages every gradient over the ranks.

    After ``loss.backward()`` the gradients are packed, in parameter order, into a preallocated
    flat buffer of at most ``bucket_mb`` MiB per dtype (float32 for the models here); each bucket
    is summed in place by one collective, and unpacked divided by the world size. See
    :mod:`minicnn.distributed.bucket` and :mod:`minicnn.distributed.reducers` (allreduce="auto":
    MPI for NumPy, NCCL for CuPy when every rank has it, host-staged MPI otherwise).

    A parameter whose gradient is None on some ranks (a branch not taken) takes part with zeros;
    one that has no gradient on any rank keeps None.

    ``synchronize()`` does only the averaging (e.g. to clip or check gradients first; ``step()``
    will not average twice). ``zero_grad``, ``state_dict``, ``load_state_dict``,
    ``param_groups`` and any other attribute go to the wrapped optimizer.
    """

    def __init__(self, optimizer, comm, bucket_mb=25, allreduce="auto"):
        if not bucket_mb > 0:
            raise ValueError(f"DistributedOptimizer: bucket_mb must be > 0, got {bucket_mb}")
        if allreduce not in ("auto", "mpi", "nccl"):
            raise ValueError(f"DistributedOptimizer: allreduce must be 'auto', 'mpi' or 'nccl', "
                             f"got {allreduce!r}")
        self.optimizer, self.comm = optimizer, comm
        self.bucket_mb, self.allreduce = bucket_mb, allreduce
        self.reducer = None       # chosen at the first synchronize (a collective)
        self.allreduce_seconds = 0.0  # wall time spent averaging, summed over steps
        self._buffers, self._plans = {}, {}
        self._checked = self._synchronized = False

    # --- the wrapped optimizer ------------------------------------------------------------
    @property
    def param_groups(self):
        return self.optimizer.param_groups

    def __getattr__(self, name):  # lr schedulers read e.g. .state or .defaults
        if name == "optimizer":
            raise AttributeError(name)
        return getattr(self.optimizer, name)

    def zero_grad(self):
        self.optimizer.zero_grad()
        self._synchronized = False

    def state_dict(self):
        return self.optimizer.state_dict()

    def load_state_dict(self, state_dict):
        return self.optimizer.load_state_dict(state_dict)

    def step(self):
        self.synchronize()
        result = self.optimizer.step()
        self._synchronized = False
        return result

    # --- averaging ----------------------------------------------------------------------
    def _parameters(self):
        params, seen = [], set()
        for group in self.optimizer.param_groups:
            for p in group["params"]:
                if getattr(p, "requires_grad", True) and id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
        return params

    def _check_same_model(self, params):
        layout = [(tuple(p.shape), str(p.dtype)) for p in params]
        layouts = self.comm.allgather_object(layout)
        for rank, other in enumerate(layouts):
            if other != layouts[0]:
                raise ValueError(f"DistributedOptimizer: rank {rank} optimizes {len(other)} parameters "
                                 f"{other[:3]}..., rank 0 optimizes {len(layouts[0])} {layouts[0][:3]}...; "
                                 f"every rank must build the same model and optimizer")
        self._checked = True

    def synchronize(self):
        """Average the gradients over the ranks, in place (once per step)."""
        if self._synchronized or self.comm.size == 1:
            self._synchronized = True
            return
        start = time.perf_counter()
        params = self._parameters()
        if not self._checked:
            self._check_same_model(params)
        has_grad = np.array([p.grad is not None for p in params], dtype=np.int32)
        self.comm.allreduce_sum_([has_grad])  # which gradients exist on some rank
        active = [p for p, flag in zip(params, has_grad) if flag]
        if not active:
            self._synchronized = True
            return
        for p in active:
            if p.grad is None:
                p.grad = Tensor(get_array_module(p.data).zeros_like(p.data))
            elif not _contiguous_writeable(p.grad.data):  # e.g. a broadcast view from sum's backward
                p.grad = Tensor(p.grad.data.copy(order="C"))
        grads = [p.grad.data for p in active]
        if self.reducer is None:
            self.reducer = make_reducer(self.comm, grads[0], self.allreduce)
        by_dtype = {}
        for g in grads:
            by_dtype.setdefault(g.dtype, []).append(g)
        for dtype, group in by_dtype.items():
            sizes = tuple(g.size for g in group)
            buffer = self._buffer(dtype, sum(sizes))
            key = (dtype, sizes)
            if key not in self._plans:
                self._plans[key] = BucketPlan(sizes, buffer.size)
            allreduce_flat_(group, buffer, self.reducer.sum_, 1.0 / self.comm.size, self._plans[key])
        self._synchronized = True
        self.allreduce_seconds += time.perf_counter() - start

    def _buffer(self, dtype, total):
        """The preallocated flat buffer for ``dtype``: min(bucket, all gradients) elements."""
        want = max(1, min(int(self.bucket_mb * 2**20) // np.dtype(dtype).itemsize, total))
        held = self._buffers.get(dtype)
        if held is None or held.size != want:
            held = self._buffers[dtype] = self.reducer.empty(want, dtype)
        return held

    def __repr__(self):
        path = self.reducer.name if self.reducer is not None else "not chosen yet"
        return (f"DistributedOptimizer({type(self.optimizer).__name__}, rank {self.comm.rank} of "
                f"{self.comm.size}, bucket {self.bucket_mb} MiB, allreduce {path})")
