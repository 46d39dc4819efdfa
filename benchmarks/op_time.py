"""Per-op forward+backward time at AlexNet's shapes (batch 64), minicnn vs PyTorch.

    python benchmarks/op_time.py --repeat 5

Each op runs forward, then backward with a fixed upstream gradient; minicnn and PyTorch
alternate after a warm-up. The ratio minicnn/PyTorch is reported for forward and for
forward+backward.
"""
import argparse
import os
import statistics
import time

import numpy as np

from common import record, try_torch

N = 64
# name: (minicnn call, torch call, input shape, parameter shapes)
CONVS = [  # d2l AlexNet's five convolutions: (in, out, k, stride, pad, input side)
    ("conv1", 1, 96, 11, 4, 1, 224), ("conv2", 96, 256, 5, 1, 2, 26), ("conv3", 256, 384, 3, 1, 1, 12),
    ("conv4", 384, 384, 3, 1, 1, 12), ("conv5", 384, 256, 3, 1, 1, 12)]


def cases(torch):
    import minicnn as mc
    from minicnn import functional as F
    tF = torch.nn.functional if torch else None
    rng = np.random.default_rng(0)

    def arr(*shape):
        return rng.standard_normal(shape).astype(np.float32)

    out = []
    for name, cin, cout, k, s, p, side in CONVS:
        x, w, b = arr(N, cin, side, side), arr(cout, cin, k, k) * 0.01, arr(cout)
        out.append((name, (x, w, b), lambda x, w, b, s=s, p=p: F.conv2d(x, w, b, stride=s, padding=p),
                    (lambda x, w, b, s=s, p=p: tF.conv2d(x, w, b, stride=s, padding=p)) if torch else None,
                    (True, True, True) if name != "conv1" else (False, True, True)))
    out.append(("maxpool 3/2 (96x54x54)", (arr(N, 96, 54, 54),), lambda x: F.max_pool2d(x, 3, 2),
                (lambda x: tF.max_pool2d(x, 3, 2)) if torch else None, (True,)))
    out.append(("relu (96x54x54)", (arr(N, 96, 54, 54),), lambda x: F.relu(x),
                (lambda x: tF.relu(x)) if torch else None, (True,)))
    out.append(("lrn n=5 (96x54x54)", (np.abs(arr(N, 96, 54, 54)),), lambda x: F.local_response_norm(x, 5),
                (lambda x: tF.local_response_norm(x, 5)) if torch else None, (True,)))
    rm, rv = np.zeros(96, np.float32), np.ones(96, np.float32)
    out.append(("batchnorm train (96x54x54)", (arr(N, 96, 54, 54), np.ones(96, np.float32), np.zeros(96, np.float32)),
                lambda x, g, b: F.batch_norm(x, rm.copy(), rv.copy(), g, b, training=True),
                (lambda x, g, b: tF.batch_norm(x, torch.zeros(96), torch.ones(96), g, b, training=True)) if torch else None,
                (True, True, True)))
    out.append(("linear 6400->4096", (arr(N, 6400), arr(4096, 6400) * 0.01, arr(4096)), lambda x, w, b: F.linear(x, w, b),
                (lambda x, w, b: tF.linear(x, w, b)) if torch else None, (True, True, True)))
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


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--no-record", action="store_true")
    args = p.parse_args()
    torch = try_torch(args.threads)
    for name, arrays, mfn, tfn, grads in cases(torch):
        runs = {"minicnn": lambda: run_minicnn(mfn, arrays, grads)}
        if tfn is not None:
            runs["torch"] = lambda: run_torch(torch, tfn, arrays, grads)
        for fn in runs.values():
            fn()  # warm-up (and Numba compilation)
        times = {k: [] for k in runs}
        for _ in range(args.repeat):
            for k, fn in runs.items():
                times[k].append(fn())
        result = {k: {"forward_s": statistics.median(t[0] for t in v), "fwd_bwd_s": statistics.median(t[1] for t in v)}
                  for k, v in times.items()}
        line = f"{name:28s} minicnn fwd {result['minicnn']['forward_s'] * 1e3:8.1f} ms  fwd+bwd {result['minicnn']['fwd_bwd_s'] * 1e3:8.1f} ms"
        if "torch" in result:
            for key in ("forward_s", "fwd_bwd_s"):
                result[f"ratio_{key[:-2]}"] = result["minicnn"][key] / result["torch"][key]
            line += (f" | torch fwd {result['torch']['forward_s'] * 1e3:8.1f} ms  fwd+bwd {result['torch']['fwd_bwd_s'] * 1e3:8.1f} ms"
                     f" | ratio {result['ratio_forward']:.2f}x / {result['ratio_fwd_bwd']:.2f}x")
        print(line, flush=True)
        if not args.no_record:
            record("op", name, {"batch": N, "threads": args.threads, "repeat": args.repeat}, result)


if __name__ == "__main__":
    main()
