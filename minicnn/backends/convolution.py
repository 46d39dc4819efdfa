"""How F.conv2d computes a convolution: im2col + GEMM, or Winograd F(m×m, r×r).

    import minicnn as mc
    mc.backends.conv.algorithm = "auto"       # default: im2col, or the autotuner's measured choice
    mc.backends.conv.algorithm = "im2col"     # always im2col (the reference algorithm)
    mc.backends.conv.algorithm = "winograd"   # Winograd wherever it applies, im2col elsewhere
    mc.backends.conv.benchmark = True         # "auto" times both on the first call per shape
    mc.backends.conv.winograd_tiles = {3: 4, 5: 2}   # r -> m: F(4×4, 3×3) and F(2×2, 5×5)
    mc.backends.conv.workspace_bytes = 256 << 20     # cap on one conv's column/transform buffers
    mc.backends.conv.saved_columns_bytes = 768 << 20 # cap on the columns all convs keep for backward

Winograd applies to stride 1, dilation 1, square r×r kernels with an r in ``winograd_tiles``,
on float32/float64 arrays (float16 keeps im2col: its 11-bit mantissa cannot afford the
transforms' rounding).

The "auto" heuristic (without ``benchmark``) compares multiply-adds per m×m tile of output,
per group (Cg = C/groups, Og = O/groups, α = m + r - 1, e = Ho·Wo / (th·tw·m²) the share of
the tiles' outputs that are kept; the border tiles stick out):

    im2col     r² · Cg · Og · m² · e                 the GEMM, for the outputs it computes
    Winograd   α² · Cg · Og                          its α² GEMMs, one column per tile
             + κ · (2α³ · Cg + m·α·(α+m) · Og)       input and output tile transforms

The transforms are paid per channel, the GEMM per channel pair, so Winograd wins when both
channel counts are large. κ = 4 prices a transform multiply-add (a scalar, memory-bound
loop) against a BLAS one; it is an estimate, not a measurement (the autotuner measures).
Winograd is chosen when im2col / Winograd >= 1.5, the batch has N·th·tw >= 64 tiles (the
GEMMs' width: skinny GEMMs run far below the BLAS peak), and the array is a NumPy array (on
CuPy the im2col kernels are tuned and Winograd runs only when forced). So the first layers of
image networks (1 or 3 input channels) and layers with few channels stay on im2col.

Measured on this project's 2-core CPU (AVX-512, OpenBLAS 0.3.30, idle, 2026-12-02), the
model above is not calibrated: it predicts Winograd 3-3.5x cheaper at AlexNet's conv3-5 and
VGG-11's wide layers, but forward+backward measured 0.6-0.8x of im2col's speed at AlexNet's
conv2/conv4 and ResNet-18's 64-channel layers, 1.0x at VGG's 512->512 @28 and 1.1x at its
256->256 @56, and every whole training step was faster with im2col (AlexNet b64 2.22 vs
3.27 s, ResNet-18 b32 3.96 vs 5.73 s, VGG-11 b16 4.71 vs 5.79 s). So "auto" without the
autotuner uses im2col (``WINOGRAD_BY_DEFAULT = False``); set it True to follow the cost model,
force ``algorithm = "winograd"``, or let ``benchmark = True`` measure. Winograd does keep less
memory (ResNet-18 b32 peak RSS 1511 vs 2879 MB). On a 2-core AVX2 machine (AMD EPYC, no
AVX-512) it was slower too: the AlexNet b64 step was 1.61x PyTorch's with Winograd forced and
1.04x with im2col (benchmarks/ANALYSIS.md).

The autotuner (``benchmark = True``, the role of torch.backends.cudnn.benchmark) runs each
candidate's forward once to warm up (Numba compiles on first use), then once timed, on the
first call of every (shape, dtype, stride, padding, dilation, groups) and keeps the faster.
It changes timing only, never results beyond float rounding. ``decisions`` maps each key
seen to the algorithm used, for benchmark reports.

What backward keeps: an im2col conv keeps its columns for dW = gY·colsᵀ while the columns
kept by all live convs stay under ``saved_columns_bytes``; past that, a conv keeps its input
x (kh·kw times smaller) and rebuilds the columns in backward, as PyTorch keeps x. The first
convs of the forward pass fill the budget. 0 keeps x everywhere (least memory, one more
im2col per conv); a huge value keeps every conv's columns (no rebuild, most memory).
"""
import numbers
import time

import numpy as np

ALGORITHMS = ("auto", "im2col", "winograd")
TRANSFORM_COST = 4      # κ: a tile-transform multiply-add, in BLAS multiply-adds (an estimate)
MIN_SAVING = 1.5        # im2col cost / Winograd cost (transforms and tile efficiency included)
MIN_TILES = 64          # tiles in the batch = columns of each of Winograd's GEMMs
WINOGRAD_BY_DEFAULT = False   # the cost model above picks for "auto" (measured slower: see above)


