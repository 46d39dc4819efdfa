"""Forward and backward time of single conv layers under each algorithm (im2col, Winograd),
interleaved, median of 3 after one warm-up: the measurements behind the "auto" rule in
minicnn/backends/convolution.py and the Winograd section of ANALYSIS.md.

    python benchmarks/conv_algorithms.py
"""
import statistics
import time

import numpy as np

import minicnn as mc
from minicnn import functional as F
shapes = [("alexnet conv2 96->256 5x5 @26 b64", 64, 96, 256, 5, 26, 2),
          ("alexnet conv4 384->384 3x3 @12 b64", 64, 384, 384, 3, 12, 1),
          ("vgg 256->256 3x3 @56 b16", 16, 256, 256, 3, 56, 1),
          ("vgg 512->512 3x3 @28 b16", 16, 512, 512, 3, 28, 1),
          ("resnet 64->64 3x3 @56 b32", 32, 64, 64, 3, 56, 1)]
rng = np.random.default_rng(0)
for name, N, C, O, k, H, p in shapes:
    x = mc.Tensor(rng.standard_normal((N, C, H, H)).astype(np.float32), requires_grad=True)
    w = mc.Tensor(rng.standard_normal((O, C, k, k)).astype(np.float32) * 0.01, requires_grad=True)
    res = {}
    for rep in range(4):
        for alg in ("im2col", "winograd"):
            mc.backends.conv.algorithm = alg
            t0 = time.perf_counter(); y = F.conv2d(x, w, padding=p); t1 = time.perf_counter()
            y.backward(np.ones(y.shape, np.float32)); t2 = time.perf_counter()
            x.grad = w.grad = None
            if rep: res.setdefault(alg, []).append((t1 - t0, t2 - t1))
    line = name
    for alg, v in res.items():
        f = statistics.median(a for a, b in v); b = statistics.median(b for a, b in v)
        line += f" | {alg}: fwd {f*1e3:.0f} ms bwd {b*1e3:.0f} ms"
    print(line, flush=True)
