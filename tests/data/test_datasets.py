"""FashionMNIST/MNIST: search order, checksums, the missing-data message, mocked downloads."""
import gzip
import hashlib
import io
import os

import numpy as np
import pytest

from minicnn.data import MNIST, ChecksumError, FashionMNIST, Subset, download
from minicnn.data.idx import write_idx
from tests.data.conftest import write_split

REAL = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"


def test_loads_tiny_files_from_root_as_uint8_and_int64(isolated_dirs):
    images, labels = write_split(isolated_dirs / "mine")
    ds = FashionMNIST(root=isolated_dirs / "mine", verify=False)
    assert ds.data.dtype == np.uint8 and ds.data.shape == (6, 4, 5)
    assert ds.targets.dtype == np.int64
    np.testing.assert_array_equal(ds.data, images)
    np.testing.assert_array_equal(ds.targets, labels)
    assert len(ds) == 6 and len(ds.classes) == 10 and ds.classes[9] == "Ankle boot"


def test_getitem_gives_scaled_float32_chw_image_and_int_label(isolated_dirs):
    images, labels = write_split(isolated_dirs / "mine", gz=False)
    ds = FashionMNIST(root=isolated_dirs / "mine", verify=False)
    x, y = ds[2]
    assert x.shape == (1, 4, 5) and x.dtype == np.float32 and isinstance(y, int)
    np.testing.assert_allclose(x[0], images[2] / 255.0, rtol=1e-6)
    assert y == labels[2]
    assert ds[-1][1] == labels[-1]
    with pytest.raises(IndexError, match="index 6 out of range for 6"):
        ds[6]


def test_test_split_reads_t10k_files(isolated_dirs):
    write_split(isolated_dirs / "mine", "train", n=6)
    write_split(isolated_dirs / "mine", "test", n=3, seed=5)
    assert len(FashionMNIST(root=isolated_dirs / "mine", train=False, verify=False)) == 3


def test_search_order_root_then_env_then_cache_then_system(isolated_dirs, monkeypatch):
    write_split(isolated_dirs / "system" / "fashion-mnist", n=1)
    write_split(isolated_dirs / "cache" / "fashion-mnist", n=2)
    write_split(isolated_dirs / "env" / "fashion-mnist", n=3)
    write_split(isolated_dirs / "root", n=4)
    assert len(FashionMNIST(verify=False)) == 2
    monkeypatch.setenv("MINICNN_DATA", str(isolated_dirs / "env"))
    assert len(FashionMNIST(verify=False)) == 3
    assert len(FashionMNIST(root=isolated_dirs / "root", verify=False)) == 4
    # a root without the files is an error: never a silent fall-back to another copy
    with pytest.raises(FileNotFoundError):
        FashionMNIST(root=isolated_dirs / "empty", verify=False)
    monkeypatch.delenv("MINICNN_DATA")
    (isolated_dirs / "cache" / "fashion-mnist" / "train-images-idx3-ubyte.gz").unlink()
    assert len(FashionMNIST(verify=False)) == 1


def test_env_dir_may_hold_the_files_directly_and_mnist_uses_its_own_name(isolated_dirs, monkeypatch):
    write_split(isolated_dirs / "env", n=5)
    write_split(isolated_dirs / "cache" / "mnist", n=7)
    monkeypatch.setenv("MINICNN_DATA", str(isolated_dirs / "env"))
    assert len(FashionMNIST(verify=False)) == 5
    monkeypatch.delenv("MINICNN_DATA")
    assert len(MNIST(verify=False)) == 7


def test_an_explicit_root_without_the_files_names_it_and_the_missing_files(isolated_dirs, monkeypatch):
    monkeypatch.setenv("MINICNN_DATA", str(isolated_dirs / "env"))
    write_split(isolated_dirs / "env" / "fashion-mnist")            # never used when a root is given
    (isolated_dirs / "root").mkdir()
    write_idx(isolated_dirs / "root" / "train-labels-idx1-ubyte", np.zeros(6, np.uint8))
    with pytest.raises(FileNotFoundError) as info:
        FashionMNIST(root=isolated_dirs / "root", verify=False)
    message = str(info.value)
    assert f"{isolated_dirs / 'root'} lacks train-images-idx3-ubyte[.gz] (also looked in" in message
    assert "train-labels" not in message.split("(also")[0] and str(isolated_dirs / "env") not in message
    assert "download=True" in message and "\n" not in message


