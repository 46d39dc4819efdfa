"""Training-step time of a whole model, minicnn and PyTorch side by side.

    python benchmarks/step_time.py --model alexnet --batch-size 64 --steps 5 --compare torch

Both frameworks train the same architecture on the same random batch in the same process,
interleaved step by step after warm-up (so machine noise hits both alike): forward, cross
entropy, backward, SGD (momentum 0.9) step. Peak RSS is measured for each in its own
subprocess (``--only``), since one process holding both would mix their memory.
"""
import argparse
import json
import os
import subprocess
import sys

import numpy as np

from common import peak_rss_mb, record, summarize, timed, try_torch

MODELS = {  # name: (input shape, default batch, classes)
    "alexnet": ((1, 224, 224), 64, 10),
    "mnist_cnn": ((1, 28, 28), 100, 10),
    "resnet18": ((3, 224, 224), 32, 1000),
    "lenet": ((1, 28, 28), 256, 10),
}


def minicnn_step_fn(name, shape, batch, classes):
    import minicnn as mc
    from minicnn import functional as F, optim
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
           "--steps", "2", "--warmup", "1", "--only", framework, "--threads", str(args.threads)]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["peak_rss_mb"]


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=sorted(MODELS), default="alexnet")
    p.add_argument("--batch-size", type=int, default=None)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--compare", choices=("torch", "none"), default="torch")
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--only", choices=("minicnn", "torch"), help=argparse.SUPPRESS)
    p.add_argument("--no-record", action="store_true", help="do not append to results.jsonl")
    args = p.parse_args()
    shape, default_batch, classes = MODELS[args.model]
    args.batch_size = args.batch_size or default_batch
    # --only minicnn must not import torch at all (its libraries and thread pools would count in the RSS)
    wants_torch = args.only == "torch" or (args.only is None and args.compare == "torch")
    torch = try_torch(args.threads) if wants_torch else None

    if args.only:
        step = (minicnn_step_fn(args.model, shape, args.batch_size, classes) if args.only == "minicnn"
                else torch_step_fn(args.model, shape, args.batch_size, classes, torch))
        for _ in range(args.warmup + args.steps):
            step()
        print(json.dumps({"peak_rss_mb": peak_rss_mb(), "torch_imported": "torch" in sys.modules}))
        return

    steps = {"minicnn": minicnn_step_fn(args.model, shape, args.batch_size, classes)}
    if torch is not None:
        steps["torch"] = torch_step_fn(args.model, shape, args.batch_size, classes, torch)
    for _ in range(args.warmup):
        for fn in steps.values():
            fn()
    times = {k: [] for k in steps}
    for _ in range(args.steps):
        for k, fn in steps.items():  # interleaved: each step of one, then one of the other
            times[k].append(timed(fn))
    result = {}
    for k in steps:
        s = summarize(times[k])
        s["images_per_s"] = args.batch_size / s["median_s"]
        s["peak_rss_mb"] = measure_rss(args, k)
        result[k] = s
    if "torch" in result:
        result["ratio_median"] = result["minicnn"]["median_s"] / result["torch"]["median_s"]
        result["ratio_rss"] = result["minicnn"]["peak_rss_mb"] / result["torch"]["peak_rss_mb"]
    print(f"{args.model} b{args.batch_size} input {shape}, {args.steps} steps after {args.warmup} warm-up, "
          f"{args.threads} threads")
    for k in steps:
        s = result[k]
        print(f"  {k:8s} median {s['median_s']:.4f} s  min {s['min_s']:.4f} s  "
              f"{s['images_per_s']:.1f} img/s  peak RSS {s['peak_rss_mb']:.0f} MB")
    if "ratio_median" in result:
        print(f"  ratio minicnn/PyTorch: time {result['ratio_median']:.2f}x, peak RSS {result['ratio_rss']:.2f}x")
    if not args.no_record:
        record("step", args.model, {"batch_size": args.batch_size, "input": list(shape), "steps": args.steps,
                                    "threads": args.threads}, result)


if __name__ == "__main__":
    main()
