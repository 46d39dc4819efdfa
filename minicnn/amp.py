"""Mixed precision: float16 compute, float32 master weights, dynamic loss scaling.

The recipe of Micikevicius et al. 2018 ("Mixed Precision Training"):

* the model's Parameters stay float32 (the *master weights*: the optimizer, its state and
  the checkpoints never see float16);
* each forward runs on float16 *copies*: ``MixedPrecision.forward`` casts every float32
  Parameter (and the input) to float16 with a differentiable cast, so convolutions and
  GEMMs run in float16 and the cast's backward turns each float16 weight gradient back
  into a float32 gradient on its master;
* the loss is scaled before backward so small gradients do not underflow float16
  (smallest normal 6.1e-5): the logits come back as float32 through a cast whose backward
  multiplies by ``scale``; ``DynamicLossScaler`` divides the master gradients by it again,
  skips the step when any gradient overflowed (inf/NaN), halves the scale then, and
  doubles it after ``growth_interval`` clean steps.

One training step (``minicnn.train.train_step`` does exactly this when ``fit`` gets ``amp=``)::

    amp = MixedPrecision(model)                  # DynamicLossScaler() by default
    logits = amp.forward(Tensor(x))              # float32 logits, float16 graph inside
    loss = F.cross_entropy(logits, y)            # the loss value is not scaled
    optimizer.zero_grad()
    loss.backward()                              # grads on the float32 masters, times scale
    stepped = amp.step(optimizer)                # unscale; step, or skip on overflow

The examples' ``--amp`` flag builds ``MixedPrecision(model)`` and passes it to
``fit(..., amp=amp)``, which saves the scaler's ``state_dict()`` in every checkpoint and
restores it on ``--resume``, so a resumed run continues with the same loss scale. It is
meant for the CuPy backend, where float16 GEMMs use the GPU's tensor cores. On NumPy it
is correct (the tests run there) but slow: NumPy has no float16 BLAS. See docs/gpu.md.
"""
import contextlib
import math

import numpy as np

from .backend import get_array_module
from .function import Function
from .functional.math import cast
from .tensor import Tensor


class DynamicLossScaler:
    """Loss scale that backs off on overflow and grows while gradients stay finite.

    init_scale: the first scale (2**16, as PyTorch's GradScaler). growth_factor (> 1) and
    growth_interval: the scale is multiplied by growth_factor after that many finite steps
    in a row. backoff_factor (in (0, 1)): the scale is multiplied by it on a step with a
    non-finite gradient, and that step is skipped. Powers of two keep (un)scaling exact.
    """

    def __init__(self, init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5, growth_interval=2000):
        if not (init_scale > 0 and math.isfinite(init_scale)):
            raise ValueError(f"DynamicLossScaler: init_scale must be a finite positive number, got {init_scale}")
        if not growth_factor > 1:
            raise ValueError(f"DynamicLossScaler: growth_factor must be > 1, got {growth_factor}")
        if not 0 < backoff_factor < 1:
            raise ValueError(f"DynamicLossScaler: backoff_factor must be in (0, 1), got {backoff_factor}")
        if int(growth_interval) != growth_interval or growth_interval < 1:
            raise ValueError(f"DynamicLossScaler: growth_interval must be a positive integer, got {growth_interval}")
        self.scale = float(init_scale)
        self.growth_factor = float(growth_factor)
        self.backoff_factor = float(backoff_factor)
        self.growth_interval = int(growth_interval)
        self.finite_steps = 0      # finite steps since the last change of scale
        self.skipped_steps = 0     # total, for logs

    def unscale_(self, params):
        """Divide each param's grad by the scale, in place; True when all are finite."""
        grads = [p.grad.data for p in params if p.grad is not None]
        if not grads:
            return True
        xp = get_array_module(*grads)
        flags = []
        for g in grads:
            g *= g.dtype.type(1.0 / self.scale)   # in the grad's dtype: float32 stays float32
            flags.append(xp.isfinite(g).all())
        return bool(xp.stack(flags).all())      # one device->host sync for all params

    def update(self, found_finite):
        """Back off after an overflow; grow after growth_interval finite steps in a row."""
        if not found_finite:
            self.scale *= self.backoff_factor
            self.finite_steps = 0
            self.skipped_steps += 1
            return
        self.finite_steps += 1
        if self.finite_steps >= self.growth_interval:
            self.scale *= self.growth_factor
            self.finite_steps = 0

    def step(self, optimizer, params):
        """Unscale the grads of ``params``; optimizer.step() only when all are finite;
        update the scale. Returns whether the optimizer stepped.

        A distributed optimizer (one with ``synchronize()``) averages the gradients first, so
        every rank sees the same gradients, takes the same skip decision and keeps the same
        scale (a rank that skipped alone would leave the others waiting in the all-reduce)."""
        params = list(params)
        if hasattr(optimizer, "synchronize"):
            optimizer.synchronize()
        finite = self.unscale_(params)
        if finite:
            optimizer.step()
        self.update(finite)
        return finite

    def state_dict(self):
        """The scaler's position (JSON-able): checkpoints keep it, so a resumed run goes on with
        the same scale and the same count towards the next growth."""
        return {"scale": self.scale, "finite_steps": self.finite_steps, "skipped_steps": self.skipped_steps}

    def load_state_dict(self, state):
        missing = {"scale", "finite_steps"} - set(state)
        if missing:
            raise ValueError(f"DynamicLossScaler.load_state_dict: expected keys scale and finite_steps, "
                             f"missing {', '.join(sorted(missing))} in {state!r}")
        scale, finite_steps = float(state["scale"]), int(state["finite_steps"])
        if not (scale > 0 and math.isfinite(scale)) or finite_steps < 0:
            raise ValueError(f"DynamicLossScaler.load_state_dict: expected a finite positive scale and "
                             f"finite_steps >= 0, got scale {scale} and finite_steps {finite_steps}")
        self.scale, self.finite_steps = scale, finite_steps
        self.skipped_steps = int(state.get("skipped_steps", 0))

    def __repr__(self):
        return (f"DynamicLossScaler(scale={self.scale:g}, growth_factor={self.growth_factor:g}, "
                f"backoff_factor={self.backoff_factor:g}, growth_interval={self.growth_interval})")


