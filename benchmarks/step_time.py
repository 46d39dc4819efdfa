"""Training-step time of a whole model, minicnn and PyTorch side by side.

    python benchmarks/step_time.py --model alexnet --batch-size 64 --steps 5 --compare torch
    python benchmarks/step_time.py --model vgg11 --algorithm im2col     # force one conv algorithm

Both frameworks train the same architecture on the same random batch in the same process,
interleaved step by step after warm-up (so machine noise hits both alike): forward, cross
entropy, backward, SGD (momentum 0.9) step. The median and the min over the timed steps
(at least 3) are reported with the load average before and after. Peak RSS is measured for
each in its own fresh subprocess (``--only``), since one process holding both would mix their
memory. Both use ``--threads`` threads: minicnn through mc.threads (OpenBLAS and Numba
together), PyTorch through torch.set_num_threads; the row records both. The row also says
which conv algorithm minicnn chose for each conv shape (mc.backends.conv.decisions).
"""
import argparse
import functools
import json
import os
import subprocess
import sys

import numpy as np

from common import load_average, peak_rss_mb, record, summarize, timed, try_torch

MODELS = {  # name: (input shape, default batch, classes)
    "alexnet": ((1, 224, 224), 64, 10),
    "vgg11": ((3, 224, 224), 16, 1000),
    "mnist_cnn": ((1, 28, 28), 100, 10),
    "resnet18": ((3, 224, 224), 32, 1000),
    "lenet": ((1, 28, 28), 256, 10),
}


def allocator():
    """glibc's settings in this process: minicnn tunes them at import unless MINICNN_MALLOC=system."""
    from minicnn.kernels import memory
    return "tuned by minicnn" if memory.allocator_tuned else "glibc defaults"


