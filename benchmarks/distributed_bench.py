"""Data-parallel scaling of d2l-AlexNet training steps over MPI, and the allreduce time per step.

    python benchmarks/distributed_bench.py                      # 1 rank vs 2 ranks, global batch 16
    python benchmarks/distributed_bench.py --ranks 4 --batch 64 --write   # also writes DISTRIBUTED.md

The launcher runs this file under ``mpiexec -n 1`` and ``mpiexec -n N`` (``--worker``), with
the cores split between the ranks (OMP/NUMBA threads = cores // ranks), so both runs use the
same machine. Strong scaling: the global batch is fixed, each of N ranks takes batch/N.

* step: forward + loss + backward + gradient averaging + SGD step (median over ``--steps``,
  the slowest rank's time); speedup = t(1) / t(N), efficiency = speedup / N.
* allreduce: averaging 46,764,746 float32 gradients in AlexNet's 16 parameter shapes through
  ``DistributedOptimizer`` (25 MiB buckets: pack, ``MPI.Allreduce`` in place, unpack / N),
  and one raw ``Allreduce(IN_PLACE)`` on a flat 46.8 M-float buffer for comparison.

Uses ``mc.models.alexnet`` when the package has it, otherwise a proxy with AlexNet's parameter
shapes (its three Linear layers as matmuls; the conv weights take part through an L2 term, so
every one of the 46.8 M gradients exists); the output says which.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

# d2l AlexNet for 1x224x224, 10 classes: (out, in, kh, kw) / (out,) per layer; 46,764,746 in all
ALEXNET_SHAPES = [(96, 1, 11, 11), (96,), (256, 96, 5, 5), (256,), (384, 256, 3, 3), (384,),
                  (384, 384, 3, 3), (384,), (256, 384, 3, 3), (256,), (4096, 6400), (4096,),
                  (4096, 4096), (4096,), (10, 4096), (10,)]


class _SGD:
    """Momentum-free SGD, used only when minicnn.optim is not there."""

    def __init__(self, params, lr):
        self.param_groups = [{"params": list(params), "lr": lr}]

    def zero_grad(self):
        for p in self.param_groups[0]["params"]:
            p.grad = None

    def step(self):
        for p in self.param_groups[0]["params"]:
            if p.grad is not None:
                p.data -= self.param_groups[0]["lr"] * p.grad.data


def build(batch):
    """(model step function, optimizer, description) for a per-rank batch."""
    import minicnn as mc
    from minicnn import nn
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 1, 224, 224)).astype(np.float32)
    labels = rng.integers(0, 10, batch)
    try:
        from minicnn.optim import SGD

        def make_opt(params):
            return SGD(params, lr=0.01, momentum=0.9)
    except ImportError:
        def make_opt(params):
            return _SGD(params, lr=0.01)
    models = getattr(mc, "models", None)
    if models is not None and hasattr(models, "alexnet"):
        from minicnn import functional as F
        model = models.alexnet(num_classes=10, in_channels=1)
        model.train()

        def loss_fn():
            return F.cross_entropy(model(mc.Tensor(x)), labels)
        return model, make_opt, loss_fn, "d2l AlexNet (mc.models.alexnet)"

    class Proxy(nn.Module):
        def __init__(self):
            super().__init__()
            for i, shape in enumerate(ALEXNET_SHAPES):
                shape = shape[::-1] if i in (10, 12, 14) else shape  # Linear weights as (in, out)
                setattr(self, f"p{i}", nn.Parameter(
                    (rng.standard_normal(shape) * 0.01).astype(np.float32)))

    model = Proxy()
    feats = rng.standard_normal((batch, 6400)).astype(np.float32)
    target = np.eye(10, dtype=np.float32)[labels]

    def loss_fn():
        p = [getattr(model, f"p{i}") for i in range(len(ALEXNET_SHAPES))]
        # x @ W with W stored (in, out): W's gradient x.T @ gy comes out contiguous, as
        # F.linear's does (a W.T view would make the gradient a transposed view)
        h = (mc.Tensor(feats) @ p[10] + p[11]).clip(0.0, None)
        h = (h @ p[12] + p[13]).clip(0.0, None)
        out = h @ p[14] + p[15]
        l2 = sum(((w * w).sum() for w in p[:10]), mc.Tensor(np.float32(0.0)))
        return ((out - mc.Tensor(target)) ** 2).mean() + l2 * 1e-6
    return model, make_opt, loss_fn, "proxy: AlexNet's parameter shapes, FC layers as matmuls"


def worker(args):
    import minicnn as mc
    from minicnn import distributed as dist
    comm = dist.init(use_mpi=True)
    result = {"ranks": comm.size}
    if comm.size > 1:  # --- allreduce of AlexNet-sized gradients
        from minicnn import nn
        params = [nn.Parameter(np.zeros(s, dtype=np.float32)) for s in ALEXNET_SHAPES]
        for p in params:
            p.grad = mc.Tensor(np.full(p.shape, float(comm.rank), dtype=np.float32))
        opt = dist.DistributedOptimizer(_SGD(params, 0.0), comm, bucket_mb=args.bucket_mb)
        times = []
        for _ in range(args.repeats + 1):
            opt._synchronized = False  # time the averaging again on the same gradients
            comm.barrier()
            start = time.perf_counter()
            opt.synchronize()
            times.append(comm.allreduce_scalar(time.perf_counter() - start, op="max"))
        flat = np.ones(sum(int(np.prod(s)) for s in ALEXNET_SHAPES), dtype=np.float32)
        raw = []
        for _ in range(args.repeats + 1):
            comm.barrier()
            start = time.perf_counter()
            comm.mpi_comm.Allreduce(comm.MPI.IN_PLACE, flat, op=comm.MPI.SUM)
            raw.append(comm.allreduce_scalar(time.perf_counter() - start, op="max"))
        result["allreduce"] = {"elements": int(flat.size), "bucketed_s": float(np.median(times[1:])),
                               "raw_flat_s": float(np.median(raw[1:])), "buckets": len(next(iter(opt._plans.values())).buckets),
                               "check": float(params[0].grad.data.flat[0])}
        del params, opt, flat
    # --- training steps
    per_rank = args.batch // comm.size
    mc.manual_seed(0)
    model, make_opt, loss_fn, what = build(per_rank)
    dist.broadcast_parameters(model, comm)
    opt = dist.DistributedOptimizer(make_opt(model.parameters()), comm, bucket_mb=args.bucket_mb)
    steps, averaging, waiting = [], [], []
    for _ in range(args.steps + 1):  # the first step warms up (Numba compilation, allocations)
        comm.barrier()
        before = opt.allreduce_seconds
        start = time.perf_counter()
        loss = loss_fn()
        opt.zero_grad()
        loss.backward()
        computed = time.perf_counter()
        if comm.size > 1:
            comm.barrier()  # separates waiting for the slowest rank from the averaging itself
        waited = time.perf_counter() - computed
        opt.step()
        steps.append(comm.allreduce_scalar(time.perf_counter() - start, op="max"))
        averaging.append(comm.allreduce_scalar(opt.allreduce_seconds - before, op="max"))
        waiting.append(comm.allreduce_scalar(waited, op="max"))
    result.update(model=what, per_rank_batch=per_rank, step_s=float(np.median(steps[1:])),
                  step_min_s=float(min(steps[1:])), averaging_in_step_s=float(np.median(averaging[1:])),
                  waiting_in_step_s=float(np.median(waiting[1:])),
                  path=opt.reducer.name if opt.reducer is not None else "local")
    if comm.is_main:
        with open(args.json, "w") as f:
            json.dump(result, f)


def launch(ranks, args, threads):
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads), NUMBA_NUM_THREADS=str(threads),
               OPENBLAS_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads),
               PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    cmd = ["mpiexec", "-n", str(ranks), sys.executable, os.path.abspath(__file__), "--worker",
           "--json", path, "--batch", str(args.batch), "--steps", str(args.steps),
           "--repeats", str(args.repeats), "--bucket-mb", str(args.bucket_mb)]
    subprocess.run(cmd, check=True, env=env, timeout=args.timeout)
    with open(path) as f:
        result = json.load(f)
    os.unlink(path)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--ranks", type=int, default=2)
    parser.add_argument("--batch", type=int, default=16, help="global batch (split over the ranks)")
    parser.add_argument("--steps", type=int, default=3, help="timed steps (after one warm-up)")
    parser.add_argument("--repeats", type=int, default=5, help="timed allreduces")
    parser.add_argument("--bucket-mb", type=float, default=25)
    parser.add_argument("--timeout", type=int, default=600)
    parser.add_argument("--write", action="store_true", help="write benchmarks/DISTRIBUTED.md")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args)
    cores = os.cpu_count() or 1
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    per_rank_threads = max(1, cores // args.ranks)
    one = launch(1, args, cores)
    # the same single process with only the threads one of the N ranks gets: separates the
    # gain of data parallelism from how well (or badly) one process uses several threads
    one_narrow = launch(1, args, per_rank_threads) if per_rank_threads != cores else None
    many = launch(args.ranks, args, per_rank_threads)
    speedup = one["step_s"] / many["step_s"]
    ar = many["allreduce"]

    def row(result, ranks, threads):
        s = one["step_s"] / result["step_s"]
        wait = f"{result['waiting_in_step_s']:.3f}" if ranks > 1 else "—"
        avg = f"{result['averaging_in_step_s']:.3f}" if ranks > 1 else "—"
        return (f"| {ranks} | {threads} | {result['per_rank_batch']} | {result['step_s']:.3f} "
                f"({result['step_min_s']:.3f}) | {args.batch / result['step_s']:.1f} | {s:.2f}x | "
                f"{f'{100 * s / ranks:.0f} %' if ranks > 1 else '—'} | {wait} | {avg} |")
    gb = ar["elements"] * 4 / 1e9
    command = "python benchmarks/distributed_bench.py " + " ".join(sys.argv[1:])
    lines = [
        "## Data-parallel training over MPI (CPU)", "",
        f"`{command.strip()}` on {cores} cores (load average {load:.1f} at the start), "
        f"{time.strftime('%Y-%m-%d')}; model: {one['model']}; "
        f"global batch {args.batch}, strong scaling (each of N ranks takes batch/N), threads per rank = "
        f"cores // ranks; median of {args.steps} steps after one warm-up, slowest rank.", "",
        "| ranks | threads per rank | per-rank batch | step s (min) | img/s | speedup vs 1 rank, "
        f"{cores} threads | efficiency | of which: waiting for the slowest rank s | gradient averaging s |",
        "|---|---|---|---|---|---|---|---|---|",
        row(one, 1, cores)] + ([row(one_narrow, 1, per_rank_threads)] if one_narrow else []) + [
        row(many, args.ranks, per_rank_threads), "",
        f"Allreduce-mean of {ar['elements']:,} float32 ({gb * 1e3:.0f} MB) on {args.ranks} local ranks: "
        f"bucketed through DistributedOptimizer ({args.bucket_mb:g} MiB buckets, {ar['buckets']} buckets, "
        f"pack + MPI.Allreduce in place + unpack) {1e3 * ar['bucketed_s']:.0f} ms; one raw "
        f"Allreduce(IN_PLACE) of the flat buffer {1e3 * ar['raw_flat_s']:.0f} ms "
        f"(median of {args.repeats}; transport: {many['path']}).",
    ]
    if one_narrow:
        narrow = one_narrow["step_s"] / many["step_s"]
        lines += ["", f"Against one process with {per_rank_threads} thread(s) (the share of one rank), "
                  f"{args.ranks} ranks are {narrow:.2f}x as fast ({100 * narrow / args.ranks:.0f} % efficiency)."]
    if cores <= 2 * args.ranks:
        lines += ["", f"With {cores} cores the {args.ranks} ranks share the cores and the memory bandwidth, "
                  "and a busy machine (other jobs) penalises multi-threaded processes more than "
                  "single-threaded ones: these figures show the cost of data parallelism on one small "
                  "host, not what separate machines or GPUs would give."]
    text = "\n".join(lines) + "\n"
    print(text)
    if abs(ar["check"] - (args.ranks - 1) / 2) > 1e-6:
        raise SystemExit(f"allreduce check failed: {ar['check']} != {(args.ranks - 1) / 2}")
    if args.write:
        with open(os.path.join(HERE, "DISTRIBUTED.md"), "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
