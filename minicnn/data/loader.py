"""DataLoader: batches of (x, y) as arrays of the current backend, optionally prefetched.

Reproducible order. The loader has a ``seed`` (given, or drawn once from the library RNG when
it is built, so ``minicnn.manual_seed`` fixes it). Epoch ``e`` visits the samples in the order
``default_rng([seed, e]).permutation(n)`` and the random transforms of its batch b draw
from ``default_rng([seed, e, 1, b])``. A batch depends on nothing but (seed, epoch, b): not on
how many batches were drawn before, on prefetching, or on the model's own use of the library
RNG. To resume at epoch e, restore ``loader.load_state_dict(saved)`` (or build it with the same
seed) and ``loader.set_epoch(e)``; iterating then replays epoch e exactly, and
``loader.iter_from(b)`` replays it from batch b on (mid-epoch resume) without computing the
skipped batches. Each ``iter(loader)`` uses the current epoch and then advances it by one, so
a plain ``for epoch in ...: for x, y in loader`` walks epochs 0, 1, 2, ...
"""
import math
import queue
import threading

import numpy as np

from ..backend import backend_module, to_device
from ..rng import get_rng
from .transforms import apply_transform


class DataLoader:
    """Iterate ``dataset`` in batches of ``batch_size``: x float32 (N, C, H, W), y int64 (N,),
    both raw arrays of the current backend (``minicnn.set_backend``), moved to the GPU on CuPy.

    ``shuffle``: a new permutation each epoch (see the module docstring for the seeding).
    ``drop_last``: skip the last, smaller batch. ``transform``: a batch transform applied after
    the dataset's own, with the backend's array module (e.g. Resize on the GPU).
    ``prefetch``: when > 0, a background thread prepares up to that many batches ahead while
    the model computes (NumPy releases the GIL in copies, resizes and matmuls).
    Array-backed datasets (with ``get_batch``, e.g. FashionMNIST, Subset) are cut with one
    fancy-index per batch; others are read item by item with ``dataset[i]`` and stacked.
    """

    def __init__(self, dataset, batch_size=1, shuffle=False, drop_last=False, transform=None, seed=None,
                 prefetch=0):
        if not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"DataLoader: expected batch_size >= 1, got {batch_size!r}")
        if not isinstance(prefetch, (int, np.integer)) or prefetch < 0:
            raise ValueError(f"DataLoader: expected prefetch >= 0 (batches), got {prefetch!r}")
        if len(dataset) == 0:
            raise ValueError("DataLoader: the dataset is empty")
        self.dataset, self.batch_size = dataset, int(batch_size)
        self.shuffle, self.drop_last = bool(shuffle), bool(drop_last)
        self.transform, self.prefetch = transform, int(prefetch)
        self.seed = int(get_rng(np).integers(2 ** 63)) if seed is None else int(seed)
        self.epoch = 0

    def __len__(self):
        n = len(self.dataset)
        return n // self.batch_size if self.drop_last else math.ceil(n / self.batch_size)

    def set_epoch(self, epoch):
        """The epoch the next ``iter(loader)`` replays (its order and augmentation)."""
        self.epoch = int(epoch)

    def state_dict(self):
        return {"seed": self.seed, "epoch": self.epoch}

    def load_state_dict(self, state):
        self.seed, self.epoch = int(state["seed"]), int(state["epoch"])

    def order(self, epoch):
        """The sample indices of ``epoch`` in visiting order."""
        n = len(self.dataset)
        if not self.shuffle:
            return np.arange(n)
        return np.random.default_rng([self.seed, int(epoch)]).permutation(n)

    def __iter__(self):
        return self.iter_from(0)

    def iter_from(self, start_batch):
        """Iterate the current epoch from batch ``start_batch`` on (then advance the epoch)."""
        if not 0 <= start_batch <= len(self):
            raise ValueError(f"DataLoader.iter_from: expected 0 <= start_batch <= {len(self)}, got {start_batch}")
        epoch = self.epoch
        self.epoch += 1
        batches = self._batches(epoch, int(start_batch), backend_module())
        return _prefetched(batches, self.prefetch) if self.prefetch else batches

    def _batches(self, epoch, start_batch, xp):
        order = self.order(epoch)
        for b in range(start_batch, len(self)):
            augment_rng = np.random.default_rng([self.seed, int(epoch), 1, b])
            yield self._make_batch(order[b * self.batch_size:(b + 1) * self.batch_size], xp, augment_rng)

    def _make_batch(self, indices, xp, rng):
        if hasattr(self.dataset, "get_batch"):
            x, y = self.dataset.get_batch(indices, xp, rng)
        else:
            items = [self.dataset[int(i)] for i in indices]
            x = np.stack([np.asarray(to_device(getattr(item[0], "data", item[0]), "numpy")) for item in items])
            y = np.asarray([int(item[1]) for item in items], dtype=np.int64)
            x = xp.asarray(to_device(x.astype(np.float32, copy=False), xp.__name__))
            y = xp.asarray(to_device(y, xp.__name__))
        if self.transform is not None:
            x = apply_transform(self.transform, x, rng)
        return x, y

    def __repr__(self):
        return (f"DataLoader({type(self.dataset).__name__}(n={len(self.dataset)}), batch_size={self.batch_size}, "
                f"shuffle={self.shuffle}, drop_last={self.drop_last}, prefetch={self.prefetch})")


class _Failure:
    def __init__(self, exc):
        self.exc = exc


_END = object()


def _prefetched(batches, depth):
    """Run the generator ``batches`` in a thread, ``depth`` items ahead (a bounded queue)."""
    ready = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item):
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def work():
        try:
            for batch in batches:
                if not put(batch):
                    return
            put(_END)
        except BaseException as e:  # handed to the consumer, raised there
            put(_Failure(e))

    thread = threading.Thread(target=work, name="minicnn-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item = ready.get()
            if item is _END:
                return
            if isinstance(item, _Failure):
                raise item.exc
            yield item
    finally:  # also on break / garbage collection: let the worker finish
        stop.set()
        thread.join(timeout=5)
