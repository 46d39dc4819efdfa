"""Version counters: catching an in-place change between forward and backward.

A Function keeps some of its inputs' arrays for backward (``self.x = x``). If such an array
is changed in place before ``backward()`` (``x[0] = 1``, ``x += 1``, or ``optimizer.step()``
between forward and backward), the gradient would be computed from the new values in silence.
So every Tensor carries a counter that each in-place change bumps; a Function records the
counters of the inputs whose arrays it kept, and the backward walk checks them first, as
PyTorch does. Changes made through the raw array (``x.data[...] = ...``) are not counted,
again as in PyTorch, where ``.data`` is the way around autograd.
"""
import numpy as np

from .backend import is_cupy_array


class VersionCounter:
    """How many times a tensor's data has been changed in place; shared by ``detach()``ed copies."""
    __slots__ = ("value",)

    def __init__(self):
        self.value = 0


def _root(array):
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


def _kept_arrays(function):
    for value in vars(function).values():
        for item in (value if isinstance(value, (tuple, list)) else (value,)):
            if isinstance(item, np.ndarray) or is_cupy_array(item):
                yield _root(item)


def record_saved_versions(function, inputs):
    """After forward: note the version of every input whose memory the function kept."""
    kept = {id(a) for a in _kept_arrays(function)}
    function.saved_versions = [(i, x._version) for i, x in enumerate(inputs) if id(_root(x.data)) in kept]


def check_saved_versions(function):
    """Before backward: a RuntimeError if a kept input was changed in place since forward."""
    for i, version in getattr(function, "saved_versions", ()):
        x = function.inputs[i]
        if x._version != version:
            raise RuntimeError(
                f"one of the variables needed for gradient computation has been modified by an "
                f"inplace operation: input {i} of {type(function).__name__} (a Tensor of shape "
                f"{x.shape}, dtype {x.dtype}) is at version {x._version}; expected version {version} "
                f"instead. It was changed in place (x[...] = ..., x += ..., optimizer.step()) after the "
                f"forward pass that used it and before backward(): change a copy (x.clone()) instead, "
                f"or run the forward pass again after the change")
