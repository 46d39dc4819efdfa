"""Per-op forward+backward time, minicnn vs PyTorch: every conv of AlexNet (batch 64) and VGG-11
(batch 16) under each conv algorithm, and AlexNet's other ops.

    python benchmarks/op_time.py --net alexnet --repeat 5
    python benchmarks/op_time.py --net vgg11 --repeat 3 --ops convs

Each op runs forward, then backward with a fixed upstream gradient. For a conv, minicnn runs
once per algorithm (im2col, and Winograd F(m×m, r×r) where it applies: stride 1, a tile for r)
and PyTorch once, interleaved in one process after a warm-up, so machine noise hits all alike.
Rows give the median and the min over the repetitions (at least 3), the load average before and
after, and the threads of both frameworks.
"""
import argparse
import os
import statistics
import time

import numpy as np

from common import load_average, record, try_torch

NETS = {  # name: (batch, convs as (name, in, out, k, stride, pad, input side))
    "alexnet": (64, [("conv1", 1, 96, 11, 4, 1, 224), ("conv2", 96, 256, 5, 1, 2, 26), ("conv3", 256, 384, 3, 1, 1, 12),
                     ("conv4", 384, 384, 3, 1, 1, 12), ("conv5", 384, 256, 3, 1, 1, 12)]),
    "vgg11": (16, [("conv1", 3, 64, 3, 1, 1, 224), ("conv2", 64, 128, 3, 1, 1, 112), ("conv3", 128, 256, 3, 1, 1, 56),
                   ("conv4", 256, 256, 3, 1, 1, 56), ("conv5", 256, 512, 3, 1, 1, 28), ("conv6", 512, 512, 3, 1, 1, 28),
                   ("conv7", 512, 512, 3, 1, 1, 14), ("conv8", 512, 512, 3, 1, 1, 14)]),
}


def conv_cases(net, torch, batch=None):
    """(row name, arrays, {label: minicnn fn}, torch fn, grads) per conv of ``net``."""
    import minicnn as mc
    from minicnn import functional as F
    from minicnn.functional.winograd import winograd_conv2d
    tF = torch.nn.functional if torch else None
    default_batch, convs = NETS[net]
    batch = batch or default_batch
    rng = np.random.default_rng(0)
    out = []
    for name, cin, cout, k, s, p, side in convs:
        x = rng.standard_normal((batch, cin, side, side)).astype(np.float32)
        w = (rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))).astype(np.float32)
        b = np.zeros(cout, np.float32)

        def im2col(x, w, b, s=s, p=p):
            mc.backends.conv.algorithm = "im2col"
            return F.conv2d(x, w, b, stride=s, padding=p)

        fns = {"im2col": im2col}
        tile = mc.backends.conv.winograd_tiles.get(k)
        if s == 1 and tile:
            fns[f"winograd F({tile}x{tile},{k}x{k})"] = lambda x, w, b, p=p: winograd_conv2d(x, w, b, padding=p)
        grads = (cin > 3, True, True)   # a first layer's input needs no gradient
        out.append((f"{net} {name} {cin}->{cout} {k}x{k}/s{s} @{side} b{batch}", (x, w, b), fns,
                    (lambda x, w, b, s=s, p=p: tF.conv2d(x, w, b, stride=s, padding=p)) if torch else None, grads))
    return out


def other_cases(torch):
    """AlexNet's non-conv ops at batch 64."""
    from minicnn import functional as F
    tF = torch.nn.functional if torch else None
    rng = np.random.default_rng(0)

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    out = [("maxpool 3/2 (96x54x54) b64", (arr(64, 96, 54, 54),), {"": lambda x: F.max_pool2d(x, 3, 2)},
            (lambda x: tF.max_pool2d(x, 3, 2)) if torch else None, (True,)),
           ("relu (96x54x54) b64", (arr(64, 96, 54, 54),), {"": F.relu}, tF.relu if torch else None, (True,)),
           ("lrn n=5 (96x54x54) b64", (np.abs(arr(64, 96, 54, 54)),), {"": lambda x: F.local_response_norm(x, 5)},
            (lambda x: tF.local_response_norm(x, 5)) if torch else None, (True,))]
    rm, rv = np.zeros(96, np.float32), np.ones(96, np.float32)
    out.append(("batchnorm train (96x54x54) b64", (arr(64, 96, 54, 54), np.ones(96, np.float32), np.zeros(96, np.float32)),
                {"": lambda x, g, b: F.batch_norm(x, rm.copy(), rv.copy(), g, b, training=True)},
                (lambda x, g, b: tF.batch_norm(x, torch.zeros(96), torch.ones(96), g, b, training=True)) if torch else None,
                (True, True, True)))
    out.append(("linear 6400->4096 b64", (arr(64, 6400), arr(4096, 6400) * 0.01, arr(4096)), {"": F.linear},
                tF.linear if torch else None, (True, True, True)))
    return out


