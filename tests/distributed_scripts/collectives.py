"""Run under mpiexec -n 2: every collective of the communicator and DistributedOptimizer's
edge cases, checked against values computed from the rank numbers. Prints COLLECTIVES OK."""
import numpy as np

import minicnn as mc
from minicnn import distributed as dist
from minicnn import nn

comm = dist.init()
rank, size = comm.rank, comm.size
assert size == 2 and comm.is_main == (rank == 0) and comm.local_size == 2, comm


def expected_mean(make):
    return sum(make(r) for r in range(size)) / size


# allreduce_mean_: two dtypes, a non-contiguous view, arrays split over 64-byte buckets
def f32(r):
    return np.arange(37, dtype=np.float32) * (r + 1)


def f64(r):
    return np.linspace(-1, 1, 24).reshape(4, 6) + 10.0 * r


a, b_full = f32(rank), f64(rank)
b = b_full[:, ::2]  # non-contiguous: reduced through a copy, written back into b_full
comm.allreduce_mean_([a, b], bucket_mb=64 / 2**20)
assert a.dtype == np.float32 and np.allclose(a, expected_mean(f32)), a
assert np.allclose(b, expected_mean(f64)[:, ::2]) and np.allclose(b_full[:, 1::2], f64(rank)[:, 1::2])

counts = np.array([rank + 1, 10 * rank], dtype=np.int64)
comm.allreduce_sum_([counts])
assert counts.tolist() == [3, 10], counts

# broadcast_: contiguous and strided arrays get rank 0's values
c, d_full = np.full(5, float(rank)), np.full((3, 4), float(rank), dtype=np.float32)
comm.broadcast_([c, d_full[:, 1:3]], root=0)
assert (c == 0).all() and (d_full[:, 1:3] == 0).all() and (d_full[:, 0] == rank).all()
e = np.full(3, float(rank))
comm.broadcast_([e], root=1)
assert (e == 1).all()

# scalars and metrics
assert comm.allreduce_scalar(rank + 1) == 3 and isinstance(comm.allreduce_scalar(1), int)
assert comm.allreduce_scalar(rank + 1.0, op="mean") == 1.5
assert comm.allreduce_scalar(rank, op="max") == 1 and comm.allreduce_scalar(rank, op="min") == 0
metrics = dist.reduce_metrics(comm, correct=3 + rank, total=5, loss_sum=1.0 + rank)
assert metrics["correct"] == 7 and metrics["total"] == 10 and metrics["accuracy"] == 0.7
assert abs(metrics["loss"] - 0.3) < 1e-12

# shards of every rank: disjoint, equal, together the whole dataset
shards = comm.allgather_object(dist.shard_indices(11, rank, size, epoch=3, seed=9).tolist())
assert len(shards[0]) == len(shards[1]) == 6 and sorted(set(shards[0] + shards[1])) == list(range(11))


# broadcast_parameters: buffers too, and a clear error when the models differ
class WithBuffer(nn.Module):
    def __init__(self, width):
        super().__init__()
        self.w = nn.Parameter(np.full((width,), float(rank), dtype=np.float32))
        self.register_buffer("running_mean", np.full(2, 5.0 + rank))


model = WithBuffer(3)
dist.broadcast_parameters(model, comm)
assert (model.w.data == 0).all() and (model.running_mean == 5.0).all()
model.running_mean[...] = 2.0 * rank  # local BatchNorm statistics drift apart ...
model.register_buffer("num_batches_tracked", np.array(7 + rank, dtype=np.int64))
dist.average_buffers(model, comm)  # ... until averaged; counters come from rank 0
assert (model.running_mean == 1.0).all() and int(model.num_batches_tracked) == 7
try:
    dist.broadcast_parameters(WithBuffer(3 + rank), comm)
    raise AssertionError("models of different shapes were broadcast")
except ValueError as err:
    assert "rank 1" in str(err) and "differs" in str(err), err


# DistributedOptimizer: a grad missing on one rank counts as zeros; missing everywhere stays None;
# a read-only broadcast grad (from sum's backward) is replaced by a writeable copy
class Recorder:
    def __init__(self, params):
        self.param_groups = [{"params": params, "lr": 0.1}]
        self.steps = 0

    def step(self):
        self.steps += 1

    def zero_grad(self):
        for p in self.param_groups[0]["params"]:
            p.grad = None


p, q, r = (nn.Parameter(np.ones(4, dtype=np.float32)) for _ in range(3))
inner = Recorder([p, q, r])
opt = dist.DistributedOptimizer(inner, comm, bucket_mb=8 / 2**20)
if rank == 0:
    p.grad = mc.Tensor(np.full(4, 2.0, dtype=np.float32))
(r * float(rank + 1)).sum().backward()  # r.grad = rank + 1 everywhere
opt.step()
assert inner.steps == 1 and opt.reducer.name == "mpi"
assert np.allclose(p.grad.data, 1.0) and p.grad.data.dtype == np.float32, p.grad
assert q.grad is None
assert np.allclose(r.grad.data, 1.5), r.grad

# synchronize() then step() averages once: count the collectives
calls, sum_ = [], opt.reducer.sum_
opt.reducer.sum_ = lambda buffer: (calls.append(buffer.size), sum_(buffer))
opt.zero_grad()
(r * float(rank + 1)).sum().backward()
opt.synchronize()
once = len(calls)
opt.synchronize()
opt.step()
assert once == 2 and len(calls) == once and np.allclose(r.grad.data, 1.5), calls  # 4 floats, 2 a bucket
print(f"COLLECTIVES OK rank {rank}")
