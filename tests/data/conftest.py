"""Data tests never see the machine's real datasets or the network: search places are redirected."""
import numpy as np
import pytest

from minicnn.data import download
from minicnn.data.idx import write_idx


@pytest.fixture
def isolated_dirs(tmp_path, monkeypatch):
    """Point ~/.cache/minicnn and /usr/share/datasets into tmp_path; unset $MINICNN_DATA."""
    monkeypatch.setattr(download, "CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(download, "SYSTEM_DIR", str(tmp_path / "system"))
    monkeypatch.delenv("MINICNN_DATA", raising=False)

    def no_network(*args, **kwargs):
        raise AssertionError("a test tried to use the network")
    monkeypatch.setattr(download, "urlopen", no_network)
    return tmp_path


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