class ConvBackend:
    """The conv settings object (``mc.backends.conv``); assignments are checked at once."""

    def __init__(self):
        self._algorithm = "auto"
        self._benchmark = False
        self._tiles = {3: 4, 5: 2}
        from ..kernels.memory import CHUNK_BYTES, SAVED_COLUMNS_BYTES
        self._saved_columns_bytes = SAVED_COLUMNS_BYTES
        self._workspace_bytes = CHUNK_BYTES
        self.decisions = {}     # key -> "im2col" | "winograd", every key seen
        self._tuned = {}        # key -> winner of the autotuner

    # --- settings --------------------------------------------------------------------------
    @property
    def algorithm(self):
        return self._algorithm

    @algorithm.setter
    def algorithm(self, value):
        if value not in ALGORITHMS:
            raise ValueError(f"mc.backends.conv.algorithm: expected one of {ALGORITHMS}, got {value!r}")
        self._algorithm = value
        self.decisions.clear()

    @property
    def benchmark(self):
        return self._benchmark

    @benchmark.setter
    def benchmark(self, value):
        if not isinstance(value, (bool, np.bool_)):
            raise TypeError(f"mc.backends.conv.benchmark: expected True or False, got {value!r}")
        self._benchmark = bool(value)
        self.decisions.clear()

    @property
    def winograd_tiles(self):
        """{r: m}: the output tile F(m×m, r×r) used for r×r kernels (a copy; assign to change)."""
        return dict(self._tiles)

    @winograd_tiles.setter
    def winograd_tiles(self, value):
        if not isinstance(value, dict) or not all(
                isinstance(k, numbers.Integral) and isinstance(v, numbers.Integral) and k >= 2 and v >= 1
                for k, v in value.items()):
            raise ValueError(f"mc.backends.conv.winograd_tiles: expected {{r: m}} with ints r >= 2, m >= 1, "
                             f"got {value!r}")
        if any(k + v - 1 > 12 for k, v in value.items()):
            raise ValueError(f"mc.backends.conv.winograd_tiles: m + r - 1 must be at most 12 (there are "
                             f"11 interpolation points), got {value!r}")
        self._tiles = {int(k): int(v) for k, v in value.items()}
        self.decisions.clear()
        self._tuned.clear()

    @property
    def workspace_bytes(self):
        return self._workspace_bytes

    @workspace_bytes.setter
    def workspace_bytes(self, value):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 1:
            raise ValueError(f"mc.backends.conv.workspace_bytes: expected a positive int, got {value!r}")
        self._workspace_bytes = int(value)

    @property
    def saved_columns_bytes(self):
        return self._saved_columns_bytes

    @saved_columns_bytes.setter
    def saved_columns_bytes(self, value):
        if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < 0:
            raise ValueError(f"mc.backends.conv.saved_columns_bytes: expected an int >= 0, got {value!r}")
        self._saved_columns_bytes = int(value)

    def may_keep_columns(self, nbytes):
        """True when a conv may keep ``nbytes`` of columns for backward under ``saved_columns_bytes``."""
        from ..kernels.memory import kept_bytes
        return kept_bytes() + nbytes <= self._saved_columns_bytes

    def chunk(self, n, bytes_per_sample):
        """Samples per chunk so that one chunk's buffers stay under ``workspace_bytes`` (at least 1)."""
        from ..kernels.memory import chunk_length
        return chunk_length(n, bytes_per_sample, limit=self._workspace_bytes)

    # --- the choice ------------------------------------------------------------------------
    def winograd_tile(self, x, weight_shape, stride, dilation):
        """m of F(m×m, r×r) for this call, or None where Winograd does not apply."""
        O, Cg, kh, kw = weight_shape
        if (tuple(stride) != (1, 1) or tuple(dilation) != (1, 1) or kh != kw or kh not in self._tiles
                or np.dtype(x.dtype) not in (np.float32, np.float64) or x.shape[0] == 0):
            return None
        return self._tiles[kh]

    def choose(self, x, weight_shape, stride, padding, dilation, groups, run=None):
        """"im2col" or "winograd" for this call. ``run(algorithm)`` runs that candidate's
        forward once; the autotuner needs it (without it, the heuristic decides)."""
        key = (type(x).__module__.split(".")[0], tuple(x.shape), np.dtype(x.dtype).str, tuple(weight_shape),
               tuple(stride), tuple(padding), tuple(dilation), groups)
        m = self.winograd_tile(x, weight_shape, stride, dilation)
        if m is None or self._algorithm == "im2col":
            choice = "im2col"
        elif self._algorithm == "winograd":
            choice = "winograd"
        elif self._benchmark and run is not None:
            choice = self._tuned.get(key) or self._autotune(key, run)
        else:
            choice = ("winograd" if WINOGRAD_BY_DEFAULT and self.winograd_pays(x, weight_shape, padding, groups, m)
                      else "im2col")
        self.decisions[key] = choice
        return choice

    @staticmethod
    def winograd_pays(x, weight_shape, padding, groups, m):
        """The "auto" heuristic of the module docstring."""
        if type(x) is not np.ndarray:
            return False
        O, Cg, r, _ = weight_shape
        Og = O // groups
        Ho, Wo = (s + 2 * p - r + 1 for s, p in zip(x.shape[2:], padding))
        th, tw = -(-Ho // m), -(-Wo // m)
        if x.shape[0] * th * tw < MIN_TILES:
            return False
        efficiency = Ho * Wo / (th * tw * m * m)
        alpha = m + r - 1
        im2col = r * r * Cg * Og * m * m * efficiency
        winograd = (alpha * alpha * Cg * Og
                    + TRANSFORM_COST * (2 * alpha ** 3 * Cg + m * alpha * (alpha + m) * Og))
        return im2col / winograd >= MIN_SAVING

    def _autotune(self, key, run):
        times = {}
        for name in ("im2col", "winograd"):
            run(name)                                  # warm-up: Numba compiles, buffers exist
            start = time.perf_counter()
            run(name)
            times[name] = time.perf_counter() - start
        self._tuned[key] = min(times, key=times.get)
        return self._tuned[key]

    def reset(self):
        """Forget the autotuner's winners and the decisions seen (settings are kept)."""
        self.decisions.clear()
        self._tuned.clear()
