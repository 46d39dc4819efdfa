"""GPU training-step time and memory: minicnn on CuPy vs PyTorch+cuDNN on the same GPU.

    python benchmarks/gpu_step_time.py --model alexnet --batch-size 128 256 --steps 20 --warmup 3
    python benchmarks/gpu_step_time.py --model alexnet --batch-size 256 --amp     # float16 + loss scaling

Both frameworks train the same architecture on the same random device-resident batch in
one process (data loading excluded), interleaved step by step after warm-up, and every
step is timed between two device synchronizations. Memory: minicnn's is the most the
CuPy memory pool held after any step (the pool keeps what it once needed, so this is
the peak), PyTorch's is ``torch.cuda.max_memory_allocated`` (and ``..._reserved``).
Each row goes to results.jsonl (kind "gpu_step") and the table in benchmarks/GPU.md is
rebuilt from them (make_results.py appends GPU.md to RESULTS.md).

``--backend numpy --torch-device cpu`` runs the same code on the CPU, to smoke-test the
script on a machine without a GPU; its rows are not recorded, unless ``--dry-run`` asks
for it (benchmarks/gpu_check.sh's CPU rehearsal does, into a scratch copy of benchmarks/),
and then the row is marked a dry run in results.jsonl and in the table.
"""
import argparse
import contextlib
import gc
import sys

import numpy as np

from common import record, summarize
from gpu_record import gpu_facts, gpu_table

MODELS = {"alexnet": ((1, 224, 224), 10), "mnist_cnn": ((1, 28, 28), 10)}


def size_kwargs(args):
    return {"input_size": args.input_size} if args.input_size else {}


def minicnn_setup(args, batch, shape, classes):
    import minicnn as mc
    from minicnn import functional as F, optim
    from minicnn.amp import MixedPrecision
    mc.set_backend(args.backend)
    mc.manual_seed(0)
    xp = mc.backend.backend_module(args.backend)
    model = mc.models.get_model(args.model, num_classes=classes, in_channels=shape[0], **size_kwargs(args))
    model.to(args.backend)
    opt = optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = mc.Tensor(xp.asarray(rng.standard_normal((batch,) + shape).astype(np.float32)))
    y = xp.asarray(rng.integers(0, classes, batch))
    amp = MixedPrecision(model) if args.amp else None
    if args.amp and args.backend == "numpy":   # CPU smoke test: Numba's CPU kernels have no float16
        mc.kernels.set_kernels("numpy")

    def step():
        # under amp the first steps may overflow float16 on purpose (the scaler then backs off):
        # on NumPy that is a RuntimeWarning per op, not news
        with np.errstate(over="ignore", invalid="ignore") if amp else contextlib.nullcontext():
            opt.zero_grad()
            loss = F.cross_entropy(amp.forward(x) if amp else model(x), y)
            loss.backward()
            amp.step(opt) if amp else opt.step()

    if args.backend == "cupy":
        import cupy
        pool = cupy.get_default_memory_pool()   # held = total_bytes: what the pool took from the GPU
        return step, cupy.cuda.Device().synchronize, lambda: pool.total_bytes()
    return step, lambda: None, lambda: 0


def torch_setup(args, batch, shape, classes, torch):
    import torch_models
    device = torch.device(args.torch_device)
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    model = torch_models.TORCH_MODELS[args.model](num_classes=classes, in_channels=shape[0], **size_kwargs(args)).to(device)
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rng = np.random.default_rng(0)
    x = torch.from_numpy(rng.standard_normal((batch,) + shape).astype(np.float32)).to(device)
    y = torch.from_numpy(rng.integers(0, classes, batch)).to(device)
    scaler = torch.amp.GradScaler(device.type) if args.amp else None

    def step():
        opt.zero_grad()
        with torch.autocast(device.type, dtype=torch.float16, enabled=args.amp):
            loss = torch.nn.functional.cross_entropy(model(x), y)
        if scaler:
            scaler.scale(loss).backward()
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            opt.step()

    if device.type == "cuda":
        return step, torch.cuda.synchronize, torch.cuda.max_memory_allocated
    return step, lambda: None, lambda: 0


