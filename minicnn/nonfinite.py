"""The trainer's guard against NaN/inf: only finite weights are ever kept or saved.

After every optimizer step the guard checks, in one fused reduction on the device, that the
loss, every parameter, every optimizer state array and every buffer (BatchNorm's running
statistics) are finite. The optimizer's update kernels (``kernels/optim.py``) already say,
for each parameter they updated, whether its new weights and state are finite: they computed
that in the same pass as the update, so those arrays are not read again. Every other array
(buffers, parameters without a gradient, state of another optimizer) gets
``isfinite(a).all()``. The flags stay on the device, are stacked and reduced, and only that one
boolean crosses to the host. When the check fails it
says where the NaN came from (the first layer whose output was not finite, or the first
parameter whose gradient was not), and either raises ``NonFiniteError`` or, when skipping,
puts back the weights, optimizer state and buffers exactly as they were before the step.
"""
import contextlib
import math

import numpy as np

from .backend import get_array_module
from .kernels import optim as update_kernels
from .tensor import Tensor


class NonFiniteError(FloatingPointError):
    """The loss, a gradient or the weights became NaN/inf; the message names the step and where."""


def _arrays(model, optimizer, checked=()):
    """Every parameter, buffer and optimizer state array (live, not copies), less the parameters
    in ``checked`` and their state: the optimizer's update kernels already said whether those are finite."""
    params = [p for p in model.parameters() if id(p) not in checked]
    arrays = [p.data for p in params]
    arrays += [b for m in model.modules() for b in m._buffers.values() if b is not None and hasattr(b, "dtype")]
    for key, slots in optimizer.state.items():
        if key not in checked:
            arrays += [v for v in slots.values() if hasattr(v, "dtype") and getattr(v, "ndim", 0) > 0]
    return [a for a in arrays if a.dtype.kind in "fc"]


def _flags_finite(flags, arrays):
    """True when every flag is true and every array is finite: one fused reduction, one host sync.
    ``flags`` are the update kernels' (Python bools on NumPy, device scalars on CuPy)."""
    device = [f for f in flags if not isinstance(f, (bool, np.bool_))]
    if not all(bool(f) for f in flags if isinstance(f, (bool, np.bool_))):
        return False
    if not device:
        return all_finite(arrays)
    xp = get_array_module(*device)
    return bool(xp.stack([xp.asarray(f).all() for f in device] + [update_kernels.all_finite(a) for a in arrays]).all())


def all_finite(arrays):
    """True when every array is finite: one host sync for all of them."""
    if not arrays:
        return True
    xp = get_array_module(*arrays)
    if xp is np:
        return all(update_kernels.all_finite(a) for a in arrays)
    return bool(xp.stack([update_kernels.all_finite(a) for a in arrays]).all())


class Snapshot:
    """Copies of the parameters, buffers and optimizer state, to undo one step."""

    def __init__(self, model, optimizer):
        self.model, self.optimizer = model, optimizer
        self.params = [(p, p.data.copy()) for p in model.parameters()]
        self.buffers = [(m, name, b.copy() if hasattr(b, "copy") else b) for m in model.modules()
                        for name, b in m._buffers.items() if b is not None]
        self.state = {key: {k: (v.copy() if hasattr(v, "copy") else v) for k, v in slots.items()}
                      for key, slots in optimizer.state.items()}

    def restore(self):
        for p, value in self.params:
            p.data[...] = value
        for module, name, value in self.buffers:
            module._buffers[name] = value
        self.optimizer.state.clear()
        self.optimizer.state.update(self.state)
        self.optimizer.zero_grad()


class Guard:
    """Watches one training step; ``check(loss_value)`` after it says whether all is finite.

    While ``watching()``, a forward hook on every module keeps ``isfinite(output).all()`` as a
    device scalar (no sync): they are read only when the check fails, to name the first layer
    whose output was not finite in the very step that failed. A container whose output is
    its last child's array reuses that child's flag instead of reading the array again.
    skip: take a Snapshot before each step, so ``undo()`` can put everything back.
    """

    def __init__(self, model, optimizer, skip=False, comm=None):
        self.model, self.optimizer, self.skip, self.comm = model, optimizer, skip, comm
        self.snapshot, self.outputs, self.input_data, self.recording = None, [], None, False
        self.last_output = None

    @contextlib.contextmanager
    def watching(self):
        def hook(name):
            def record(module, inputs, output):
                data = output.data if isinstance(output, Tensor) else None
                if self.recording and data is not None and data.dtype.kind == "f":
                    if module._modules and self.last_output is data:   # a container passing on its last child's output
                        flag = self.outputs[-1][2]
                    else:
                        flag = update_kernels.all_finite(data)
                    self.outputs.append((name, module, flag))
                    self.last_output = data
            return record
        handles = [m.register_forward_hook(hook(n)) for n, m in self.model.named_modules() if n]
        try:
            yield self
        finally:
            for h in handles:
                h.remove()

    def before_step(self, x):
        self.outputs, self.last_output, self.input_data, self.recording = [], None, x, True
        if hasattr(self.optimizer, "step_finite"):
            self.optimizer.step_finite = None    # flags from an earlier step say nothing of this one
        if self.skip:
            self.snapshot = Snapshot(self.model, self.optimizer)

    def check(self, loss_value):
        self.recording, self.last_output = False, None   # evaluation forwards are not watched
        flags = getattr(self.optimizer, "step_finite", None) or {}   # from this step's update kernels
        finite = math.isfinite(loss_value) and _flags_finite(
            list(flags.values()), _arrays(self.model, self.optimizer, checked=flags))
        if self.comm is not None and self.comm.size > 1:   # every rank must take the same branch
            finite = bool(self.comm.allreduce_scalar(int(finite), op="min"))
        return finite

    def undo(self):
        self.snapshot.restore()

    def first_nonfinite_output(self):
        """The input batch, or the first module (in forward order) whose output was not finite."""
        x = self.input_data
        if x is not None and x.dtype.kind == "f" and not all_finite([x]):
            return "the input batch itself (the data has NaN/inf values)"
        for name, module, flag in self.outputs:
            if not bool(flag):
                return f"{name} ({type(module).__name__})"
        return None

    def diagnose(self, loss_value):
        """What went non-finite, for the message: the loss and the first layer whose output was
        not finite, else the first non-finite gradient, else the first non-finite weight."""
        where = self.first_nonfinite_output()
        if not math.isfinite(loss_value):
            where = where or "the loss itself (every layer's output was finite)"
            return f"loss is {loss_value}; it first appeared in {where}"
        name = _first_nonfinite(self.model, lambda p: p.grad.data if p.grad is not None else None)
        if name is not None:
            # a finite loss over non-finite activations (e.g. masked or clipped away): name their layer
            where = f"; the forward output of {where} was already non-finite" if where else ""
            return f"the gradient of {name} is not finite (loss {loss_value:.4g}){where}"
        name = _first_nonfinite(self.model, lambda p: p.data)
        if name is not None:
            return (f"{name} became non-finite in the optimizer step (loss {loss_value:.4g}, gradients finite): "
                    "the step was too large (lower the learning rate) or a hyper-parameter is NaN/inf")
        return (f"a buffer or the optimizer state became non-finite (loss {loss_value:.4g}, weights finite): "
                "lower the learning rate or check the optimizer's hyper-parameters")


def _first_nonfinite(model, array_of):
    """Name of the first parameter (from the output side, where backward starts) whose array is not finite."""
    for name, p in reversed(list(model.named_parameters())):
        a = array_of(p)
        if a is not None and not all_finite([a]):
            return name
    return None
