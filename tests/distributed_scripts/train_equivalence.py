"""Run under mpiexec: train TinyNet on every rank, check the ranks agree, save rank 0's weights.
Usage: mpiexec -n 2 python tests/distributed_scripts/train_equivalence.py OUT.npz BUCKET_MB
       [BACKEND ALLREDUCE]   (numpy auto by default; cupy mpi|nccl|auto on GPUs)"""
import sys

import numpy as np

from minicnn import distributed as dist
from minicnn.backend import to_numpy
from tests.distributed_scripts.tiny_model import train

comm = dist.init()
out_path, bucket_mb = sys.argv[1], float(sys.argv[2])
backend, allreduce = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else ("numpy", "auto")
model, opt = train(comm, bucket_mb=bucket_mb, backend=backend, allreduce=allreduce)
weights = {k: to_numpy(v) for k, v in model.state_dict().items()}
everyone = comm.allgather_object(weights)
for rank, theirs in enumerate(everyone):
    for key in weights:
        if not np.array_equal(theirs[key], everyone[0][key]):
            raise AssertionError(f"rank {rank}'s {key} differs from rank 0's after training")
if comm.is_main:
    np.savez(out_path, **weights)
    print(f"EQUIVALENCE OK size={comm.size} path={opt.reducer.name} buckets={len(opt._plans)}")