def test_missing_dataset_lists_every_place_and_how_to_get_it(isolated_dirs, monkeypatch):
    monkeypatch.setenv("MINICNN_DATA", str(isolated_dirs / "env"))
    with pytest.raises(FileNotFoundError) as info:
        FashionMNIST()
    message = str(info.value)
    for place in [isolated_dirs / "env" / "fashion-mnist",
                  isolated_dirs / "cache" / "fashion-mnist", isolated_dirs / "system" / "fashion-mnist"]:
        assert str(place) in message
    assert "apt-get install dataset-fashion-mnist" in message
    assert "download=True" in message and "MINICNN_DATA" in message
    assert "train-images-idx3-ubyte[.gz]" in message


def test_sha256_of_unzipped_bytes_is_verified(isolated_dirs, monkeypatch):
    images, labels = write_split(isolated_dirs / "mine")
    unzipped = gzip.decompress((isolated_dirs / "mine" / "train-images-idx3-ubyte.gz").read_bytes())
    good = hashlib.sha256(unzipped).hexdigest()
    monkeypatch.setattr(FashionMNIST, "checksums", {"train-images-idx3-ubyte": good})
    np.testing.assert_array_equal(FashionMNIST(root=isolated_dirs / "mine").data, images)

    monkeypatch.setattr(FashionMNIST, "checksums", {"train-images-idx3-ubyte": "0" * 64})
    with pytest.raises(ChecksumError) as info:
        FashionMNIST(root=isolated_dirs / "mine")
    message = str(info.value)
    assert "train-images-idx3-ubyte.gz" in message and "0" * 64 in message and good in message
    assert "download=True" in message and "verify=False" in message
    assert len(FashionMNIST(root=isolated_dirs / "mine", verify=False)) == 6


def test_real_checksums_reject_tiny_files(isolated_dirs):
    write_split(isolated_dirs / "mine")
    with pytest.raises(ChecksumError, match="SHA256 mismatch"):
        FashionMNIST(root=isolated_dirs / "mine")


def test_malformed_file_error_names_the_path(isolated_dirs):
    write_split(isolated_dirs / "mine", gz=False)
    path = isolated_dirs / "mine" / "train-labels-idx1-ubyte"
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(ValueError, match="train-labels-idx1-ubyte: expected 14 bytes for 6 uint8, got 12"):
        FashionMNIST(root=isolated_dirs / "mine", verify=False)


def test_image_and_label_counts_must_agree(isolated_dirs):
    write_split(isolated_dirs / "mine")
    write_idx(isolated_dirs / "mine" / "train-labels-idx1-ubyte.gz", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"images \(6, 4, 5\).*labels \(5,\)"):
        FashionMNIST(root=isolated_dirs / "mine", verify=False)


class FakeResponse(io.BytesIO):
    def __init__(self, payload):
        super().__init__(payload)
        self.headers = {"Content-Length": str(len(payload))}


def gz_files(split_seed=0):
    """{name.gz: bytes} of tiny train (6) and t10k (2) files, as a server would hold them."""
    rng = np.random.default_rng(split_seed)
    files = {}
    for prefix, n in (("train", 6), ("t10k", 2)):
        images = rng.integers(0, 256, size=(n, 3, 3), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n).astype(np.uint8)
        for kind, arr in (("images-idx3", images), ("labels-idx1", labels)):
            raw = bytes([0, 0, 8, arr.ndim]) + b"".join(int(s).to_bytes(4, "big") for s in arr.shape) + arr.tobytes()
            files[f"{prefix}-{kind}-ubyte.gz"] = gzip.compress(raw)
    return files


def serve(files, log, fail_prefix=None, corrupt=False):
    def fake_urlopen(request, timeout=None):
        url = request.full_url
        log.append(url)
        if fail_prefix and url.startswith(fail_prefix):
            raise OSError("connection refused")
        payload = files[url.rsplit("/", 1)[1]]
        if corrupt:
            payload = payload[:10] + bytes([payload[10] ^ 0xFF]) + payload[11:]
        return FakeResponse(payload)
    return fake_urlopen


