"""CIFAR-10 (Krizhevsky 2009) from the python-pickle tarball ``cifar-10-python.tar.gz``.

The tarball holds ``cifar-10-batches-py/{data_batch_1..5, test_batch, batches.meta}``, each a
pickled dict with b"data" (10000, 3072) uint8 (R, G, B planes of 32x32) and b"labels". It is
read straight from the tarball (or from an extracted ``cifar-10-batches-py`` directory), with
an unpickler that admits only NumPy arrays and plain containers: a tampered file cannot run code.
The tarball is checked against its published MD5, the batches of an extracted folder against
theirs (minicnn.data.identity).
"""
import io
import os
import pickle
import tarfile

import numpy as np

from .datasets import ArrayDataset
from .download import check_digest, download_dir, fetch, search_dirs
from .identity import MD5, check_identity

_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
            ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}


class _SafeUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"CIFAR10: refusing to unpickle {module}.{name} (not plain data)")


def _unpickle(raw, what):
    try:
        return _SafeUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as e:
        raise ValueError(f"{what}: not a CIFAR-10 python batch ({e})") from e


class CIFAR10(ArrayDataset):
    """50,000 train / 10,000 test 32x32 RGB images in 10 classes.
    ``.data`` uint8 (N, 32, 32, 3) (torchvision's layout), ``.targets`` int64 (N,),
    ``ds[i]`` -> ((3, 32, 32) float32 in [0, 1], label)."""

    name = "cifar-10"
    filename = "cifar-10-python.tar.gz"
    folder = "cifar-10-batches-py"
    mirrors = ["https://www.cs.toronto.edu/~kriz/"]
    md5 = "c58f30108f718f92721af3b95e74349a"
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

    def __init__(self, root=None, train=True, transform=None, download=False, verify=True):
        self.root, self.train, self.verify = root, bool(train), bool(verify)
        source = self._find(root)
        if source is None and download:
            target = os.path.join(download_dir(self.name, root), self.filename)
            fetch([m + self.filename for m in self.mirrors], target, md5=self.md5)
            source = self._find(root)
        if source is None:
            raise FileNotFoundError(self._missing_message(root))
        batches = [f"data_batch_{i}" for i in range(1, 6)] if train else ["test_batch"]
        read = self._reader(source, batches)
        images, labels = [], []
        for batch in batches:
            entry = _unpickle(read(batch), f"{source}: {batch}")
            data = np.asarray(entry.get(b"data", entry.get("data")))
            batch_labels = entry.get(b"labels", entry.get("labels"))
            if data.ndim != 2 or data.shape[1] != 3072 or batch_labels is None or len(batch_labels) != len(data):
                raise ValueError(f"{source}: {batch}: expected data (n, 3072) and n labels, got data "
                                 f"{data.shape} and {None if batch_labels is None else len(batch_labels)} labels")
            images.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
            labels.extend(batch_labels)
        super().__init__(np.ascontiguousarray(np.concatenate(images)), np.asarray(labels), transform,
                         type(self).classes)
        self.source = source

    def images(self, indices):
        return self.data[indices].transpose(0, 3, 1, 2)  # NHWC -> NCHW

    def _find(self, root):
        for directory, _ in search_dirs(self.name, root, type(self).__name__):
            tarball = os.path.join(directory, self.filename)
            if os.path.isfile(tarball):
                return tarball
            folder = os.path.join(directory, self.folder)
            if os.path.isfile(os.path.join(folder, "test_batch")):
                return folder
        return None

    def _reader(self, source, batches):
        if os.path.isdir(source):   # an extracted folder: each batch against its published MD5
            def read(batch):
                path = os.path.join(source, batch)
                if not os.path.isfile(path):
                    raise FileNotFoundError(f"CIFAR10: {source} lacks {batch}")
                with open(path, "rb") as f:
                    raw = f.read()
                check_identity(raw, "CIFAR-10", batch, path, self.verify, MD5["CIFAR-10"].get(batch), "md5",
                               hint="Delete the folder and run CIFAR10(download=True), or pass verify=False "
                                    "(--no-verify) to use it anyway.")
                return raw
            return read
        if self.verify:
            check_digest(source, self.md5, "md5", source,
                         "Delete it and run CIFAR10(download=True), or pass verify=False to use it anyway.")
        with tarfile.open(source, "r:gz") as tar:
            members = {os.path.basename(m.name): m for m in tar.getmembers() if m.isfile()}
            contents = {name: tar.extractfile(m).read() for name, m in members.items()
                        if name in batches}

        def read(batch):
            if batch not in contents:
                raise ValueError(f"{source}: no {self.folder}/{batch} in the tarball")
            return contents[batch]
        return read

    def _missing_message(self, root):
        if root is not None:   # an explicit root is the only place looked in
            places = ", ".join(d for d, _ in search_dirs(self.name, root, "CIFAR10"))
            return (f"CIFAR10: {os.fspath(root)} lacks {self.filename} (or an extracted {self.folder}/); looked in "
                    f"{places}. A root given explicitly is the only place looked in: put the files there, pass "
                    f"download=True (--download) to fetch them into it, or leave root (--data-dir) unset to "
                    f"search $MINICNN_DATA, ~/.cache/minicnn and /usr/share/datasets")
        places = "\n".join(f"  {d}  ({why})" for d, why in search_dirs(self.name, root, "CIFAR10"))
        return (f"CIFAR10: {self.filename} (or an extracted {self.folder}/) not found. Searched:\n{places}\n"
                f"Get it with one of:\n  CIFAR10(..., download=True)   fetches it into "
                f"{download_dir(self.name, root)}\n  or put it in a directory and set "
                f"MINICNN_DATA=/that/directory (or pass root=)")
