"""Run under mpiexec: rank 1 raises while rank 0 waits in an allreduce that can never finish.
Usage: mpiexec -n 2 python tests/distributed_scripts/broken_rank.py excepthook|run_distributed"""
import sys

import numpy as np

from minicnn import distributed as dist


def main(comm):
    comm.barrier()
    if comm.rank == 1:
        raise ValueError("deliberate failure on rank 1")
    comm.allreduce_mean_([np.ones(10, dtype=np.float32)])  # rank 1 never joins
    print("UNREACHABLE: rank 0 finished the allreduce")


if sys.argv[1] == "excepthook":
    main(dist.init())
else:
    dist.run_distributed(main)