def minicnn_step_fn(name, shape, batch, classes, algorithm="auto", conv_benchmark=False, threads=None,
                    saved_columns_mb=None):
    import minicnn as mc
    from minicnn import functional as F, optim
    mc.backends.conv.algorithm = algorithm
    mc.backends.conv.benchmark = conv_benchmark
    if saved_columns_mb is not None:
        mc.backends.conv.saved_columns_bytes = saved_columns_mb << 20
    mc.threads.set_num_threads(threads)
    mc.manual_seed(0)
    model = mc.models.get_model(name, num_classes=classes, in_channels=shape[0])
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch,) + shape).astype(np.float32)
    y = rng.integers(0, classes, batch)

    def step():
        loss = F.cross_entropy(model(mc.Tensor(x)), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def conv_decisions(mc):
    """{"C->O kxk s1 @HxW": "winograd" | "im2col"} for every conv shape minicnn ran."""
    out = {}
    for (_, x_shape, _, w_shape, stride, padding, dilation, groups), algo in mc.backends.conv.decisions.items():
        out[f"{w_shape[1] * groups}->{w_shape[0]} {w_shape[2]}x{w_shape[3]} s{stride[0]} @{x_shape[2]}x{x_shape[3]}"] = algo
    return out


def torch_step_fn(name, shape, batch, classes, torch):
    import torch_models
    torch.manual_seed(0)
    model = torch_models.TORCH_MODELS[name](num_classes=classes, in_channels=shape[0])
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((batch,) + shape).astype(np.float32))
    y = torch.from_numpy(rng.integers(0, classes, batch))

    def step():
        loss = torch.nn.functional.cross_entropy(model(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def measure_rss(args, framework):
    """Peak RSS (MB) of a fresh process that builds the model and runs warm-up + 2 steps."""
    cmd = [sys.executable, os.path.abspath(__file__), "--model", args.model, "--batch-size", str(args.batch_size),
           "--steps", "2", "--warmup", "1", "--only", framework, "--threads", str(args.threads),
           "--algorithm", args.algorithm] + (["--conv-benchmark"] if args.conv_benchmark else []) + (
           [] if args.saved_columns_mb is None else ["--saved-columns-mb", str(args.saved_columns_mb)])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mb"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=sorted(MODELS), default="alexnet")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--compare", choices=("torch", "none"), default="torch")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)),
                   help="threads for each framework (default: the CPUs this process may use)")
    p.add_argument("--algorithm", choices=("auto", "im2col", "winograd"), default="auto",
                   help="minicnn's conv algorithm (mc.backends.conv.algorithm)")
    p.add_argument("--conv-benchmark", action="store_true", help="mc.backends.conv.benchmark = True (autotuner)")
    p.add_argument("--saved-columns-mb", type=int, default=None,
                   help="mc.backends.conv.saved_columns_bytes in MB (default: the library's)")
    p.add_argument("--only", choices=("minicnn", "torch"), help=argparse.SUPPRESS)
    p.add_argument("--no-record", action="store_true", help="do not append to results.jsonl")
    args = p.parse_args()
    shape, default_batch, classes = MODELS[args.model]
    args.batch_size = args.batch_size or default_batch
    if args.only is None and args.steps < 3:
        p.error(f"--steps must be at least 3 (median and min of interleaved repetitions), got {args.steps}")
    minicnn_step = functools.partial(minicnn_step_fn, args.model, shape, args.batch_size, classes,
                                     args.algorithm, args.conv_benchmark, args.threads, args.saved_columns_mb)
    # --only minicnn must not import torch at all (its libraries and thread pools would count in the RSS)
    wants_torch = args.only == "torch" or (args.only is None and args.compare == "torch")
    torch = try_torch(args.threads) if wants_torch else None

    if args.only:
        step = (minicnn_step() if args.only == "minicnn"
                else torch_step_fn(args.model, shape, args.batch_size, classes, torch))
        for _ in range(args.warmup + args.steps):
            step()
        print(json.dumps({"peak_rss_mb": peak_rss_mb(), "torch_imported": "torch" in sys.modules}))
        return

    load_before = load_average()
    steps = {"minicnn": minicnn_step()}
    if torch is not None:
        steps["torch"] = torch_step_fn(args.model, shape, args.batch_size, classes, torch)
    for _ in range(args.warmup):
        for fn in steps.values():
            fn()
    times = {k: [] for k in steps}
    for _ in range(args.steps):
        for k, fn in steps.items():  # interleaved: each step of one, then one of the other
            times[k].append(timed(fn))
    load_after = load_average()
    import minicnn as mc
    result = {"conv_algorithms": conv_decisions(mc), "threads": {"minicnn": mc.threads.describe()},
              "saved_columns_mb": mc.backends.conv.saved_columns_bytes >> 20,
              "load_average": {"before": load_before, "after": load_after}}
    if torch is not None:
        result["threads"]["torch"] = torch.get_num_threads()
    for k in steps:
        s = summarize(times[k])
        s["images_per_s"] = args.batch_size / s["median_s"]
        s["peak_rss_mb"] = measure_rss(args, k)
        result[k] = s
    if "torch" in result:
        result["ratio_median"] = result["minicnn"]["median_s"] / result["torch"]["median_s"]
        result["ratio_min"] = result["minicnn"]["min_s"] / result["torch"]["min_s"]
        result["ratio_rss"] = result["minicnn"]["peak_rss_mb"] / result["torch"]["peak_rss_mb"]
    print(f"{args.model} b{args.batch_size} input {shape}, {args.steps} steps after {args.warmup} warm-up, "
          f"{args.threads} threads ({result['threads']}), load average before {load_before} after {load_after}")
    print(f"  allocator: {allocator()} (one process: PyTorch's steps run under the same setting); "
          f"saved columns cap {result['saved_columns_mb']} MB")
    print(f"  conv algorithm ({args.algorithm}{', autotuned' if args.conv_benchmark else ''}): "
          + ", ".join(f"{k}: {v}" for k, v in result["conv_algorithms"].items()))
    for k in steps:
        s = result[k]
        print(f"  {k:8s} median {s['median_s']:.4f} s  min {s['min_s']:.4f} s  "
              f"{s['images_per_s']:.1f} img/s  peak RSS {s['peak_rss_mb']:.0f} MB")
    if "ratio_median" in result:
        print(f"  ratio minicnn/PyTorch: time {result['ratio_median']:.2f}x (min {result['ratio_min']:.2f}x), "
              f"peak RSS {result['ratio_rss']:.2f}x")
    if not args.no_record:
        config = {"batch_size": args.batch_size, "input": list(shape), "steps": args.steps, "threads": args.threads,
                  "algorithm": args.algorithm, "conv_benchmark": args.conv_benchmark, "allocator": allocator()}
        if args.saved_columns_mb is not None:      # a row of its own (the default's rows keep their key)
            config["saved_columns_mb"] = args.saved_columns_mb
        record("step", args.model, config, result)


if __name__ == "__main__":
    main()
