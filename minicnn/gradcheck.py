"""Check analytic gradients against central finite differences, in float64.

For a function f of tensors and a fixed random projection r of its output, the scalar
L = <f(x), r> has dL/dx_i ~ (L(x + eps e_i) - L(x - eps e_i)) / (2 eps), with error O(eps^2).
Every element of every input that requires grad is compared with the backward pass.
"""
import numpy as np

from .backend import get_array_module, to_numpy
from .function import no_grad
from .tensor import Tensor


class GradcheckError(AssertionError):
    """Raised when an analytic gradient disagrees with the finite-difference one."""


def _outputs(fn, inputs):
    out = fn(*inputs)
    return out if isinstance(out, (tuple, list)) else (out,)


def _projected(fn, inputs, projections):
    with no_grad():
        outs = _outputs(fn, inputs)
    return sum(float((o.data * r).sum()) for o, r in zip(outs, projections))


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, seed=0):
    """True when ``fn``'s backward matches finite differences for every input that
    requires grad; otherwise raises GradcheckError naming the input, the worst element
    and both values. Inputs must be float64 Tensors (the differences need the precision)."""
    inputs = list(inputs)
    for i, x in enumerate(inputs):
        if not isinstance(x, Tensor):
            raise TypeError(f"gradcheck: input {i} must be a Tensor, got {type(x).__name__}")
        if x.requires_grad and x.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} must be float64 for finite differences, got {x.dtype}")
    checked = [i for i, x in enumerate(inputs) if x.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True")

    outs = _outputs(fn, inputs)
    rng = np.random.default_rng(seed)
    projections = []
    for o in outs:
        xp = get_array_module(o.data)
        projections.append(xp.asarray(rng.standard_normal(o.shape)).astype(o.dtype))
    for x in inputs:
        x.grad = None
    # backward of <outs, r>: each output receives its projection as gradient
    total = None
    for o, r in zip(outs, projections):
        if o.requires_grad:
            term = (o * Tensor(r)).sum()
            total = term if total is None else total + term
    if total is None:
        raise ValueError("gradcheck: no output depends on an input that requires grad")
    total.backward()

    for i in checked:
        x = inputs[i]
        analytic = to_numpy(x.grad.data) if x.grad is not None else np.zeros(x.shape)
        numeric = np.zeros(x.shape)
        xp = get_array_module(x.data)
        x.data = xp.ascontiguousarray(x.data)
        flat = x.data.reshape(-1)  # a view: perturb in place
        for j in range(flat.size):
            old = flat[j].item()
            flat[j] = old + eps
            plus = _projected(fn, inputs, projections)
            flat[j] = old - eps
            minus = _projected(fn, inputs, projections)
            flat[j] = old
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        error = np.abs(analytic - numeric) - (atol + rtol * np.abs(numeric))
        if (error > 0).any():
            worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(error)), x.shape))
            raise GradcheckError(
                f"gradcheck: input {i} (shape {x.shape}) gradient mismatch at index {worst}: "
                f"analytic {analytic[worst]:.8g}, numeric {numeric[worst]:.8g} "
                f"(atol={atol}, rtol={rtol}; {int((error > 0).sum())} of {x.size} elements off)")
    return True
