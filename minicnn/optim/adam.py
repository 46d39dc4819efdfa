"""Adam (Kingma & Ba 2015), with PyTorch's semantics.

Derivations and worked examples: docs/adam.md
"""
import math

from ..backend import get_array_module
from ..kernels import optim as update_kernels
from .optimizer import Optimizer, check_number


class Adam(Optimizer):
    """Adam with bias correction and optional L2 weight decay (added to the gradient, as in
    ``torch.optim.Adam``; not AdamW's decoupled decay). With g = dL/dw + weight_decay * w, t = step::

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g^2
        w <- w - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)

    Updates ``p.data`` in place; float32 parameters stay float32; parameters whose grad is None
    are skipped (their step count does not advance). State per parameter: "step" (int),
    "exp_avg" (m) and "exp_avg_sq" (v).
    """

    state_names = ("step", "exp_avg", "exp_avg_sq")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay))

    def _check_hyperparameters(self, group):
        super()._check_hyperparameters(group)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise TypeError(f"Adam: invalid betas={betas!r}; expected a pair (beta1, beta2) of numbers in [0, 1), "
                            f"got {type(betas).__name__}")
        for i, beta in enumerate(betas):
            check_number("Adam", f"betas={tuple(betas)!r}: betas[{i}]", beta, "a number in [0, 1)",
                         lambda v: 0 <= v < 1)
        group["betas"] = tuple(betas)
        check_number("Adam", "eps", group["eps"], "a finite number >= 0", lambda v: v >= 0)
        check_number("Adam", "weight_decay", group["weight_decay"], "a finite number >= 0", lambda v: v >= 0)

    def step(self):
        self._check_grad_shapes()
        self._begin_step()
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            for p in group["params"]:
                g = self._grad_of(p)
                if g is None:
                    continue
                w = p.data
                state = self._state_for(p)
                m = self._buffer_like(state, "exp_avg", p)
                v = self._buffer_like(state, "exp_avg_sq", p)
                if m is None:
                    xp = get_array_module(w)
                    m = state["exp_avg"] = xp.zeros_like(w)
                    v = state["exp_avg_sq"] = xp.zeros_like(w)
                    state["step"] = 0
                state["step"] = t = int(state["step"]) + 1
                # the formulas above, fused into one pass (kernels/optim.py has them in NumPy)
                finite = update_kernels.adam_update(w, g, m, v, *update_kernels.scalars(
                    w, group["lr"] / (1 - beta1 ** t), beta1, 1 - beta1, beta2, 1 - beta2,
                    math.sqrt(1 - beta2 ** t), group["eps"], group["weight_decay"]))
                self._record_finite(p, finite)
                p._bump_version()  # an in-place change: a graph that saved p refuses backward
