"""Dtype names as PyTorch spells them: ``mc.float32``, ``mc.int64``, ``mc.bool``, ...

They are NumPy dtypes, so they work wherever NumPy (or CuPy) takes a dtype, and a Tensor's
``dtype`` compares equal to them (``x.dtype == mc.float32``).
"""
import builtins

import numpy as np

float32 = np.dtype("float32")
float64 = np.dtype("float64")
float16 = np.dtype("float16")
int64 = np.dtype("int64")
int32 = np.dtype("int32")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
bool = np.dtype("bool")  # noqa: A001 - PyTorch's name; the builtin stays reachable as builtins.bool
double, half, long = float64, float16, int64

NAMES = ("float32", "float64", "float16", "int64", "int32", "int8", "uint8", "bool",
         "double", "half", "long")


def as_dtype(dtype, op="dtype"):
    """``dtype`` (a name above, a NumPy dtype or type, or a string) as a NumPy dtype; None stays None."""
    if dtype is None:
        return None
    if dtype is builtins.float:
        return float32      # PyTorch: a Python float means the default float dtype
    if dtype is builtins.int:
        return int64
    try:
        result = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{op}: expected a dtype such as minicnn.float32, 'float32' or numpy.float32; "
                        f"got {dtype!r}") from None
    if result.kind not in "biuf":
        raise TypeError(f"{op}: expected a boolean, integer or floating dtype; got {result}")
    return result
