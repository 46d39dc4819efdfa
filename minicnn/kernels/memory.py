"""Memory for the big temporaries of convolution: reuse across steps, and chunking.

Conv's temporaries (cols, the GEMM output, dcols, gY) are 10-400 MB for AlexNet-sized
batches. Two habits keep them cheap on the CPU:

- **reuse**: glibc, by default, hands blocks of more than a few MB back to the OS when they
  are freed, so a fresh 100+ MB array is paid again in page faults at first touch, every
  step; for AlexNet b64 that was a third of the step time. :func:`tune_allocator` (below)
  makes glibc keep and reuse them. Where it cannot, :class:`Workspace` does it for conv:
  ``take`` an array of a shape and dtype, ``give`` it back after its last use, and the next
  ``take`` of the same shape and dtype gets it again.
- **a budget for what backward keeps** (:func:`keep`, :func:`kept_bytes`): a conv's im2col
  columns are 9x its input for a 3x3 kernel. The columns the live graph's convs keep for
  their weight gradients are counted, and a conv that would take the total above
  ``mc.backends.conv.saved_columns_bytes`` keeps its input instead and rebuilds the columns
  in backward (one more im2col, a pass of memcpy speed).
- **chunking** (:func:`chunk_length`, :func:`chunk_ranges`): the input gradient's dcols is
  built a few samples at a time so it stays below ``CHUNK_BYTES``; a few big GEMMs beat
  many small ones, and a bounded buffer beats one the size of the batch.

CuPy has its own memory pool: ``take`` of a CuPy shape is a plain ``cupy.empty``.

The other big arrays (activations, gradients, BatchNorm and ReLU outputs) are fresh NumPy
arrays each step. glibc serves blocks above ``M_MMAP_THRESHOLD`` (at most 32 MB) with
``mmap`` and unmaps them on free, so each of them is paid in page faults again next step.
:func:`tune_allocator` (run at import, on Linux with glibc only) sets ``M_MMAP_MAX=0`` and
a large ``M_TRIM_THRESHOLD``: every block comes from the heap, and freed ones stay there for
the next step's arrays of the same sizes instead of going back to the OS. The heap's peak is
the step's peak, as before; it is simply not returned between steps. Set the environment
variable ``MINICNN_MALLOC=system`` before importing minicnn to keep glibc's defaults.
"""
import ctypes
import os
import platform
import sys
import weakref

import numpy as np

CHUNK_BYTES = 256 << 20   # bounds dcols of the conv input gradient
SAVED_COLUMNS_BYTES = 768 << 20   # default of mc.backends.conv.saved_columns_bytes (measured: benchmarks/ANALYSIS.md)


M_TRIM_THRESHOLD, M_MMAP_MAX = -1, -4        # mallopt parameters, from glibc's <malloc.h>
TRIM_THRESHOLD_BYTES = 1 << 30               # freed heap above this much goes back to the OS
allocator_tuned = False                      # True once tune_allocator() has changed glibc's settings


def tune_allocator():
    """glibc: serve big blocks from the heap (no mmap per array) and keep freed memory for
    reuse. Does nothing (returns False) elsewhere, or when ``MINICNN_MALLOC=system``."""
    global allocator_tuned
    if (not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc"
            or os.environ.get("MINICNN_MALLOC", "").lower() == "system"):
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        allocator_tuned = bool(libc.mallopt(M_MMAP_MAX, 0) and libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    except (OSError, AttributeError):
        allocator_tuned = False
    return allocator_tuned


tune_allocator()


class Workspace:
    """A pool of big NumPy arrays keyed by (shape, dtype).

    Only plain, unshared NumPy arrays of at least ``min_bytes`` are kept, at most
    ``max_bytes`` in all. Kept buffers sit idle between their uses (a conv's dcols through the
    whole next forward pass), so they add to the peak.
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


# With the tuned allocator the heap already reuses freed blocks without page faults, so the
# shared pool keeps nothing (its idle buffers cost 0.5 GB of peak in ResNet-18 b32); elsewhere
# it keeps up to 512 MB to spare the page faults of conv's biggest temporaries.
WORKSPACE_BYTES = 0 if allocator_tuned else 2 * CHUNK_BYTES
workspace = Workspace(max_bytes=WORKSPACE_BYTES)


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


# the im2col columns each live op keeps for its backward: op -> bytes. Weak keys: a graph
# dropped without a backward (an exception, an evaluation without no_grad) frees its ops,
# and their entries go with them.
_kept = weakref.WeakKeyDictionary()


def kept_bytes():
    """Bytes of columns the live ops keep for their backward, all together."""
    return sum(_kept.values())


def keep(owner, nbytes):
    """Count ``nbytes`` kept by ``owner`` (an op) until :func:`release` or until it is freed."""
    _kept[owner] = int(nbytes)


def release(owner):
    """``owner`` keeps nothing any more."""
    _kept.pop(owner, None)
