"""Which examples each rank sees: a seeded permutation per epoch, dealt out like cards.

Every rank draws the same permutation (same seed, same epoch, a generator of its own, not the
library's) and takes every ``size``-th index starting at its rank. Dealing, rather than cutting
the permutation into blocks, has a useful property: batch k of every rank together is exactly
batch k (of size ``size * B``) of the one-process run over the same permutation, so N ranks with
batch B reproduce one process with batch N*B step for step.

Equal shard sizes matter: every rank must run the same number of steps, or the ranks that
finish first stop calling the allreduce the others wait in. Three ways to get there:

* ``drop_last=False`` (default, for training): the permutation is padded by wrapping around to
  a multiple of ``size``, so up to ``size - 1`` examples appear twice in an epoch.
* ``drop_last=True``: the tail is dropped instead (up to ``size - 1`` examples skipped, a
  different few each epoch when shuffling).
* ``pad=False`` (for evaluation, where no per-batch collective runs): shards differ by at most
  one example and cover the dataset exactly once, so summed metrics are exact.
"""
import numpy as np


def _check(n, rank, size, epoch, seed):
    for name, value in (("n", n), ("rank", rank), ("size", size), ("epoch", epoch), ("seed", seed)):
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 0:
            raise ValueError(f"shard_indices: {name} must be a non-negative integer, got {value!r}")
    if size < 1 or rank >= size:
        raise ValueError(f"shard_indices: need 0 <= rank < size, got rank {rank}, size {size}")


def shard_indices(n, rank, size, epoch=0, seed=0, shuffle=True, drop_last=False, pad=True):
    """The indices (int64 array) of the ``n`` examples that ``rank`` of ``size`` uses in ``epoch``.

    shuffle: a permutation seeded by (seed, epoch), identical on every rank; else 0..n-1.
    drop_last / pad: see the module docstring (equal sizes by wrapping, by dropping, or unequal).
    """
    _check(n, rank, size, epoch, seed)
    if shuffle:
        order = np.random.default_rng([int(seed), int(epoch)]).permutation(n)
    else:
        order = np.arange(n)
    if drop_last:
        order = order[:n - n % size]
    elif pad and n % size:
        if n == 0:
            raise ValueError(f"shard_indices: cannot pad an empty dataset to {size} ranks")
        order = np.resize(order, n + size - n % size)  # np.resize repeats from the start
    return order[rank::size].astype(np.int64)


class DistributedSampler:
    """Iterable over this rank's indices, PyTorch style: call ``set_epoch(e)`` before each
    epoch so that the permutation changes (the trainer does when the loader has set_epoch)."""

    def __init__(self, n, comm=None, rank=None, size=None, shuffle=True, seed=0, drop_last=False,
                 pad=True):
        n = len(n) if hasattr(n, "__len__") else n
        self.n = n
        self.rank = comm.rank if rank is None else rank
        self.size = comm.size if size is None else size
        self.shuffle, self.seed, self.drop_last, self.pad = shuffle, seed, drop_last, pad
        self.epoch = 0
        _check(n, self.rank, self.size, 0, seed)

    def set_epoch(self, epoch):
        self.epoch = int(epoch)

    def indices(self):
        return shard_indices(self.n, self.rank, self.size, self.epoch, self.seed, self.shuffle,
                             self.drop_last, self.pad)

    def __iter__(self):
        return iter(self.indices().tolist())

    def __len__(self):
        if self.drop_last:
            return self.n // self.size
        if self.pad:
            return -(-self.n // self.size)
        return self.n // self.size + (self.rank < self.n % self.size)


class DatasetShard:
    """This rank's part of ``dataset`` (what :func:`shard_dataset` returns): ``len``, ``ds[i]``
    and, when the dataset has it, the DataLoader's whole-batch ``get_batch`` fast path."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = np.asarray(indices, dtype=np.int64)
        self.classes = getattr(dataset, "classes", None)
        if hasattr(dataset, "get_batch"):
            self.get_batch = lambda idx, xp=None, rng=None: dataset.get_batch(
                self.indices[np.asarray(idx, dtype=np.int64)], xp, rng)

    def __len__(self):
        return len(self.indices)

    def __getitem__(self, i):
        return self.dataset[int(self.indices[i])]

    def __repr__(self):
        return f"DatasetShard({type(self.dataset).__name__}, {len(self)} of {len(self.dataset)} samples)"


def shard_dataset(dataset, comm, seed=0, shuffle=True, drop_last=False, pad=True, epoch=0):
    """The part of ``dataset`` that rank ``comm.rank`` trains on: ``shard_indices(len(dataset),
    comm.rank, comm.size, epoch, seed, shuffle, drop_last, pad)`` as a dataset. A fixed
    partition for the whole run (the DataLoader reshuffles within it every epoch); equal sizes
    by default, so every rank runs the same number of steps. For a test set use
    ``shuffle=False, pad=False`` (every sample exactly once; see reduce_metrics)."""
    return DatasetShard(dataset, shard_indices(len(dataset), comm.rank, comm.size, epoch, seed,
                                               shuffle, drop_last, pad))
