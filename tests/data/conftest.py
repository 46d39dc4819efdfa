"""Helpers of the data tests (the isolated_dirs fixture lives in tests/conftest.py)."""
import numpy as np

from minicnn.data.idx import write_idx


def write_split(directory, split="train", n=6, shape=(4, 5), gz=True, seed=0):
    """Tiny MNIST-style files for ``split`` in ``directory``; returns (images, labels)."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n).astype(np.uint8)
    prefix = "train" if split == "train" else "t10k"
    ext = ".gz" if gz else ""
    directory.mkdir(parents=True, exist_ok=True)
    write_idx(directory / f"{prefix}-images-idx3-ubyte{ext}", images)
    write_idx(directory / f"{prefix}-labels-idx1-ubyte{ext}", labels)
    return images, labels
