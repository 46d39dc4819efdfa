"""Stochastic gradient descent with momentum, in PyTorch's form or the AlexNet paper's.

Derivations and worked examples: docs/sgd_momentum.md
"""
from ..backend import get_array_module
from ..kernels import optim as update_kernels
from .optimizer import Optimizer, check_number

_RULES = ("pytorch", "paper")


class SGD(Optimizer):
    """SGD with optional momentum, dampening, weight decay and Nesterov momentum.

    ``rule="pytorch"`` (default), with g = dL/dw + weight_decay * w::

        buf <- g                                     (first step)
        buf <- momentum * buf + (1 - dampening) * g  (later steps)
        w   <- w - lr * buf         (nesterov: w <- w - lr * (g + momentum * buf))

    ``rule="paper"`` (Krizhevsky et al. 2012, section 5: momentum 0.9, weight decay 5e-4)::

        v <- momentum * v - weight_decay * lr * w - lr * dL/dw
        w <- w + v

    How they differ: PyTorch's buffer holds a velocity in *gradient* units and ``lr``
    multiplies it at the step, so a change of the learning rate (a scheduler dividing it by
    10) takes effect on the whole step at once. The paper's ``v`` holds *lr-scaled* steps, so
    after an lr drop the old momentum keeps moving with the old scale until it decays
    (by momentum**k after k steps). At a constant lr the two give the same trajectory, with
    v = -lr * buf (dampening 0, no Nesterov). The paper rule has no dampening/Nesterov.

    Updates ``p.data`` in place; float32 parameters stay float32; parameters whose grad is
    None are skipped. State per parameter: "momentum_buffer" (pytorch) or "velocity" (paper).
    """

    state_names = ("momentum_buffer", "velocity")

    def __init__(self, params, lr, momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False,
                 rule="pytorch"):
        if rule not in _RULES:
            raise ValueError(f"SGD: unknown rule {rule!r}; expected one of {_RULES}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=bool(nesterov), rule=rule)
        super().__init__(params, defaults)

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        for name in ("momentum", "dampening", "weight_decay"):
            value = group[name]
            check_number("SGD", name, value, "a finite number >= 0", lambda v: v >= 0)
        if group["rule"] not in _RULES:
            raise ValueError(f"SGD: unknown rule {group['rule']!r}; expected one of {_RULES}")
        if group["nesterov"] and (group["momentum"] <= 0 or group["dampening"] != 0):
            raise ValueError(f"SGD: nesterov momentum requires momentum > 0 and dampening = 0, got "
                             f"momentum={group['momentum']!r}, dampening={group['dampening']!r}")
        if group["rule"] == "paper" and (group["nesterov"] or group["dampening"] != 0):
            raise ValueError("SGD(rule='paper'): the paper's rule has no nesterov or dampening; got "
                             f"nesterov={group['nesterov']!r}, dampening={group['dampening']!r}")

    def step(self):
        self._check_grad_shapes()
        self._begin_step()
        for group in self.param_groups:
            for p in group["params"]:
                g = self._grad_of(p)
                if g is None:
                    continue
                if group["rule"] == "paper":
                    finite = self._paper_step(p, g, group)
                else:
                    finite = self._pytorch_step(p, g, group)
                self._record_finite(p, finite)
                p._bump_version()  # an in-place change: a graph that saved p refuses backward

    # the formulas above, each fused into one pass (kernels/optim.py has them in NumPy)
    def _pytorch_step(self, p, g, group):
        w = p.data
        lr, momentum, one_minus_dampening, wd = update_kernels.scalars(  # float32 stays float32
            w, group["lr"], group["momentum"], 1 - group["dampening"], group["weight_decay"])
        buf, first = None, False
        if group["momentum"] != 0:
            state = self._state_for(p)
            buf = self._buffer_like(state, "momentum_buffer", p)
            if buf is None:
                buf, first = get_array_module(w).empty_like(w), True
                state["momentum_buffer"] = buf
        return update_kernels.sgd_update(w, g, buf, lr, momentum, one_minus_dampening, wd,
                                         group["nesterov"], first)

    def _paper_step(self, p, g, group):
        w = p.data
        lr, momentum, wd = update_kernels.scalars(w, group["lr"], group["momentum"], group["weight_decay"])
        state = self._state_for(p)
        v = self._buffer_like(state, "velocity", p)
        first = v is None
        if first:
            v = state["velocity"] = get_array_module(w).empty_like(w)
        return update_kernels.sgd_paper_update(w, g, v, lr, momentum, wd, first)
