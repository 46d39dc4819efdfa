"""Function: one differentiable op, forward and backward on raw arrays; and the backward walk.

A Function call records the graph (define-by-run): each output Tensor points at its
creator, the creator holds its inputs. ``backward`` walks that graph from the loss in
reverse topological order (by generation, with a heap, no recursion), hands each Function
the gradients of its outputs and accumulates what it returns into its inputs.
The engine explained, with a worked example and a minimal walk beside this one: docs/autograd.md.
"""
import contextlib
import heapq
import itertools
import threading
import weakref

import numpy as np

from .backend import get_array_module
from .versions import check_saved_versions, record_saved_versions

_state = threading.local()


def is_grad_enabled():
    return getattr(_state, "enable_grad", True)


@contextlib.contextmanager
def _grad_mode(enabled):
    previous = is_grad_enabled()
    _state.enable_grad = enabled
    try:
        yield
    finally:
        _state.enable_grad = previous


def no_grad():
    """Context manager (or decorator): ops inside record no graph."""
    return _grad_mode(False)


def enable_grad():
    return _grad_mode(True)


class Function:
    """Base class. Subclasses define ``forward(*arrays)`` and ``backward(*grad_outputs)``.

    ``forward`` gets raw arrays and returns an array or a tuple of arrays; what backward
    needs it saves on ``self``. ``backward`` gets one gradient array per output and returns
    one per input (or None where ``self.needs_input_grad[i]`` is False).
    ``check`` gets the same arrays as ``forward`` and raises on bad input; ``__call__`` runs
    it once, before ``forward``, so ``forward`` holds only the math.
    ``retain_graph`` is True while ``backward`` runs under ``backward(retain_graph=True)``: a
    backward that lets go of its saved arrays early (to save memory) must then keep them,
    because a second backward will need them.
    """

    generation = 0
    inputs = None
    retain_graph = False

    def __call__(self, *inputs):
        from .tensor import Tensor, as_tensor

        like = next((x for x in inputs if isinstance(x, Tensor)), None)
        inputs = [as_tensor(x, like=like, op=type(self).__name__) for x in inputs]
        get_array_module(*inputs)  # raises TypeError when NumPy and CuPy arrays are mixed
        record = is_grad_enabled() and any(x.requires_grad for x in inputs)
        self.needs_input_grad = tuple(record and x.requires_grad for x in inputs)
        arrays = [x.data for x in inputs]
        self.check(*arrays)
        ys = self.forward(*arrays)
        single = not isinstance(ys, tuple)
        outputs = [Tensor(y) for y in ((ys,) if single else ys)]
        if record:
            self.generation = max(x.generation for x in inputs)
            for i, y in enumerate(outputs):
                y.creator, y.output_index, y.requires_grad = self, i, True
                y.generation = self.generation + 1
            self.inputs = inputs
            record_saved_versions(self, inputs)  # so backward can refuse inputs changed in place
            self.outputs = [weakref.ref(y) for y in outputs]
            self.output_meta = [(y.shape, y.dtype) for y in outputs]
        return outputs[0] if single else tuple(outputs)

    def check(self, *xs):
        """Validate the input arrays (shapes, dtypes) before ``forward``; raise ValueError or
        TypeError naming the op, what was expected and what came. Default: accept."""

    def forward(self, *xs):
        raise NotImplementedError

    def backward(self, *gys):
        raise NotImplementedError

    def release(self):
        """Drop inputs and everything saved for backward (the graph is freed after use)."""
        for name in list(vars(self)):
            if name != "generation":
                delattr(self, name)
        self.inputs = None

    def __repr__(self):
        return f"<{type(self).__name__} backward>"


def _accumulate(current, new):
    return new if current is None else current + new


def run_backward(root, grad, retain_graph=False):
    """Propagate ``grad`` (an array shaped like ``root``) to every leaf that requires grad."""
    from .tensor import Tensor

    if root.creator is None:
        root.grad = Tensor(_accumulate(None if root.grad is None else root.grad.data, grad))
        return
    pending = {id(root.creator): {root.output_index: grad}}
    order = itertools.count()  # tie-breaker: functions are not comparable
    heap = [(-root.creator.generation, next(order), root.creator)]
    queued = {id(root.creator)}
    while heap:
        _, _, f = heapq.heappop(heap)
        if f.inputs is None:
            raise RuntimeError(
                f"backward through {type(f).__name__} a second time: its graph was freed by the "
                "first backward(); pass backward(retain_graph=True) the first time to keep it")
        grads = pending.pop(id(f))
        gys = []
        for i, (shape, dtype) in enumerate(f.output_meta):
            gy = grads.get(i)
            if gy is None:  # an output that did not reach the loss
                xp = get_array_module(f.inputs[0])
                gy = xp.zeros(shape, dtype=dtype)
            gys.append(gy)
        check_saved_versions(f)
        f.retain_graph = retain_graph
        gxs = f.backward(*gys)
        if not isinstance(gxs, tuple):
            gxs = (gxs,)
        if len(gxs) != len(f.inputs):
            raise RuntimeError(f"{type(f).__name__}.backward returned {len(gxs)} gradients "
                               f"for {len(f.inputs)} inputs")
        for x, gx, needed in zip(f.inputs, gxs, f.needs_input_grad):
            if not needed or gx is None:
                continue
            if gx.shape != x.shape:
                raise RuntimeError(f"{type(f).__name__}.backward returned a gradient of shape "
                                   f"{gx.shape} for an input of shape {x.shape}")
            if x.creator is None:
                x.grad = Tensor(_accumulate(None if x.grad is None else x.grad.data, gx))
                continue
            slot = pending.setdefault(id(x.creator), {})
            slot[x.output_index] = _accumulate(slot.get(x.output_index), gx)
            if id(x.creator) not in queued:
                queued.add(id(x.creator))
                heapq.heappush(heap, (-x.creator.generation, next(order), x.creator))
        if not retain_graph:
            f.release()


def unbroadcast(grad, shape):
    """Sum ``grad`` down to ``shape``: the adjoint of broadcasting an array of that shape."""
    if grad.shape == tuple(shape):
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1)
    grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape) if lead else grad


def broadcast_shapes(op, *shapes):
    """The broadcast shape, or a ValueError that names the op and both shapes."""
    try:
        return np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"{op}: shapes {' and '.join(str(tuple(s)) for s in shapes)} "
                         "do not broadcast") from None
