"""Datasets held in memory as arrays: FashionMNIST, MNIST (IDX files) and the base classes.

A dataset is indexable: ``ds[i] -> (image float32 (C, H, W) in [0, 1], int label)``. The
array-backed ones also offer ``get_batch(indices, xp)``, which the DataLoader uses to cut a
whole batch with one fancy-index, move it to the device as uint8 (4x less traffic than
float32) and convert and transform it there. ``transform`` is a *batch* transform (see
``minicnn.data.transforms``); ``ds[i]`` applies it to a batch of one.
"""
import os

import numpy as np

from ..backend import backend_module, to_device
from .download import download_dir, fetch, search_dirs
from .identity import SHA256, check_identity
from .idx import parse_idx, read_bytes
from .transforms import apply_transform


class ArrayDataset:
    """Images ``data`` (N, H, W) or (N, C, H, W), uint8 (scaled by 1/255) or float, and labels."""

    def __init__(self, data, targets, transform=None, classes=None):
        data, targets = np.asarray(data), np.asarray(targets)
        if targets.dtype.kind not in "iu":
            raise TypeError(f"{type(self).__name__}: expected integer class labels, got labels of dtype "
                            f"{targets.dtype} (convert them with labels.astype(int) if they are whole numbers)")
        if data.ndim not in (3, 4) or targets.ndim != 1 or len(data) != len(targets):
            raise ValueError(f"{type(self).__name__}: expected images (N, H, W) or (N, C, H, W) and N labels, "
                             f"got images {data.shape} and labels {targets.shape}")
        self.data, self.targets = data, targets.astype(np.int64)
        self.transform = transform
        self.classes = list(classes) if classes is not None else sorted(set(self.targets.tolist()))

    def __len__(self):
        return len(self.targets)

    def images(self, indices):
        """Raw images (n, C, H, W) on the host, before scaling (a fancy-indexed copy)."""
        x = self.data[indices]
        return x[:, None] if x.ndim == 3 else x

    def get_batch(self, indices, xp=None, rng=None):
        """(x float32 (n, C, H, W) on ``xp``, y int64 (n,) on ``xp``), ``transform`` applied."""
        xp = backend_module() if xp is None else xp
        indices = np.asarray(indices, dtype=np.int64)
        x = xp.asarray(to_device(self.images(indices), xp.__name__))
        y = xp.asarray(to_device(self.targets[indices], xp.__name__))
        if x.dtype == np.uint8:
            x = x.astype(np.float32) / np.float32(255)  # the same rounding as torchvision's ToTensor
        else:
            x = x.astype(np.float32, copy=False)
        if self.transform is not None:
            x = apply_transform(self.transform, x, rng)
        return x, y

    def __getitem__(self, index):
        _check_index(type(self).__name__, index)
        if not -len(self) <= index < len(self):
            raise IndexError(f"{type(self).__name__}: index {index} out of range for {len(self)} samples")
        x, y = self.get_batch(np.array([index % len(self)]), np)
        return x[0], int(y[0])

    def __repr__(self):
        return f"{type(self).__name__}(n={len(self)}, image={self.images(np.array([0])).shape[1:]})"


def _check_index(name, index):
    if isinstance(index, (bool, np.bool_)) or not isinstance(index, (int, np.integer)):
        raise TypeError(f"{name}: index must be an int, got {index!r} ({type(index).__name__})")


