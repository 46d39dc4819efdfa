"""Batch transforms: each takes a float batch (N, C, H, W) of NumPy or CuPy and returns one.

Working on whole batches with the batch's own array module (``xp = get_array_module(x)``)
keeps the per-image Python loop out: a 28->224 resize of 256 images is two matmuls on the
GPU. Random transforms draw their numbers on the host from ``rng`` (a NumPy Generator; the
DataLoader passes one derived from its seed and epoch, so augmentation is reproducible even
with background prefetch) or, when ``rng`` is None, from the library RNG (``manual_seed``).
Only a few numbers per image are drawn, so NumPy and CuPy batches get identical augmentation.
"""
import numpy as np

from ..backend import get_array_module, to_device
from ..rng import get_rng


class Transform:
    """Base of the batch transforms: ``t(x, rng=None) -> x'``."""

    def __call__(self, x, rng=None):
        raise NotImplementedError

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


def apply_transform(transform, x, rng=None):
    """Call ``transform`` on batch ``x``, passing ``rng`` to minicnn transforms (plain callables get x only)."""
    return transform(x, rng=rng) if isinstance(transform, Transform) else transform(x)


def _generator(rng):
    return get_rng(np) if rng is None else rng


def _check_batch(name, x):
    if getattr(x, "ndim", None) != 4:
        raise ValueError(f"{name}: expected a batch (N, C, H, W), got shape {getattr(x, 'shape', type(x).__name__)}")


def _is_int(value):
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _pair(name, size):
    """(h, w) from a positive int or a pair of them: TypeError for a non-int, ValueError for a bad value."""
    pair = (size, size) if _is_int(size) else size
    if not isinstance(pair, (tuple, list)) or not all(_is_int(s) for s in pair):
        raise TypeError(f"{name}: expected size as a positive int or (h, w) of ints, got {size!r} "
                        f"({type(size).__name__})")
    if len(pair) != 2 or min(pair) <= 0:
        raise ValueError(f"{name}: expected size as a positive int or (h, w), got {tuple(pair)!r}")
    return tuple(int(s) for s in pair)


