"""Data-parallel training over MPI (mpi4py), with NCCL for CuPy arrays.

    from minicnn import distributed as dist
    comm = dist.init()                          # rank/size from mpiexec; size 1 without it
    model = build_model()
    dist.broadcast_parameters(model, comm)      # same start on every rank
    opt = dist.DistributedOptimizer(optim.SGD(model.parameters(), lr=0.01), comm)
    for epoch in range(epochs):
        for idx in batches(dist.shard_indices(n, comm.rank, comm.size, epoch, seed)):
            opt.zero_grad(); loss(model(x[idx]), y[idx]).backward(); opt.step()

Launch: ``mpiexec -n 2 python train.py``. See docs/distributed.md.
"""
from .bucket import BucketPlan
from .comm import (MPICommunicator, SingleProcessCommunicator, init, install_abort_on_exception,
                   launched_by_mpi, reduce_metrics, run_distributed)
from .nccl import nccl_available, select_gpu
from .optimizer import DistributedOptimizer, average_buffers, broadcast_parameters
from .reducers import select_allreduce_path
from .sampler import DatasetShard, DistributedSampler, shard_dataset, shard_indices

__all__ = ["BucketPlan", "DatasetShard", "DistributedOptimizer", "DistributedSampler", "MPICommunicator",
           "SingleProcessCommunicator", "average_buffers", "broadcast_parameters", "init",
           "install_abort_on_exception", "launched_by_mpi", "nccl_available", "reduce_metrics",
           "run_distributed", "select_allreduce_path", "select_gpu", "shard_dataset", "shard_indices"]
