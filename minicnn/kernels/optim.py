"""The optimizers' update rules, behind the kernel seam.

Each rule updates ``w`` and its state arrays in place and returns a flag: True when every value
it wrote (the new weights and state) is finite. The trainer's non-finite guard uses that flag
instead of reading the weights and state a second time.

``all_finite(x)`` is the same check alone, for the arrays no update kernel touched.

Here are the references, in plain NumPy (they run on CuPy arrays too; there the flag is a
device scalar, so no host sync happens). The Numba versions (``optim_numba.py``) make one pass
over w, g and the state, in chunks on all cores, with no temporaries; the references make a
full-size temporary for nearly every operator below. Every hyper-parameter arrives already
cast to the parameter's dtype (``scalars``), so float32 stays float32 and the two agree bit for bit.
"""
from ..backend import get_array_module
from . import optim_numba as _numba
from .dispatch import register, run


def scalars(w, *values):
    """The hyper-parameters as scalars of ``w``'s dtype (float32 arithmetic stays float32)."""
    cast = w.dtype.type
    return tuple(cast(v) for v in values)


def _all_finite(xp, *arrays):
    """isfinite(a).all() of every array, combined on the device (a NumPy bool or a CuPy 0-d array)."""
    flag = xp.isfinite(arrays[0]).all()
    for a in arrays[1:]:
        flag = flag & xp.isfinite(a).all()
    return flag


def adam_update_reference(w, g, m, v, lr_t, beta1, one_minus_beta1, beta2, one_minus_beta2,
                          bias_correction2_sqrt, eps, weight_decay):
    """Adam with L2 decay (``optim/adam.py``): with g <- g + weight_decay * w,

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        w <- w - lr_t * m / (sqrt(v) / sqrt(1 - beta2^t) + eps),   lr_t = lr / (1 - beta1^t)
    """
    xp = get_array_module(w)
    if weight_decay != 0:
        g = g + weight_decay * w
    m *= beta1
    m += one_minus_beta1 * g
    v *= beta2
    v += one_minus_beta2 * (g * g)
    denom = xp.sqrt(v)
    denom /= bias_correction2_sqrt
    denom += eps
    w -= lr_t * m / denom
    return _all_finite(xp, w, m, v)


def sgd_update_reference(w, g, buf, lr, momentum, one_minus_dampening, weight_decay, nesterov, first):
    """SGD, PyTorch's rule (``optim/sgd.py``): with g <- g + weight_decay * w,

        buf <- g                                          (first step; no buffer when momentum = 0)
        buf <- momentum * buf + (1 - dampening) * g       (later steps)
        w   <- w - lr * buf           (nesterov: w <- w - lr * (g + momentum * buf))
    """
    xp = get_array_module(w)
    if weight_decay != 0:
        g = g + weight_decay * w
    if buf is not None:
        if first:
            buf[...] = g
        else:
            buf *= momentum
            buf += one_minus_dampening * g
        g = g + momentum * buf if nesterov else buf
    w -= lr * g
    return _all_finite(xp, w) if buf is None else _all_finite(xp, w, buf)


def sgd_paper_update_reference(w, g, v, lr, momentum, weight_decay, first):
    """SGD, the AlexNet paper's rule (``optim/sgd.py``)::

        v <- -lr * dL/dw                                          (first step)
        v <- momentum * v - lr * dL/dw                            (later steps)
        v <- v - (weight_decay * lr) * w;   w <- w + v
    """
    xp = get_array_module(w)
    if first:
        v[...] = (-lr) * g
    else:
        v *= momentum
        v -= lr * g
    if weight_decay != 0:
        v -= (weight_decay * lr) * w
    w += v
    return _all_finite(xp, w, v)


def all_finite_reference(x):
    """isfinite(x).all(): a NumPy bool, or a CuPy 0-d array (no host sync)."""
    return get_array_module(x).isfinite(x).all()


register("all_finite", all_finite_reference, _numba.all_finite)
register("adam_update", adam_update_reference, _numba.adam_update)
register("sgd_update", sgd_update_reference, _numba.sgd_update)
register("sgd_paper_update", sgd_paper_update_reference, _numba.sgd_paper_update)


def all_finite(x):
    """Whether every value of ``x`` is finite (the trainer's guard checks outputs and buffers so)."""
    return run("all_finite", x)


def adam_update(w, g, m, v, lr_t, beta1, one_minus_beta1, beta2, one_minus_beta2,
                bias_correction2_sqrt, eps, weight_decay):
    """One Adam update of w, m, v in place -> True when all three are finite afterwards."""
    return run("adam_update", w, g, m, v, lr_t, beta1, one_minus_beta1, beta2, one_minus_beta2,
               bias_correction2_sqrt, eps, weight_decay)


def sgd_update(w, g, buf, lr, momentum, one_minus_dampening, weight_decay, nesterov, first):
    """One SGD (PyTorch rule) update of w and buf (None: no momentum) in place -> finite flag."""
    return run("sgd_update", w, g, buf, lr, momentum, one_minus_dampening, weight_decay, nesterov, first)


def sgd_paper_update(w, g, v, lr, momentum, weight_decay, first):
    """One SGD (paper rule) update of w and v in place -> finite flag."""
    return run("sgd_paper_update", w, g, v, lr, momentum, weight_decay, first)