class Compose(Transform):
    """Apply ``transforms`` in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, x, rng=None):
        for t in self.transforms:
            x = apply_transform(t, x, rng)
        return x


def interpolation_matrix(in_size, out_size, dtype=np.float64):
    """(out_size, in_size) weights of 1-D linear interpolation, align_corners=False (PyTorch):
    source = max((i + 0.5) * in/out - 0.5, 0); the two nearest inputs share weight 1 - frac, frac."""
    dst = np.arange(out_size)
    src = np.maximum((dst + 0.5) * (in_size / out_size) - 0.5, 0.0)
    lo = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    frac = src - lo
    hi = np.minimum(lo + 1, in_size - 1)
    weights = np.zeros((out_size, in_size))
    np.add.at(weights, (dst, lo), 1.0 - frac)
    np.add.at(weights, (dst, hi), frac)
    return weights.astype(dtype)


class Resize(Transform):
    """Bilinear resize (align_corners=False, no antialias), as ``F.interpolate(mode="bilinear")``
    and torchvision's ``Resize(antialias=False)`` on tensors (upscaling, e.g. 28->224, is the same
    with or without antialias). ``size``: (h, w), or an int for the smaller edge (aspect kept).
    y = A_h @ x @ A_w^T with the two small interpolation matrices: separable and matmul-fast."""

    def __init__(self, size):
        self.size = int(size) if _is_int(size) and size > 0 else _pair("Resize", size)
        self._cache = {}

    def output_size(self, h, w):
        if not isinstance(self.size, int):
            return self.size
        if h <= w:
            return self.size, int(self.size * w / h)
        return int(self.size * h / w), self.size

    def __call__(self, x, rng=None):
        _check_batch("Resize", x)
        xp = get_array_module(x)
        h, w = x.shape[2:]
        oh, ow = self.output_size(h, w)
        key = (h, w, oh, ow, x.dtype.str, xp.__name__)
        if key not in self._cache:
            self._cache[key] = (xp.asarray(to_device(interpolation_matrix(h, oh, x.dtype), xp.__name__)),
                                xp.asarray(to_device(interpolation_matrix(w, ow, x.dtype).T, xp.__name__)))
        rows, cols = self._cache[key]
        # Two plain 2-D GEMMs: (Ho, H) @ (H, N*C*W), then (Ho*N*C, W) @ (W, Wo). A broadcast
        # rows @ (x @ cols) over the batch is ~20x slower on NumPy (no BLAS for stacked operands).
        n, c = x.shape[:2]
        t = rows @ x.transpose(2, 0, 1, 3).reshape(h, n * c * w)
        t = t.reshape(oh * n * c, w) @ cols
        return xp.ascontiguousarray(t.reshape(oh, n, c, ow).transpose(1, 2, 0, 3))


class Normalize(Transform):
    """y[:, c] = (x[:, c] - mean[c]) / std[c]."""

    def __init__(self, mean, std):
        self.mean, self.std = np.atleast_1d(np.asarray(mean, np.float64)), np.atleast_1d(np.asarray(std, np.float64))
        if self.mean.ndim != 1 or self.std.ndim != 1 or np.any(self.std == 0):
            raise ValueError(f"Normalize: expected per-channel mean and non-zero std, got mean={mean!r}, std={std!r}")

    def __call__(self, x, rng=None):
        _check_batch("Normalize", x)
        xp, c = get_array_module(x), x.shape[1]
        for name, v in (("mean", self.mean), ("std", self.std)):
            if len(v) not in (1, c):
                raise ValueError(f"Normalize: {name} has {len(v)} values, the batch has {c} channels")
        mean = xp.asarray(self.mean.astype(x.dtype)).reshape(-1, 1, 1)
        std = xp.asarray(self.std.astype(x.dtype)).reshape(-1, 1, 1)
        return (x - mean) / std


class SubtractMean(Transform):
    """y = x - mean, with mean a number, per channel (C,), or a mean image (C, H, W) (AlexNet's)."""

    def __init__(self, mean):
        self.mean = np.asarray(to_device(mean, "numpy"), np.float64)
        if self.mean.ndim == 1:
            self.mean = self.mean.reshape(-1, 1, 1)
        if self.mean.ndim not in (0, 3):
            raise ValueError(f"SubtractMean: expected a number, (C,) or (C, H, W) mean, got shape {self.mean.shape}")

    def __call__(self, x, rng=None):
        _check_batch("SubtractMean", x)
        try:
            np.broadcast_shapes(self.mean.shape, x.shape[1:])
        except ValueError:
            raise ValueError(f"SubtractMean: mean of shape {self.mean.shape} does not fit images "
                             f"{tuple(x.shape[1:])}") from None
        return x - get_array_module(x).asarray(self.mean.astype(x.dtype))


def _crop(name, x, size, top, left):
    h, w = size
    if h > x.shape[2] or w > x.shape[3]:
        raise ValueError(f"{name}: crop {h}x{w} is larger than the images {x.shape[2]}x{x.shape[3]}")
    return x[:, :, top:top + h, left:left + w]


def _center_offsets(x, size):
    return int(round((x.shape[2] - size[0]) / 2.0)), int(round((x.shape[3] - size[1]) / 2.0))


class CenterCrop(Transform):
    """The central size[0] x size[1] window (torchvision's rounding of the offsets)."""

    def __init__(self, size):
        self.size = _pair("CenterCrop", size)

    def __call__(self, x, rng=None):
        _check_batch("CenterCrop", x)
        return _crop("CenterCrop", x, self.size, *_center_offsets(x, self.size))


class RandomCrop(Transform):
    """Zero-pad by ``padding`` on each side, then cut a size window at an independent uniform
    offset per image (AlexNet: 224 of 256; the CIFAR ResNet: 32 of 32 padded by 4)."""

    def __init__(self, size, padding=0):
        self.size = _pair("RandomCrop", size)
        if not isinstance(padding, int) or padding < 0:
            raise ValueError(f"RandomCrop: expected padding >= 0, got {padding!r}")
        self.padding = padding

    def __call__(self, x, rng=None):
        _check_batch("RandomCrop", x)
        xp, p = get_array_module(x), self.padding
        if p:
            x = xp.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
        (h, w), (H, W), n = self.size, x.shape[2:], x.shape[0]
        if h > H or w > W:
            raise ValueError(f"RandomCrop: crop {h}x{w} is larger than the (padded) images {H}x{W}")
        gen = _generator(rng)
        top = gen.integers(0, H - h + 1, size=n)
        left = gen.integers(0, W - w + 1, size=n)
        rows = xp.asarray(top[:, None] + np.arange(h))[:, None, :, None]     # (N, 1, h, 1)
        cols = xp.asarray(left[:, None] + np.arange(w))[:, None, None, :]    # (N, 1, 1, w)
        batch = xp.arange(n)[:, None, None, None]
        chans = xp.arange(x.shape[1])[None, :, None, None]
        return x[batch, chans, rows, cols]


class RandomHorizontalFlip(Transform):
    """Mirror each image left-right with probability ``p``."""

    def __init__(self, p=0.5):
        if not 0 <= p <= 1:
            raise ValueError(f"RandomHorizontalFlip: expected 0 <= p <= 1, got {p!r}")
        self.p = p

    def __call__(self, x, rng=None):
        _check_batch("RandomHorizontalFlip", x)
        xp = get_array_module(x)
        flip = xp.asarray(_generator(rng).random(x.shape[0]) < self.p)[:, None, None, None]
        return xp.where(flip, x[..., ::-1], x)


class PCAColorAugmentation(Transform):
    """AlexNet's colour noise: add sum_i alpha_i * lambda_i * p_i to every RGB pixel of an image,
    p_i, lambda_i the eigenvectors (columns of ``eigvecs``) and eigenvalues of the RGB covariance,
    alpha_i ~ N(0, std^2) drawn once per image (std = 0.1 in the paper). See ``rgb_pca``."""

    def __init__(self, eigvals, eigvecs, std=0.1):
        self.eigvals = np.asarray(to_device(eigvals, "numpy"), np.float64)
        self.eigvecs = np.asarray(to_device(eigvecs, "numpy"), np.float64)
        if self.eigvals.shape != (3,) or self.eigvecs.shape != (3, 3):
            raise ValueError(f"PCAColorAugmentation: expected eigvals (3,) and eigvecs (3, 3), got "
                             f"{self.eigvals.shape} and {self.eigvecs.shape}")
        if std < 0:
            raise ValueError(f"PCAColorAugmentation: expected std >= 0, got {std!r}")
        self.std = std

    def __call__(self, x, rng=None):
        _check_batch("PCAColorAugmentation", x)
        if x.shape[1] != 3:
            raise ValueError(f"PCAColorAugmentation: expected RGB images (N, 3, H, W), got {tuple(x.shape)}")
        alpha = _generator(rng).normal(0.0, self.std, size=(x.shape[0], 3))
        shift = (alpha * self.eigvals) @ self.eigvecs.T       # (N, 3): row n = sum_i alpha_ni lambda_i p_i
        xp = get_array_module(x)
        return x + xp.asarray(shift.astype(x.dtype))[:, :, None, None]


def rgb_pca(batches):
    """(eigvals (3,) descending, eigvecs (3, 3) with eigenvectors as columns) of the covariance of
    RGB pixel values over ``batches``: one (N, 3, H, W) array, or an iterable of them / of
    (x, y) pairs (a DataLoader). Accumulated in float64 on the host."""
    if hasattr(batches, "ndim"):
        batches = [batches]
    total, outer, count = np.zeros(3), np.zeros((3, 3)), 0
    for batch in batches:
        x = batch[0] if isinstance(batch, (tuple, list)) else batch
        x = np.asarray(to_device(x, "numpy"), np.float64)
        if x.ndim != 4 or x.shape[1] != 3:
            raise ValueError(f"rgb_pca: expected batches (N, 3, H, W), got shape {x.shape}")
        pixels = x.transpose(1, 0, 2, 3).reshape(3, -1)
        total += pixels.sum(axis=1)
        outer += pixels @ pixels.T
        count += pixels.shape[1]
    if count < 2:
        raise ValueError("rgb_pca: need at least two pixels")
    mean = total / count
    cov = (outer - count * np.outer(mean, mean)) / (count - 1)
    eigvals, eigvecs = np.linalg.eigh(cov)
    order = np.argsort(eigvals)[::-1]
    return eigvals[order], eigvecs[:, order]


class TenCrop(Transform):
    """The 4 corner crops and the centre crop, then the same of the mirrored batch
    (torchvision's order: tl, tr, bl, br, centre; flipped ditto) -> (10, N, C, h, w).
    Evaluate with ``average_crops`` (the AlexNet paper's test-time averaging)."""

    def __init__(self, size):
        self.size = _pair("TenCrop", size)

    def __call__(self, x, rng=None):
        _check_batch("TenCrop", x)
        xp = get_array_module(x)
        return xp.stack(self._five(x) + self._five(x[..., ::-1]))

    def _five(self, x):
        (h, w), (H, W) = self.size, x.shape[2:]
        corners = [(0, 0), (0, W - w), (H - h, 0), (H - h, W - w), _center_offsets(x, self.size)]
        return [_crop("TenCrop", x, self.size, top, left) for top, left in corners]


def average_crops(predict, crops, softmax=True):
    """Mean over the crops of ``predict(crop)`` for crops (K, N, C, h, w) (from TenCrop).
    ``predict`` takes a Tensor batch and returns logits (Tensor or array) (N, classes); with
    ``softmax`` the probabilities are averaged (the paper), else the raw outputs. Returns (N, classes)."""
    from ..function import no_grad
    from ..tensor import Tensor

    total = None
    with no_grad():
        for crop in crops:
            out = predict(Tensor(crop))
            out = out.data if isinstance(out, Tensor) else out
            if softmax:
                xp = get_array_module(out)
                e = xp.exp(out - out.max(axis=-1, keepdims=True))
                out = e / e.sum(axis=-1, keepdims=True)
            total = out if total is None else total + out
    return total / total.dtype.type(len(crops))