def run_minicnn(fn, arrays, grads):
    import minicnn as mc
    tensors = [mc.Tensor(a, requires_grad=g) for a, g in zip(arrays, grads)]
    t0 = time.perf_counter()
    y = fn(*tensors)
    t1 = time.perf_counter()
    y.backward(np.ones(y.shape, dtype=np.float32))
    return t1 - t0, time.perf_counter() - t0


def run_torch(torch, fn, arrays, grads):
    tensors = [torch.from_numpy(a).requires_grad_(g) for a, g in zip(arrays, grads)]
    t0 = time.perf_counter()
    y = fn(*tensors)
    t1 = time.perf_counter()
    y.backward(torch.ones_like(y))
    return t1 - t0, time.perf_counter() - t0


def summary(times):
    fwd, both = [t[0] for t in times], [t[1] for t in times]
    return {"forward_s": statistics.median(fwd), "forward_min_s": min(fwd),
            "fwd_bwd_s": statistics.median(both), "fwd_bwd_min_s": min(both), "n": len(times)}


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--net", choices=sorted(NETS) + ["all"], default="alexnet")
    p.add_argument("--ops", choices=("convs", "all"), default="all", help="all: AlexNet's other ops too")
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--batch", type=int, default=None, help="override the nets' batch (64 AlexNet, 16 VGG-11)")
    p.add_argument("--threads", type=int, default=len(os.sched_getaffinity(0)))
    p.add_argument("--no-record", action="store_true")
    args = p.parse_args()
    if args.repeat < 3:
        p.error(f"--repeat must be at least 3 (median and min), got {args.repeat}")
    import minicnn as mc
    mc.threads.set_num_threads(args.threads)
    torch = try_torch(args.threads)
    threads = {"minicnn": mc.threads.describe(), "torch": torch.get_num_threads() if torch else None}
    print(f"load average {load_average()}, threads {threads}", flush=True)
    cases = [c for net in (sorted(NETS) if args.net == "all" else [args.net]) for c in conv_cases(net, torch, args.batch)]
    if args.ops == "all":
        cases += other_cases(torch)
    for name, arrays, mfns, tfn, grads in cases:
        runs = {f"minicnn {label}".strip(): (lambda f=f: run_minicnn(f, arrays, grads)) for label, f in mfns.items()}
        if tfn is not None:
            runs["torch"] = lambda: run_torch(torch, tfn, arrays, grads)
        load_before = load_average()
        for fn in runs.values():
            fn()  # warm-up (and Numba compilation)
        times = {k: [] for k in runs}
        for _ in range(args.repeat):
            for k, fn in runs.items():   # interleaved
                times[k].append(fn())
        load_after = load_average()
        results = {k: summary(v) for k, v in times.items()}
        for label in runs:
            if label == "torch":
                continue
            m, t = results[label], results.get("torch")
            algorithm = label[len("minicnn"):].strip() or "-"
            row = {"minicnn": m, "algorithm": algorithm, "threads": threads,
                   "load_average": {"before": load_before, "after": load_after}}
            line = (f"{name:40s} {algorithm:22s} minicnn fwd {m['forward_s'] * 1e3:8.1f} ms  fwd+bwd "
                    f"{m['fwd_bwd_s'] * 1e3:8.1f} ms (min {m['fwd_bwd_min_s'] * 1e3:8.1f})")
            if t is not None:
                row["torch"] = t
                for key in ("forward_s", "fwd_bwd_s"):
                    row[f"ratio_{key[:-2]}"] = m[key] / t[key]
                line += (f" | torch fwd {t['forward_s'] * 1e3:8.1f} ms  fwd+bwd {t['fwd_bwd_s'] * 1e3:8.1f} ms"
                         f" | ratio {row['ratio_forward']:.2f}x / {row['ratio_fwd_bwd']:.2f}x")
            print(line, flush=True)
            if not args.no_record:
                record("op", f"{name} [{algorithm}]", {"threads": args.threads, "repeat": args.repeat}, row)


if __name__ == "__main__":
    main()
