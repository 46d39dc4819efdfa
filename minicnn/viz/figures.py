"""Figures: the atomic PNG writer, filter mosaics (the AlexNet paper's
Figure 3), and the image grids the other viz modules draw with."""
import os
import tempfile

import numpy as np

from ..backend import to_numpy
from ..tensor import Tensor


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def save_figure(fig, path, dpi=100):
    """Write ``fig`` to ``path`` atomically (temp file in the same directory, then rename)."""
    plt = _pyplot()
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    suffix = os.path.splitext(path)[1] or ".png"
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=suffix, dir=directory)
    os.close(fd)
    try:
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight")
        os.chmod(tmp, 0o644)            # mkstemp makes it private; a picture is for reading
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def _as_numpy(array):
    return to_numpy(array.data if isinstance(array, Tensor) else array)


def filter_mosaic(weight, ncols=None, pad=1, channel=None):
    """conv kernels ``weight`` (O, C, kh, kw) tiled into one image, each kernel scaled to
    [0, 1] on its own (over all its channels), like the paper's Figure 3.

    C = 3 gives an RGB mosaic (rows·(kh+pad)+pad, cols·(kw+pad)+pad, 3), C = 1 a grey one
    (…, …); for other C pick one input channel with ``channel=``. Gaps are white (1.0)."""
    w = np.asarray(_as_numpy(weight), dtype=np.float64)
    if w.ndim != 4:
        raise ValueError(f"filter_mosaic: expected conv weight (out, in, kh, kw), got shape {w.shape}")
    if channel is not None:
        if not 0 <= channel < w.shape[1]:
            raise ValueError(f"filter_mosaic: channel {channel} out of range for {w.shape[1]} input channels")
        w = w[:, channel:channel + 1]
    elif w.shape[1] not in (1, 3):
        raise ValueError(f"filter_mosaic: expected 1 or 3 input channels (grey or RGB), got {w.shape[1]} "
                         f"in weight {w.shape}; pass channel=i to show one of them")
    out_channels, colours, kh, kw = w.shape
    low = w.min(axis=(1, 2, 3), keepdims=True)
    span = w.max(axis=(1, 2, 3), keepdims=True) - low
    w = (w - low) / np.where(span > 0, span, 1.0)          # a constant kernel shows as 0 (black)
    ncols = ncols or int(np.ceil(np.sqrt(out_channels)))
    nrows = -(-out_channels // ncols)
    mosaic = np.ones((nrows * (kh + pad) + pad, ncols * (kw + pad) + pad, colours))
    for index in range(out_channels):
        r, c = divmod(index, ncols)
        top, left = pad + r * (kh + pad), pad + c * (kw + pad)
        mosaic[top:top + kh, left:left + kw] = w[index].transpose(1, 2, 0)
    return mosaic if colours == 3 else mosaic[..., 0]


def filter_grid(weight, path, ncols=None, pad=1, channel=None, title=None, scale=0.06):
    """Save the mosaic of ``filter_mosaic(weight, ...)`` to ``path`` (nearest-neighbour
    pixels, ``scale`` inches per mosaic pixel, at least 2.5 inches). Returns ``path``."""
    plt = _pyplot()
    mosaic = filter_mosaic(weight, ncols=ncols, pad=pad, channel=channel)
    height, width = mosaic.shape[:2]
    fig, ax = plt.subplots(figsize=(max(2.5, width * scale), max(2.5, height * scale)))
    ax.imshow(mosaic, cmap=None if mosaic.ndim == 3 else "gray", vmin=0, vmax=1, interpolation="nearest")
    ax.set_axis_off()
    if title:
        ax.set_title(title)
    return save_figure(fig, path)


def _show(ax, image, title=None):
    """Draw a (C, H, W) or (H, W) image: RGB when C = 3, grey otherwise (first channel)."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3:
        image = image.transpose(1, 2, 0) if image.shape[0] == 3 else image[0]
    low, high = image.min(), image.max()
    image = (image - low) / (high - low) if high > low else np.zeros_like(image)
    ax.imshow(image, cmap=None if image.ndim == 3 else "gray", interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=7)


def retrieval_grid(query_images, train_images, indices, path, query_labels=None, train_labels=None,
                   class_names=None, title=None):
    """One row per query: the query image, then the training images ``indices[row]``
    (from ``nearest_neighbours``), titled with their labels when given. Returns ``path``."""
    plt = _pyplot()
    indices = np.asarray(indices)
    rows, k = indices.shape
    name = (lambda y: class_names[int(y)]) if class_names is not None else (lambda y: str(int(y)))
    fig, axes = plt.subplots(rows, k + 1, figsize=(1.2 * (k + 1), 1.3 * rows), squeeze=False)
    for r in range(rows):
        label = f"query: {name(query_labels[r])}" if query_labels is not None else "query"
        _show(axes[r, 0], _as_numpy(query_images[r]), label)
        for c, j in enumerate(indices[r], start=1):
            _show(axes[r, c], _as_numpy(train_images[j]), name(train_labels[j]) if train_labels is not None else None)
        for spine in axes[r, 0].spines.values():
            spine.set_edgecolor("red")
            spine.set_linewidth(2)
    if title:
        fig.suptitle(title)
    return save_figure(fig, path)