def timed_step(step, sync):
    import time
    sync()
    start = time.perf_counter()
    step()
    sync()
    return time.perf_counter() - start


def device_facts(args, torch):
    facts = gpu_facts(dry_run=args.backend != "cupy")
    if torch is not None:
        facts["torch"] = torch.__version__
        facts["cudnn"] = torch.backends.cudnn.version() if args.torch_device == "cuda" else None
    return facts


def free_device_memory(args, torch):
    """Start each configuration from an empty CuPy pool and fresh PyTorch peaks, so a
    smaller batch's figure is not the larger one's left-over."""
    gc.collect()
    if args.backend == "cupy":
        import cupy
        cupy.get_default_memory_pool().free_all_blocks()
    if torch is not None and args.torch_device == "cuda":
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()


def run_one(args, batch, torch):
    shape, classes = MODELS[args.model]
    if args.input_size:
        shape = (shape[0], args.input_size, args.input_size)
    free_device_memory(args, torch)
    fns = {"minicnn": minicnn_setup(args, batch, shape, classes)}
    if torch is not None:
        fns["torch"] = torch_setup(args, batch, shape, classes, torch)
    for _ in range(args.warmup):
        for step, sync, _ in fns.values():
            timed_step(step, sync)
    times, memory = {k: [] for k in fns}, {k: 0 for k in fns}
    for _ in range(args.steps):
        for name, (step, sync, mem) in fns.items():   # interleaved, so drift hits both
            times[name].append(timed_step(step, sync))
            memory[name] = max(memory[name], int(mem()))
    result = {}
    for name in fns:
        s = summarize(times[name])
        s["images_per_s"] = batch / s["median_s"]
        s["memory_mb"] = memory[name] / 2**20
        result[name] = s
    if torch is not None and args.torch_device == "cuda":
        result["torch"]["reserved_mb"] = torch.cuda.max_memory_reserved() / 2**20
    if "torch" in result:
        result["ratio_median"] = result["minicnn"]["median_s"] / result["torch"]["median_s"]
    return result


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", choices=sorted(MODELS), default="alexnet")
    p.add_argument("--batch-size", type=int, nargs="+", default=[128, 256])
    p.add_argument("--steps", type=int, default=20)
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--amp", action="store_true", help="float16 compute: minicnn.amp vs torch.autocast")
    p.add_argument("--compare", choices=("torch", "none"), default="torch")
    p.add_argument("--backend", choices=("cupy", "numpy"), default="cupy", help="numpy: CPU smoke test only")
    p.add_argument("--torch-device", choices=("cuda", "cpu"), default="cuda")
    p.add_argument("--input-size", type=int, default=None, help="image side (default: the model's own, 224 for AlexNet)")
    p.add_argument("--dry-run", action="store_true",
                   help="with --backend numpy: record the rows anyway, marked as a CPU dry run")
    args = p.parse_args(argv)
    if args.dry_run and args.backend == "cupy":
        p.error("--dry-run is the CPU rehearsal: use it with --backend numpy")
    if args.input_size is not None and args.input_size <= 0:
        p.error(f"--input-size must be positive, got {args.input_size}")
    torch = None
    if args.compare == "torch":
        import torch
    recorded = (args.backend == "cupy" and args.torch_device == "cuda") or args.dry_run
    for batch in args.batch_size:
        result = run_one(args, batch, torch)
        result["device"] = device_facts(args, torch)
        line = f"{args.model} b{batch} {'amp' if args.amp else 'fp32'}: minicnn {1e3 * result['minicnn']['median_s']:.1f} ms"
        if "torch" in result:
            line += f", PyTorch {1e3 * result['torch']['median_s']:.1f} ms, ratio {result['ratio_median']:.2f}x"
        print(line + f", memory minicnn {result['minicnn']['memory_mb']:.0f} MB", flush=True)
        if recorded:
            config = {"batch_size": batch, "amp": args.amp, "steps": args.steps}
            if args.dry_run:
                config.update(dry_run=True, input_size=args.input_size)
            record("gpu_step", args.model, config, result)
    if recorded:
        gpu_table()


if __name__ == "__main__":
    sys.exit(main())
