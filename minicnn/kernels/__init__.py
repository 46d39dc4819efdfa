"""Hot loops, behind one seam. Every fast kernel (Numba on CPU, CUDA on GPU) has a
plain-NumPy reference beside it that is written for reading; tests check that they agree.

    kernels.im2col(x, kernel, stride, padding, dilation)       kernels.col2im(cols, x_shape, ...)
    kernels.maxpool_forward / maxpool_backward                 kernels.avgpool_forward / avgpool_backward
    kernels.lrn_forward / lrn_backward                         kernels.gemm_output_to_nchw / nchw_to_gemm_layout
    kernels.winograd_transform_tiles / _untransform_tiles      kernels.batch_norm_stats / _apply / _backward_sums / _input

each pick the implementation from the array (``dispatch.py``: CuPy -> CUDA, NumPy -> Numba or
the reference). ``set_kernels("numba" | "numpy")`` picks the CPU implementation (default:
Numba when it imports); CuPy arrays always take the GPU path. ``kernels.TABLE`` holds what
runs where, ``kernels.describe()`` names it; ``kernels.memory`` keeps conv's big buffers.
"""
import os

_CHOICES = ("numba", "numpy")


def _default_numba_cache_dir():
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "minicnn", "numba")


def _configure_numba_cache():
    """Numba's cache=True writes next to the source by default, which fails when the package
    is installed read-only; send it to a user cache dir unless the user chose one."""
    if "NUMBA_CACHE_DIR" in os.environ:
        return
    path = _default_numba_cache_dir()
    try:
        os.makedirs(path, exist_ok=True)
        probe = os.path.join(path, ".write-test")
        with open(probe, "w"):
            pass
        os.remove(probe)
    except OSError:
        import tempfile
        path = os.path.join(tempfile.gettempdir(), f"minicnn-numba-{os.getuid() if hasattr(os, 'getuid') else 'user'}")
    os.environ["NUMBA_CACHE_DIR"] = path


_configure_numba_cache()

try:
    import numba as _numba
    NUMBA_AVAILABLE = True
except Exception:  # pragma: no cover - numba is a dependency, but keep NumPy working without it
    _numba = None
    NUMBA_AVAILABLE = False

_selected = "numba" if NUMBA_AVAILABLE else "numpy"


def set_kernels(name):
    """Select the CPU kernels: "numba" (fast) or "numpy" (the readable references)."""
    global _selected
    if name not in _CHOICES:
        raise ValueError(f"set_kernels: expected one of {_CHOICES}, got {name!r}")
    if name == "numba" and not NUMBA_AVAILABLE:
        raise RuntimeError("set_kernels('numba'): numba is not importable; pip install numba")
    _selected = name


def get_kernels():
    return _selected


def njit(*args, **kwargs):
    """numba.njit with cache=True by default (no-op decorator when numba is missing)."""
    kwargs.setdefault("cache", True)
    if _numba is None:
        return (lambda f: f) if not args or not callable(args[0]) else args[0]
    return _numba.njit(*args, **kwargs)


from .dispatch import (IMPLEMENTATIONS, TABLE, avgpool_backward, avgpool_forward, col2im,  # noqa: E402
                       describe, gemm_output_to_nchw, im2col, implementation_for, lrn_backward,
                       lrn_forward, maxpool_backward, maxpool_forward, nchw_to_gemm_layout, register,
                       run, winograd_transform_tiles, winograd_untransform_tiles, batch_norm_stats,
                       batch_norm_apply, batch_norm_backward_sums, batch_norm_backward_input)
from . import memory  # noqa: E402
