"""CIFAR10 from a tiny python-pickle tarball made here: layout, MD5, safe unpickling, download."""
import hashlib
import io
import os
import pickle
import tarfile

import numpy as np
import pytest

from minicnn.data import CIFAR10, ChecksumError, download


def batch_bytes(rng, n, label_offset=0):
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    labels = [(i + label_offset) % 10 for i in range(n)]
    return pickle.dumps({b"batch_label": b"x", b"labels": labels, b"data": data, b"filenames": [b"f"] * n},
                        protocol=2), data, labels


def make_tarball(path, n_per_batch=2, extra=None):
    rng = np.random.default_rng(0)
    contents, train_data, train_labels = {}, [], []
    for i in range(1, 6):
        raw, data, labels = batch_bytes(rng, n_per_batch, i)
        contents[f"data_batch_{i}"] = raw
        train_data.append(data)
        train_labels += labels
    contents["test_batch"], test_data, test_labels = batch_bytes(rng, 3)
    contents["batches.meta"] = pickle.dumps({b"label_names": [b"airplane"]}, protocol=2)
    contents.update(extra or {})
    with tarfile.open(path, "w:gz") as tar:
        for name, raw in contents.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(raw)
            tar.addfile(info, io.BytesIO(raw))
    return np.concatenate(train_data), train_labels, test_data, test_labels


def test_reads_train_and_test_batches_in_torchvision_layout(isolated_dirs):
    root = isolated_dirs / "c"
    root.mkdir()
    train_data, train_labels, test_data, test_labels = make_tarball(root / CIFAR10.filename)
    train = CIFAR10(root=root, verify=False)
    assert train.data.shape == (10, 32, 32, 3) and train.data.dtype == np.uint8
    assert train.targets.dtype == np.int64 and train.targets.tolist() == train_labels
    # pixel (row 2, col 5) of channel G of image 3 is byte 1024 + 2*32 + 5 of its row
    assert train.data[3, 2, 5, 1] == train_data[3, 1024 + 2 * 32 + 5]
    x, y = train[3]
    assert x.shape == (3, 32, 32) and x.dtype == np.float32 and y == train_labels[3]
    np.testing.assert_allclose(x, train_data[3].reshape(3, 32, 32) / 255.0, rtol=1e-6)
    test = CIFAR10(root=root, train=False, verify=False)
    assert len(test) == 3 and test.targets.tolist() == test_labels and test.classes[0] == "airplane"


def test_extracted_folder_is_found_too(isolated_dirs):
    root = isolated_dirs / "cache" / "cifar-10"
    root.mkdir(parents=True)
    make_tarball(isolated_dirs / "t.tar.gz")
    with tarfile.open(isolated_dirs / "t.tar.gz") as tar:
        tar.extractall(root, filter="data")
    assert len(CIFAR10(train=False, verify=False)) == 3


def test_tarball_md5_is_verified(isolated_dirs, monkeypatch):
    root = isolated_dirs / "c"
    root.mkdir()
    make_tarball(root / CIFAR10.filename)
    good = hashlib.md5((root / CIFAR10.filename).read_bytes()).hexdigest()
    with pytest.raises(ChecksumError, match=f"expected {CIFAR10.md5}, got {good}.*download=True"):
        CIFAR10(root=root)
    monkeypatch.setattr(CIFAR10, "md5", good)
    assert len(CIFAR10(root=root, train=False)) == 3


def test_pickles_that_would_run_code_are_refused(isolated_dirs):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))
    root = isolated_dirs / "c"
    root.mkdir()
    make_tarball(root / CIFAR10.filename, extra={"test_batch": pickle.dumps(Evil())})
    with pytest.raises(ValueError, match="refusing to unpickle"):
        CIFAR10(root=root, train=False, verify=False)


def test_missing_cifar_lists_places_and_download(isolated_dirs):
    with pytest.raises(FileNotFoundError) as info:
        CIFAR10()
    message = str(info.value)
    assert str(isolated_dirs / "cache" / "cifar-10") in message and str(isolated_dirs / "system" / "cifar-10") in message
    assert "download=True" in message and "cifar-10-python.tar.gz" in message


def test_an_explicit_root_without_cifar_is_the_only_place_named(isolated_dirs):
    make_tarball(isolated_dirs / "t.tar.gz")
    (isolated_dirs / "cache" / "cifar-10").mkdir(parents=True)
    make_tarball(isolated_dirs / "cache" / "cifar-10" / CIFAR10.filename)   # never used when a root is given
    with pytest.raises(FileNotFoundError) as info:
        CIFAR10(root=isolated_dirs / "nowhere", verify=False)
    message = str(info.value)
    assert f"{isolated_dirs / 'nowhere'} lacks cifar-10-python.tar.gz" in message
    assert str(isolated_dirs / "cache") not in message and "\n" not in message


def test_download_writes_verified_tarball(isolated_dirs, monkeypatch):
    make_tarball(isolated_dirs / "served.tar.gz")
    payload = (isolated_dirs / "served.tar.gz").read_bytes()
    urls = []

    def fake_urlopen(request, timeout=None):
        urls.append(request.full_url)
        response = io.BytesIO(payload)
        response.headers = {"Content-Length": str(len(payload))}
        return response
    monkeypatch.setattr(download, "urlopen", fake_urlopen)
    monkeypatch.setattr(CIFAR10, "md5", hashlib.md5(payload).hexdigest())
    ds = CIFAR10(download=True, train=False)
    assert len(ds) == 3 and urls == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
    assert (isolated_dirs / "cache" / "cifar-10" / CIFAR10.filename).read_bytes() == payload
