"""Memory for the big temporaries of convolution: reuse across steps, and chunking.

Conv's temporaries (cols, the GEMM output, dcols, gY) are 10-400 MB for AlexNet-sized
batches. Two habits keep them cheap on the CPU:

- **reuse** (:class:`Workspace`): glibc hands blocks of more than a few MB back to the OS
  when they are freed, so a fresh 100+ MB array is paid again in page faults at first
  touch, every step; for AlexNet b64 that was a third of the step time. ``take`` an array
  of a shape and dtype, ``give`` it back after its last use, and the next ``take`` of the
  same shape and dtype gets it again.
- **chunking** (:func:`chunk_length`, :func:`chunk_ranges`): the input gradient's dcols is
  built a few samples at a time so it stays below ``CHUNK_BYTES``; a few big GEMMs beat
  many small ones, and a bounded buffer beats one the size of the batch.

CuPy has its own memory pool: ``take`` of a CuPy shape is a plain ``cupy.empty``.
"""
import numpy as np

CHUNK_BYTES = 256 << 20   # bounds dcols of the conv input gradient


class Workspace:
    """A pool of big NumPy arrays keyed by (shape, dtype).

    Only plain, unshared NumPy arrays of at least ``min_bytes`` are kept, at most
    ``max_bytes`` in all.
    """

    def __init__(self, max_bytes=2 << 30, min_bytes=1 << 20):
        self.max_bytes, self.min_bytes = max_bytes, min_bytes
        self._free, self._bytes = {}, 0

    def take(self, xp, shape, dtype):
        """An uninitialised array of ``shape`` and ``dtype`` (a kept one when there is one)."""
        shape, dtype = tuple(shape), np.dtype(dtype)
        free = self._free.get((shape, dtype.str)) if xp is np else None
        if free:
            array = free.pop()
            self._bytes -= array.nbytes
            return array
        return xp.empty(shape, dtype=dtype)

    def give(self, array):
        """Keep ``array`` for a later ``take`` (the caller must not use it any more)."""
        if (type(array) is not np.ndarray or array.base is not None or array.nbytes < self.min_bytes
                or self._bytes + array.nbytes > self.max_bytes):
            return
        self._free.setdefault((array.shape, array.dtype.str), []).append(array)
        self._bytes += array.nbytes

    def clear(self):
        """Drop every kept buffer (memory goes back to the OS)."""
        self._free, self._bytes = {}, 0


workspace = Workspace()


def take(xp, shape, dtype):
    """``workspace.take``: an uninitialised (reused where possible) array."""
    return workspace.take(xp, shape, dtype)


def give(array):
    """``workspace.give``: hand back an array after its last use."""
    workspace.give(array)


def chunk_length(n_items, bytes_per_item, limit=None):
    """How many items (at least 1, at most ``n_items``) fit in ``limit`` bytes (default CHUNK_BYTES)."""
    limit = CHUNK_BYTES if limit is None else limit
    if bytes_per_item <= 0:
        return max(1, n_items)
    return max(1, min(n_items, limit // bytes_per_item))


def chunk_ranges(n_items, length):
    """[(0, length), (length, 2*length), ..., (.., n_items)]."""
    return [(start, min(n_items, start + length)) for start in range(0, n_items, length)]
