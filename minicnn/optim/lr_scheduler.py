"""Learning-rate schedules: StepLR, MultiStepLR, CosineAnnealingLR, ReduceLROnPlateau
(PyTorch semantics).

A scheduler writes ``group["lr"]`` of its optimizer; call ``scheduler.step()`` once per
epoch after the optimizer's steps (``ReduceLROnPlateau.step(metric)`` with the validation
loss or error), or, for a schedule counted in batches (``CosineAnnealingLR(opt, T_max=steps)``),
once after every ``optimizer.step()``: ``fit(..., scheduler_interval="step")`` does that.
``state_dict()`` is a dict of plain numbers and lists (no optimizer), so a
checkpoint can store it next to the optimizer's.
"""
import math
from collections import Counter
from numbers import Integral

from .optimizer import Optimizer, check_number


class _SchedulerState:
    """What every scheduler shares: the last lrs, and a JSON-safe state (everything but the optimizer)."""

    def get_last_lr(self):
        """The learning rates set by the last ``step()`` (one per param group)."""
        return list(self._last_lr)

    def state_dict(self):
        return {k: (list(v) if isinstance(v, (list, tuple)) else v)
                for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict):
        for k, v in state_dict.items():
            self.__dict__[k] = _plain(v)


class LRScheduler(_SchedulerState):
    """Base of the epoch-indexed schedules. Like PyTorch, constructing one performs the
    initial step (``last_epoch`` becomes 0) and records ``initial_lr`` in each group."""

    def __init__(self, optimizer, last_epoch=-1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: expected an Optimizer, got {type(optimizer).__name__}")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param group {i} has no 'initial_lr'; "
                                   f"resuming with last_epoch={last_epoch} needs it")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self.step()

    def get_lr(self):
        """The lrs for ``self.last_epoch``, from the current ones (chainable form)."""
        raise NotImplementedError

    def step(self):
        self.last_epoch += 1
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]



class StepLR(LRScheduler):
    """lr = initial_lr * gamma ** (epoch // step_size): decay by ``gamma`` every ``step_size`` epochs."""

    def __init__(self, optimizer, step_size, gamma=0.1, last_epoch=-1):
        _check_int("StepLR", "step_size", step_size, 1)
        _check_gamma("StepLR", gamma)
        self.step_size, self.gamma = step_size, gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return [group["lr"] for group in self.optimizer.param_groups]
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]


class MultiStepLR(LRScheduler):
    """Multiply lr by ``gamma`` at each epoch listed in ``milestones`` (e.g. [30, 60, 80])."""

    def __init__(self, optimizer, milestones, gamma=0.1, last_epoch=-1):
        milestones = list(milestones)
        if not all(isinstance(m, Integral) and not isinstance(m, bool) and m >= 0 for m in milestones):
            raise ValueError(f"MultiStepLR: invalid milestones={milestones!r}; expected non-negative integers")
        _check_gamma("MultiStepLR", gamma)
        self.milestones, self.gamma = sorted(milestones), gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        count = Counter(self.milestones)[self.last_epoch]
        return [group["lr"] * self.gamma ** count for group in self.optimizer.param_groups]


class CosineAnnealingLR(LRScheduler):
    """Half a cosine from the initial lr down to ``eta_min`` over ``T_max`` steps of the scheduler
    (epochs, or batches when stepped per batch) (Loshchilov & Hutter, SGDR, without restarts):

        lr_t = eta_min + (initial_lr - eta_min) * (1 + cos(pi * t / T_max)) / 2

    t = ``last_epoch``, the number of ``step()`` calls. The closed form above is computed at every
    step (PyTorch's recursive form gives the same values up to rounding); past T_max the cosine
    goes on, as in PyTorch, rising again."""

    def __init__(self, optimizer, T_max, eta_min=0.0, last_epoch=-1):
        _check_int("CosineAnnealingLR", "T_max", T_max, 1)
        check_number("CosineAnnealingLR", "eta_min", eta_min, "a finite number >= 0", lambda v: v >= 0)
        self.T_max, self.eta_min = T_max, eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        share = (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
        return [self.eta_min + (base - self.eta_min) * share for base in self.base_lrs]


class ReduceLROnPlateau(_SchedulerState):
    """Divide lr by 1/``factor`` when a metric has stopped improving for ``patience`` epochs
    (the AlexNet paper: "divide by 10 when the validation error stops improving").

    ``mode`` "min" (loss, error) or "max" (accuracy); an epoch improves when
    rel: metric < best * (1 - threshold)  [max: metric > best * (1 + threshold)]
    abs: metric < best - threshold        [max: metric > best + threshold].
    After a reduction, ``cooldown`` epochs pass before bad epochs count again; lr never goes
    below ``min_lr`` (a number or one per group), and changes smaller than ``eps`` are skipped.
    """

    def __init__(self, optimizer, mode="min", factor=0.1, patience=10, threshold=1e-4,
                 threshold_mode="rel", cooldown=0, min_lr=0, eps=1e-8):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: expected an Optimizer, got {type(optimizer).__name__}")
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: invalid mode={mode!r}; expected 'min' or 'max'")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: invalid threshold_mode={threshold_mode!r}; expected 'rel' or 'abs'")
        name = "ReduceLROnPlateau"
        check_number(name, "factor", factor, "a number in (0, 1)", lambda v: 0 < v < 1)
        _check_int(name, "patience", patience, 0)
        _check_int(name, "cooldown", cooldown, 0)
        check_number(name, "threshold", threshold, "a finite number >= 0", lambda v: v >= 0)
        check_number(name, "eps", eps, "a finite number >= 0", lambda v: v >= 0)
        groups = optimizer.param_groups
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(groups):
                raise ValueError(f"ReduceLROnPlateau: expected {len(groups)} min_lr values, got {len(min_lr)}")
            min_lrs = list(min_lr)
        else:
            min_lrs = [min_lr] * len(groups)
        for value in min_lrs:
            check_number(name, "min_lr", value, "a finite number >= 0", lambda v: v >= 0)
        self.optimizer = optimizer
        self.mode, self.factor, self.patience = mode, factor, patience
        self.threshold, self.threshold_mode, self.cooldown = threshold, threshold_mode, cooldown
        self.min_lrs, self.eps = min_lrs, eps
        self.best = math.inf if mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0
        self.last_epoch = 0
        self._last_lr = [group["lr"] for group in groups]

    def is_better(self, a, best):
        if self.mode == "min":
            return a < (best * (1 - self.threshold) if self.threshold_mode == "rel" else best - self.threshold)
        return a > (best * (1 + self.threshold) if self.threshold_mode == "rel" else best + self.threshold)

    @property
    def in_cooldown(self):
        return self.cooldown_counter > 0

    def step(self, metrics):
        current = float(getattr(metrics, "item", lambda: metrics)())
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs during cooldown are ignored
        if self.num_bad_epochs > self.patience:
            for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
                old_lr = float(group["lr"])
                new_lr = max(old_lr * self.factor, min_lr)
                if old_lr - new_lr > self.eps:
                    group["lr"] = new_lr
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]


def _check_gamma(name, gamma):
    check_number(name, "gamma", gamma, "a finite number > 0", lambda v: v > 0)


def _check_int(name, arg, value, low):
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise TypeError(f"{name}: invalid {arg}={value!r}; expected an integer >= {low}, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name}: invalid {arg}={value!r}; expected an integer >= {low}")


def _plain(v):
    """Python numbers/lists from 0-d or 1-d arrays (state read back from .npz)."""
    if hasattr(v, "tolist") and not isinstance(v, (list, tuple)):
        return v.tolist()
    return v