def md5s(files):
    return {name: hashlib.md5(payload).hexdigest() for name, payload in files.items()}


def test_download_fetches_verifies_md5_and_writes_into_cache(isolated_dirs, monkeypatch):
    files, log = gz_files(), []
    monkeypatch.setattr(download, "urlopen", serve(files, log, fail_prefix=FashionMNIST.mirrors[0]))
    monkeypatch.setattr(FashionMNIST, "md5s", md5s(files))
    ds = FashionMNIST(download=True, verify=False)
    assert len(ds) == 6 and ds.data.shape == (6, 3, 3)
    target = isolated_dirs / "cache" / "fashion-mnist"
    assert sorted(os.listdir(target)) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    assert (target / "train-images-idx3-ubyte.gz").read_bytes() == files["train-images-idx3-ubyte.gz"]
    # the first mirror failed, the second served both files
    assert [u.startswith(FashionMNIST.mirrors[1]) for u in log] == [False, True, False, True]
    log.clear()
    assert len(FashionMNIST(download=True, verify=False)) == 6 and log == []  # found: no fetch


def test_download_goes_to_root_when_given(isolated_dirs, monkeypatch):
    files, log = gz_files(), []
    monkeypatch.setattr(download, "urlopen", serve(files, log))
    monkeypatch.setattr(MNIST, "md5s", md5s(files))
    ds = MNIST(root=isolated_dirs / "r", train=False, download=True, verify=False)
    assert len(ds) == 2 and (isolated_dirs / "r" / "t10k-labels-idx1-ubyte.gz").exists()
    assert all(u.startswith(MNIST.mirrors[0]) for u in log)


def test_download_md5_mismatch_leaves_no_file_and_names_both_digests(isolated_dirs, monkeypatch):
    files, log = gz_files(), []
    monkeypatch.setattr(download, "urlopen", serve(files, log, corrupt=True))
    monkeypatch.setattr(FashionMNIST, "md5s", md5s(files))
    with pytest.raises(ChecksumError) as info:
        FashionMNIST(download=True, verify=False)
    message = str(info.value)
    name = "train-images-idx3-ubyte.gz"
    corrupted = files[name][:10] + bytes([files[name][10] ^ 0xFF]) + files[name][11:]
    assert "MD5 mismatch" in message and md5s(files)[name] in message
    assert hashlib.md5(corrupted).hexdigest() in message
    assert str(isolated_dirs / "cache" / "fashion-mnist" / name) in message
    assert "download=True to re-fetch" in message
    assert os.listdir(isolated_dirs / "cache" / "fashion-mnist") == []  # no half or bad file left


def test_interrupted_download_leaves_no_partial_file(isolated_dirs, monkeypatch):
    class Broken(FakeResponse):
        def read(self, n=-1):
            raise ConnectionResetError("reset by peer")
    monkeypatch.setattr(download, "urlopen", lambda request, timeout=None: Broken(b"abc"))
    with pytest.raises(OSError, match="reset by peer"):
        FashionMNIST(download=True)
    assert os.listdir(isolated_dirs / "cache" / "fashion-mnist") == []


def test_subset_keeps_samples_and_fast_path(isolated_dirs):
    images, labels = write_split(isolated_dirs / "mine")
    sub = Subset(FashionMNIST(root=isolated_dirs / "mine", verify=False), [4, 1])
    assert len(sub) == 2 and sub[0][1] == labels[4]
    x, y = sub.get_batch(np.array([1, 0]), np)
    np.testing.assert_array_equal(y, labels[[1, 4]])
    np.testing.assert_allclose(x[:, 0], images[[1, 4]] / 255.0, rtol=1e-6)


@pytest.mark.skipif(not os.path.exists(REAL), reason="Debian's dataset-fashion-mnist is not installed")
def test_real_fashion_mnist_from_the_debian_package_passes_checksums():
    test = FashionMNIST(root="/usr/share/datasets/fashion-mnist", train=False)
    assert test.data.shape == (10000, 28, 28) and test.data.dtype == np.uint8
    assert np.bincount(test.targets).tolist() == [1000] * 10