class Subset:
    """The samples ``indices`` of ``dataset`` (keeps the DataLoader's whole-batch fast path)."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        indices = np.asarray(indices)
        if indices.size and indices.dtype.kind not in "iu":
            raise TypeError(f"Subset: indices must be integers, got dtype {indices.dtype}")
        self.indices = indices.astype(np.int64).reshape(-1)
        if self.indices.size and (self.indices.min() < 0 or self.indices.max() >= len(dataset)):
            raise IndexError(f"Subset: indices must lie in [0, {len(dataset)}), got "
                             f"[{self.indices.min()}, {self.indices.max()}]")
        self.classes = getattr(dataset, "classes", None)
        if hasattr(dataset, "get_batch"):
            self.get_batch = lambda idx, xp=None, rng=None: dataset.get_batch(self.indices[np.asarray(idx)], xp, rng)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        _check_index("Subset", i)
        return self.dataset[int(self.indices[i])]


class IDXDataset(ArrayDataset):
    """Base of MNIST-style datasets: an image IDX file and a label IDX file per split."""

    name = None                 # directory name: ~/.cache/minicnn/<name>, /usr/share/datasets/<name>
    title = None                # the dataset's name in messages and in minicnn.data.identity
    files = {}                  # split -> (images file, labels file), unzipped names
    mirrors = []                # base URLs tried in order by download=True
    md5s = {}                   # .gz name -> MD5 of the published .gz (checked after download)
    checksums = {}              # unzipped name -> SHA-256 of the unzipped bytes (checked on load)
    classes = []
    install_hint = None

    def __init__(self, root=None, train=True, transform=None, download=False, verify=True):
        split = "train" if train else "test"
        self.root, self.train, self.verify = root, bool(train), bool(verify)
        names = self.files[split]
        paths = self._find(names, root)
        if paths is None and download:
            target = download_dir(self.name, root)
            for stem in names:
                if not any(os.path.exists(os.path.join(target, stem + ext)) for ext in (".gz", "")):
                    gz = stem + ".gz"
                    fetch([m + gz for m in self.mirrors], os.path.join(target, gz), md5=self.md5s.get(gz))
            paths = self._find(names, root)
        if paths is None:
            raise FileNotFoundError(self._missing_message(split, names, root))
        images, labels = (self._load(p) for p in paths)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise ValueError(f"{type(self).__name__}: expected images (N, H, W) and N labels, got images "
                             f"{images.shape} from {paths[0]} and labels {labels.shape} from {paths[1]}")
        super().__init__(images, labels, transform, type(self).classes)
        self.paths = paths

    def _find(self, names, root):
        for directory, _ in search_dirs(self.name, root, type(self).__name__):
            found = []
            for stem in names:
                candidates = [os.path.join(directory, stem + ext) for ext in (".gz", "")]
                found.append(next((c for c in candidates if os.path.isfile(c)), None))
            if all(found):
                return found
        return None

    def _load(self, path):
        raw = read_bytes(path)
        stem = os.path.basename(path)[:-3] if path.endswith(".gz") else os.path.basename(path)
        check_identity(raw, self.title, stem, path + " (unzipped)", self.verify, expected=self.checksums.get(stem),
                       hint=f"Delete it and run {type(self).__name__}(download=True)"
                            + (f", or reinstall it ({self.install_hint} --reinstall)" if self.install_hint else "")
                            + ", or pass verify=False (--no-verify) to use it anyway.")
        return parse_idx(raw, path)

    def _missing_message(self, split, names, root):
        cls = type(self).__name__
        if root is not None:   # an explicit root is the only place looked in
            root = os.path.expanduser(os.fspath(root))
            missing = [n + "[.gz]" for n in names
                       if not any(os.path.isfile(os.path.join(root, n + ext)) for ext in (".gz", ""))]
            others = ", ".join(d for d, _ in search_dirs(self.name, root, cls)[1:])
            return (f"{cls} {split} split: {root} lacks {' and '.join(missing)} (also looked in {others}). "
                    f"A root given explicitly is the only place looked in: put the files there, pass "
                    f"download=True (--download) to fetch them into it, or leave root (--data-dir) unset to "
                    f"search $MINICNN_DATA, ~/.cache/minicnn and /usr/share/datasets")
        places = "\n".join(f"  {d}  ({why})" for d, why in search_dirs(self.name, root, cls))
        how = [f"  {cls}(..., download=True)   fetches them into {download_dir(self.name, root)}"]
        if self.install_hint:
            how.insert(0, f"  sudo {self.install_hint}   installs them in /usr/share/datasets/{self.name}")
        how.append("  or put them in a directory and set MINICNN_DATA=/that/directory (or pass root=)")
        return (f"{cls} {split} split: {' and '.join(n + '[.gz]' for n in names)} not found. Searched:\n"
                f"{places}\nGet them with one of:\n" + "\n".join(how))


class FashionMNIST(IDXDataset):
    """Zalando's Fashion-MNIST: 60,000 train / 10,000 test 28x28 grey images, 10 classes.
    ``.data`` uint8 (N, 28, 28), ``.targets`` int64 (N,), ``ds[i]`` -> ((1, 28, 28) float32, label)."""

    name = "fashion-mnist"
    title = "Fashion-MNIST"
    files = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}
    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
               "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/"]
    md5s = {"train-images-idx3-ubyte.gz": "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
            "train-labels-idx1-ubyte.gz": "25c81989df183df01b3e8a0aad5dffbe",
            "t10k-images-idx3-ubyte.gz": "bef4ecab320f06d8554ea6380940ec79",
            "t10k-labels-idx1-ubyte.gz": "bb300cfdad3c16e7a12a480ee83cd310"}
    # of the unzipped bytes: Debian's dataset-fashion-mnist repacks the .gz files
    checksums = SHA256["Fashion-MNIST"]
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
    install_hint = "apt-get install dataset-fashion-mnist"


class MNIST(IDXDataset):
    """LeCun's MNIST digits, the same layout as FashionMNIST. The .gz MD5s are torchvision's
    (checked after a download); files on disk are checked by the SHA-256 of their unzipped bytes."""

    name = "mnist"
    title = "MNIST"
    files = FashionMNIST.files
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    md5s = {"train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
            "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
            "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
            "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c"}
    checksums = SHA256["MNIST"]
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
               "8 - eight", "9 - nine"]


__all__ = ["ArrayDataset", "Subset", "IDXDataset", "FashionMNIST", "MNIST"]
