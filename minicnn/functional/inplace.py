"""When an op may write its result into its input's array (``relu(x, inplace=True)``, ``add(a, b, inplace=True)``).

Writing into the input saves one array of the input's size per op: no fresh allocation (and
its page faults), and no second copy kept alive by the graph until backward. Autograd stays
right only if nobody needs the old values any more. The rule, checked before the write:

- a leaf that requires grad (a parameter, an input) is never overwritten: its ``.grad`` is
  defined for the values it holds;
- the function that made the input must not have kept the input's memory for its backward
  (``SigmoidFunction`` keeps its output y; BatchNorm without affine keeps xhat, which is its
  output) and the input must not be a view of that function's own inputs (a reshape, a slice);
  either case raises ``RuntimeError`` at once, naming the function;
- any *other* function that kept the array for its backward is caught by the version counter
  (``minicnn.versions``): the write bumps the input's version, and that function's backward
  raises instead of computing from the new values.

The output shares the input's array and its version counter, as PyTorch's ``relu_`` does.
"""
import numpy as np

from ..backend import is_cupy_array
from ..function import is_grad_enabled


def _root(array):
    while getattr(array, "base", None) is not None:
        array = array.base
    return array


def _kept_roots(function):
    """ids of the memory blocks a Function holds for backward (its saved arrays, not its inputs)."""
    roots = set()
    for name, value in vars(function).items():
        if name == "inputs":
            continue
        for item in (value if isinstance(value, (tuple, list)) else (value,)):
            if isinstance(item, np.ndarray) or is_cupy_array(item):
                roots.add(id(_root(item)))
    return roots


def check_inplace(x, op):
    """Raise RuntimeError when writing into Tensor ``x`` would corrupt a gradient (the rule above).

    An in-place op's output is its input's array, so the walk goes on down through in-place
    creators (relu(add(out, shortcut, inplace=True), inplace=True) writes one array three times)."""
    t = x
    while t.requires_grad and t.creator is not None and t.creator.inputs is not None:
        creator, root = t.creator, id(_root(t.data))
        if root in _kept_roots(creator):
            raise RuntimeError(f"{op}(inplace=True): {type(creator).__name__} kept its output for its "
                               f"backward, so the input (shape {x.shape}) cannot be overwritten; use inplace=False")
        if getattr(creator, "inplace", False):   # wrote into its first input: that array is this one
            t = creator.inputs[0]
            continue
        if any(id(_root(i.data)) == root for i in creator.inputs):
            raise RuntimeError(f"{op}(inplace=True): the input (shape {x.shape}) is a view of an input of "
                               f"{type(creator).__name__}; overwriting it would change that tensor too. "
                               f"Use inplace=False")
        return
    if t.requires_grad and t.creator is None and is_grad_enabled():
        raise RuntimeError(f"{op}(inplace=True): the input is a leaf tensor that requires grad "
                           f"(shape {x.shape}); its values must stay as they are for backward. "
                           f"Use inplace=False")


def mark_inplace(x, y):
    """After the write: ``x`` changed in place (bump its version); ``y`` shares its counter."""
    bump = getattr(x, "_bump_version", None)
    if bump is not None:
        bump()
        y._versions = x._versions
    return y
