"""Where the time of a minicnn training step goes: cProfile over a few steps after warm-up.

    python benchmarks/profile_step.py --model alexnet --batch-size 64 --steps 2

Prints the functions with the largest own time (tottime) and the per-op forward/backward
totals (cumulative time of each Function subclass's forward and backward, named by class), per step, and
the minor page faults and peak RSS of the profiled steps (neither depends on the machine's
load, unlike the times: on a loaded machine read the times as shares of the step).
"""
import argparse
import cProfile
import os
import pstats
import resource

from common import load_average, peak_rss_mb
from step_time import MODELS, minicnn_step_fn


def function_methods():
    """{(file, first line, name): "Conv2dFunction.forward", ...} for every Function subclass's own
    forward/backward/helpers, so cProfile's rows can be named by op (a method shared by
    subclasses, such as _Binary.forward, is named by the class that defines it)."""
    from minicnn.function import Function
    names, stack = {}, list(Function.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        for attr, value in vars(cls).items():
            code = getattr(value, "__code__", None)
            if code is not None and attr in ("forward", "backward", "compute", "_input_grad"):
                names[(code.co_filename, code.co_firstlineno, attr)] = f"{cls.__name__}.{attr}"
    return names


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=sorted(MODELS), default="alexnet")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--steps", type=int, default=2)
    p.add_argument("--top", type=int, default=20)
    args = p.parse_args()
    shape, default_batch, classes = MODELS[args.model]
    batch = args.batch_size or default_batch
    step = minicnn_step_fn(args.model, shape, batch, classes)
    step()  # warm-up: Numba compilation/cache load, workspace allocation
    prof = cProfile.Profile()
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    prof.enable()
    for _ in range(args.steps):
        step()
    prof.disable()
    faults = (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) // args.steps
    stats = pstats.Stats(prof)
    total = sum(v[2] for v in stats.stats.values()) / args.steps
    print(f"{args.model} b{batch}, {args.steps} profiled steps, load average {load_average()}, "
          f"{os.cpu_count()} cores; per step: total own time {total:.3f} s, {faults} minor page faults; "
          f"peak RSS {peak_rss_mb():.0f} MB")
    named = function_methods()
    ops = [(ct / args.steps, nc // args.steps, named[key]) for key, (cc, nc, tt, ct, callers) in stats.stats.items()
           if key in named]
    print("\nper op: each Function's forward and backward (cumulative s per step, share of the step, calls per step):")
    for ct, n, name in sorted(ops, reverse=True)[:args.top]:
        print(f"  {ct:7.3f} s  {100 * ct / total:5.1f} %  x{n:<3d} {name}")
    print(f"\ntop {args.top} by own time (s per step):")
    rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:args.top]
    for (path, line, func), (cc, nc, tt, ct, callers) in rows:
        print(f"  {tt / args.steps:7.3f} s  x{nc // args.steps:<4d} {os.path.basename(path)}:{line} {func}")


if __name__ == "__main__":
    main()
