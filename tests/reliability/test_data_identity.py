"""Data identity: files are verified by their published digests, so one dataset is never taken for
another; an explicit root is the only place looked in; the edges of the data API are typed errors."""
import hashlib
import os
import struct

import numpy as np
import pytest

from minicnn.data import CIFAR10, MNIST, ArrayDataset, ChecksumError, FashionMNIST, Subset, identity, transforms
from minicnn.data.idx import parse_idx, read_bytes
from tests.data.conftest import write_split

REAL_FASHION = "/usr/share/datasets/fashion-mnist"


def sha256_of(path):
    return hashlib.sha256(read_bytes(str(path))).hexdigest()


def test_the_published_tables_hold_distinct_digests_of_the_right_length():
    digests = [(alg, d) for alg, table in identity.TABLES.items() for files in table.values() for d in files.values()]
    assert len(set(digests)) == len(digests) == 4 + 4 + 6
    assert all(len(d) == {"sha256": 64, "md5": 32}[alg] for alg, d in digests)
    assert FashionMNIST.checksums is identity.SHA256["Fashion-MNIST"] and MNIST.checksums is identity.SHA256["MNIST"]


@pytest.mark.parametrize("verify", [True, False])
def test_another_datasets_files_are_refused_by_name_even_without_verification(isolated_dirs, monkeypatch, verify):
    write_split(isolated_dirs / "d", "test", n=4)
    published = {name: sha256_of(isolated_dirs / "d" / f"{name}.gz")
                 for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    monkeypatch.setitem(identity.SHA256, "Fashion-MNIST", published)   # as if these were Zalando's files
    with pytest.raises(identity.WrongDatasetError, match=r"expected MNIST's t10k-images-idx3-ubyte, but these bytes "
                                                         r"are Fashion-MNIST's t10k-images-idx3-ubyte"):
        MNIST(root=isolated_dirs / "d", train=False, verify=verify)


@pytest.mark.skipif(not os.path.isdir(REAL_FASHION), reason="the Debian Fashion-MNIST files are not installed")
def test_the_real_fashion_mnist_files_are_never_taken_for_mnist():
    with pytest.raises(identity.WrongDatasetError, match="are Fashion-MNIST's t10k-"):
        MNIST(root=REAL_FASHION, train=False, verify=False)


def test_mnist_files_that_match_no_published_digest_are_refused_unless_verify_is_off(isolated_dirs):
    write_split(isolated_dirs / "d", "test", n=4)
    with pytest.raises(ChecksumError, match=r"SHA256 mismatch: expected 0fa7898d.*matches no published file of "
                                            r"CIFAR-10, Fashion-MNIST, MNIST.*verify=False"):
        MNIST(root=isolated_dirs / "d", train=False)
    assert len(MNIST(root=isolated_dirs / "d", train=False, verify=False)) == 4


def test_an_extracted_cifar_folder_is_checked_batch_by_batch(isolated_dirs, monkeypatch):
    import pickle
    folder = isolated_dirs / "c" / CIFAR10.folder
    folder.mkdir(parents=True)
    batch = pickle.dumps({b"data": np.zeros((2, 3072), np.uint8), b"labels": [0, 1]})
    (folder / "test_batch").write_bytes(batch)
    with pytest.raises(ChecksumError, match=r"test_batch: MD5 mismatch: expected 40351d587109b95175f43aff81a1287e"):
        CIFAR10(root=isolated_dirs / "c", train=False)
    monkeypatch.setitem(identity.MD5, "CIFAR-10", {**identity.MD5["CIFAR-10"],
                                                  "test_batch": hashlib.md5(batch).hexdigest()})
    assert len(CIFAR10(root=isolated_dirs / "c", train=False)) == 2


def test_an_idx_header_whose_sizes_overflow_int64_is_a_clear_value_error():
    raw = struct.pack(">HBB4I", 0, 0x08, 4, *(2 ** 32 - 1,) * 4) + b"\0" * 16
    with pytest.raises(ValueError, match=r"evil.idx: expected \d{39,} bytes for 4294967295x.* uint8, got 36"):
        parse_idx(raw, "evil.idx")


def test_float_labels_are_a_type_error_naming_the_dtype():
    with pytest.raises(TypeError, match=r"ArrayDataset: expected integer class labels, got labels of dtype float64"):
        ArrayDataset(np.zeros((3, 4, 4), np.float32), np.array([0.0, 1.5, 2.0]))


@pytest.mark.parametrize("index", [1.5, 1.0, "1", True, None])
def test_a_non_int_index_is_a_type_error(index):
    ds = ArrayDataset(np.zeros((3, 4, 4), np.float32), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match=r"ArrayDataset: index must be an int, got"):
        ds[index]
    with pytest.raises(TypeError, match=r"Subset: index must be an int"):
        Subset(ds, [0, 1])[index]


def test_subset_indices_must_be_integers():
    ds = ArrayDataset(np.zeros((3, 4, 4), np.float32), np.array([0, 1, 2]))
    with pytest.raises(TypeError, match=r"Subset: indices must be integers, got dtype float64"):
        Subset(ds, [0.0, 1.7])
    assert ds[np.int64(2)][1] == 2 and Subset(ds, np.array([2, 0]))[1][1] == 0


@pytest.mark.parametrize("make", [transforms.RandomCrop, transforms.CenterCrop, transforms.TenCrop, transforms.Resize])
@pytest.mark.parametrize("size", [2.5, "24", None, (2, 2.0), True])
def test_a_non_int_crop_or_resize_size_is_a_type_error_naming_it(make, size):
    with pytest.raises(TypeError, match=rf"{make.__name__}: expected size as a positive int or \(h, w\) of ints, got"):
        make(size)


@pytest.mark.parametrize("size", [0, -3, (2, 0), (1, 2, 3)])
def test_a_non_positive_or_odd_shaped_size_is_a_value_error(size):
    with pytest.raises(ValueError, match=r"RandomCrop: expected size as a positive int or \(h, w\)"):
        transforms.RandomCrop(size)