class ScaledOutputCast(Function):
    """y = x cast to float32 (the model's output, e.g. float16 logits).
    Backward: gx = (gy * scale) cast back to x's dtype — the loss scaling, applied where
    the gradient enters the float16 part of the graph, so the loss itself stays unscaled."""

    def __init__(self, scale, dtype=np.float32):
        self.scale = scale
        self.dtype = np.dtype(dtype)

    def forward(self, x):
        self.x_dtype = x.dtype
        return x.astype(self.dtype)

    def backward(self, gy):
        return (gy * gy.dtype.type(self.scale)).astype(self.x_dtype)


class MixedPrecision:
    """Runs ``model`` with float16 copies of its float32 Parameters; see the module docstring.

    model: an nn.Module whose float32 Parameters are the master weights (float64 ones are
    left alone). loss_scaler: a DynamicLossScaler (a fresh one by default).
    compute_dtype: float16. Buffers (BatchNorm running statistics) stay float32.
    """

    def __init__(self, model, loss_scaler=None, compute_dtype=np.float16):
        from .nn.module import Module
        if not isinstance(model, Module):
            raise TypeError(f"MixedPrecision: expected an nn.Module, got {type(model).__name__}")
        self.model = model
        self.loss_scaler = DynamicLossScaler() if loss_scaler is None else loss_scaler
        self.compute_dtype = np.dtype(compute_dtype)
        if self.compute_dtype.kind != "f" or self.compute_dtype.itemsize >= 4:
            raise ValueError(f"MixedPrecision: compute_dtype must be a 16-bit float, got {self.compute_dtype}")

    @contextlib.contextmanager
    def compute_weights(self):
        """Inside, every module sees float16 casts of its float32 Parameters (one cast per
        Parameter, also when modules share it); the Parameters come back on exit."""
        casts, swapped = {}, []
        try:
            for module in self.model.modules():
                for name, p in module._parameters.items():
                    if p is None or p.dtype != np.float32:
                        continue
                    if id(p) not in casts:
                        casts[id(p)] = cast(p, self.compute_dtype)
                    swapped.append((module, name, p))
                    module._parameters[name] = casts[id(p)]
            yield
        finally:
            for module, name, p in swapped:
                module._parameters[name] = p

    def forward(self, *inputs):
        """model(*inputs) in float16; floating outputs come back as float32 Tensors whose
        backward scales the gradient by the current loss scale."""
        inputs = [cast(x, self.compute_dtype) if _is_float(x) else x for x in inputs]
        with self.compute_weights():
            out = self.model(*inputs)
        scale = self.loss_scaler.scale
        if isinstance(out, tuple):
            return tuple(ScaledOutputCast(scale)(o) if _is_float(o) else o for o in out)
        return ScaledOutputCast(scale)(out)

    __call__ = forward

    def step(self, optimizer):
        """Unscale the master grads, step unless one overflowed, update the scale.
        Returns True when the optimizer stepped."""
        # every grad upstream of the scaled output is scaled, float64 Parameters' too
        return self.loss_scaler.step(optimizer, self.model.parameters())

    @property
    def scale(self):
        return self.loss_scaler.scale

    def state_dict(self):
        """The loss scaler's state (the float32 masters are the model's own state_dict)."""
        return self.loss_scaler.state_dict()

    def load_state_dict(self, state):
        self.loss_scaler.load_state_dict(state)


def _is_float(x):
    data = x.data if isinstance(x, Tensor) else x
    return hasattr(data, "dtype") and data.dtype.kind == "f"
