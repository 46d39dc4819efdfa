"""Optimizer: the base class of SGD and Adam (parameter groups, state, state_dict).

An optimizer holds ``param_groups``, a list of dicts, each with "params" (a list of
Parameters) and the hyper-parameters of that group ("lr", "momentum", ...). A scheduler
changes ``group["lr"]``; ``step()`` reads it afresh every time.

``state_dict()`` has PyTorch's structure::

    {"state": {param_index: {"momentum_buffer": array, ...}},
     "param_groups": [{"lr": 0.01, ..., "params": [0, 1, 2]}]}

where ``param_index`` counts the parameters over all groups in order. The arrays are the
live buffers (as in PyTorch): save or copy them before the next ``step()``.
"""
import math
from numbers import Real

import numpy as np

from ..backend import get_array_module, to_device
from ..tensor import Tensor


class Optimizer:
    state_names = ()  # the per-parameter state entries a subclass keeps ("momentum_buffer", ...)

    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}  # id(param) -> {name: array or number}
        self.step_finite = None  # after step(): {id(param): were its new weights and state finite}
        name = type(self).__name__
        if isinstance(params, Tensor):
            raise TypeError(f"{name}: params should be an iterable of Parameters "
                            f"or of dicts, got a single {type(params).__name__}")
        if callable(getattr(params, "parameters", None)):
            raise TypeError(f"{name}: params should be an iterable of Parameters or of dicts, got a "
                            f"{type(params).__name__} module; pass model.parameters()")
        if isinstance(params, dict):
            raise TypeError(f"{name}: params should be an iterable of Parameters or of dicts, got a "
                            f"single dict; pass a list of param groups, [{{'params': ...}}]")
        groups = _as_list(params, f"{name}: params should be an iterable of Parameters or of dicts")
        if len(groups) == 0:
            raise ValueError(f"{name}: optimizer got an empty parameter list; expected at least "
                             f"one Parameter (e.g. model.parameters() of a model with learnable layers)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a dict with "params" and optional hyper-parameters (the rest from the defaults)."""
        if not isinstance(group, dict):
            raise TypeError(f"{type(self).__name__}: a param group must be a dict, got {type(group).__name__}")
        if "params" not in group:
            raise ValueError(f"{type(self).__name__}: a param group must have a 'params' entry (the "
                             f"Parameters it holds), got a dict with keys {sorted(map(str, group))}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else _as_list(
            params, f"{type(self).__name__}: a param group's 'params' should be an iterable of Parameters")
        if len(params) == 0:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list in a param group; "
                             f"expected at least one Parameter")
        for p in params:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: can only optimize Tensors/Parameters, "
                                f"got {type(p).__name__}")
            if not p.requires_grad:
                raise ValueError(f"{type(self).__name__}: a parameter of shape {p.shape} does not "
                                 f"require grad; pass only learnable parameters")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in params) or len({id(p) for p in params}) != len(params):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one group "
                             f"(or twice in one)")
        full = dict(self.defaults)
        full.update({k: v for k, v in group.items() if k != "params"})
        self._check_hyperparameters(full)
        full["params"] = params
        self.param_groups.append(full)

    def _check_hyperparameters(self, group):
        """Subclasses validate their hyper-parameters here (TypeError for a non-number,
        ValueError for a number out of range, NaN and inf included, naming the value)."""
        check_number(type(self).__name__, "learning rate lr", group.get("lr"), "a number > 0", lambda v: v > 0)

    def zero_grad(self):
        """Drop every parameter's gradient (the next backward() starts from zero)."""
        for group in self.param_groups:
            for p in group["params"]:
                p.grad = None

    def step(self):
        raise NotImplementedError

    # --- helpers for subclasses ---------------------------------------------------
    def _state_for(self, p):
        return self.state.setdefault(id(p), {})

    def _check_grad_shapes(self):
        """Before any update: every .grad has its parameter's shape (NumPy would broadcast
        a (3,) gradient into a (2, 3) parameter without a word)."""
        for index, p in enumerate(self._indexed_params()):
            if p.grad is not None and tuple(p.grad.shape) != tuple(p.data.shape):
                raise ValueError(f"{type(self).__name__}.step: parameter {index} has shape {tuple(p.data.shape)} "
                                 f"but its .grad has shape {tuple(p.grad.shape)}; expected the same shape")

    def _begin_step(self):
        """Start a new record of finite flags (the trainer's guard reads ``step_finite``)."""
        self.step_finite = {}

    def _record_finite(self, p, flag):
        """``flag``, from the update kernel: p's new weights and state are all finite
        (a bool, or a device scalar on CuPy: no host sync here)."""
        self.step_finite[id(p)] = flag

    @staticmethod
    def _grad_of(p):
        """The raw gradient array of ``p`` (same backend and dtype as ``p.data``), or None."""
        if p.grad is None:
            return None
        g = p.grad.data if isinstance(p.grad, Tensor) else p.grad
        get_array_module(p.data, g)  # mixing NumPy and CuPy is a clear TypeError
        return g if g.dtype == p.data.dtype else g.astype(p.data.dtype)

    @staticmethod
    def _buffer_like(state, name, p):
        """state[name] moved to p's backend/dtype (after model.to(...) the params may have moved)."""
        buf = state.get(name)
        if buf is not None and (get_array_module(buf) is not get_array_module(p.data) or buf.dtype != p.data.dtype):
            buf = get_array_module(p.data).asarray(to_device(buf, get_array_module(p.data).__name__),
                                                   dtype=p.data.dtype)
            state[name] = buf
        return buf

    # --- state_dict ---------------------------------------------------------------
    def _indexed_params(self):
        return [p for group in self.param_groups for p in group["params"]]

    def state_dict(self):
        """{"state": {index: {name: array}}, "param_groups": [{hyper-parameters, "params": [indices]}]}."""
        params = self._indexed_params()
        state = {i: dict(self.state[id(p)]) for i, p in enumerate(params) if self.state.get(id(p))}
        groups, start = [], 0
        for group in self.param_groups:
            saved = {k: (list(v) if isinstance(v, tuple) else v) for k, v in group.items() if k != "params"}
            saved["params"] = list(range(start, start + len(group["params"])))
            start += len(group["params"])
            groups.append(saved)
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict):
        """Restore hyper-parameters and state (copied onto each parameter's backend and dtype).
        Index keys may be ints or strings (as after a round trip through JSON or .npz).
        Everything is checked before anything changes: a refused state_dict leaves the optimizer as it was."""
        name = f"{type(self).__name__}.load_state_dict"
        saved_groups, saved_state = _check_layout(name, state_dict)
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}: expected {len(self.param_groups)} param groups, got {len(saved_groups)}")
        new_groups = []
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(f"{name}: param group {i} has {len(mine['params'])} "
                                 f"parameters here, the saved one has {len(saved['params'])}")
            merged = dict(mine)
            for k, v in saved.items():
                if k != "params":
                    merged[k] = tuple(v) if isinstance(mine.get(k), tuple) else _plain(v)
            self._check_hyperparameters(merged)
            new_groups.append(merged)
        params = self._indexed_params()
        new_state = {}
        for key, entries in saved_state.items():
            try:
                index = int(key)
            except (TypeError, ValueError):
                raise ValueError(f"{name}: state keys should be parameter indices, got {key!r}") from None
            if not 0 <= index < len(params):
                raise ValueError(f"{name}: state for parameter index {index}, "
                                 f"but there are only {len(params)} parameters")
            if not isinstance(entries, dict):
                raise TypeError(f"{name}: the state of parameter {index} should be a dict of buffers, "
                                f"got {type(entries).__name__}")
            unknown = sorted(set(map(str, entries)) - set(self.state_names))
            if unknown:
                raise ValueError(f"{name}: state of parameter {index} has {unknown}; expected only "
                                 f"{list(self.state_names)} (is it another optimizer's state_dict?)")
            p = params[index]
            restored = {}
            for k, v in entries.items():
                v = v.data if isinstance(v, Tensor) else v
                if np.ndim(v) == 0 and (k == "step" or p.shape != ()):  # counters, not buffers
                    restored[k] = v.item() if hasattr(v, "item") else v
                    continue
                if tuple(np.shape(v)) != tuple(p.shape):
                    raise ValueError(f"{name}: state '{k}' of parameter {index}: "
                                     f"expected shape {p.shape}, got {tuple(np.shape(v))}")
                xp = get_array_module(p.data)
                restored[k] = xp.array(to_device(v, xp.__name__), dtype=p.data.dtype, copy=True)
            new_state[id(p)] = restored
        for mine, merged in zip(self.param_groups, new_groups):
            mine.update(merged)
        self.state = new_state

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(group):
                if k != "params":
                    lines.append(f"    {k}: {group[k]}")
        return "\n".join(lines) + "\n)"


def _plain(v):
    """Python scalars from 0-d arrays (hyper-parameters read back from .npz)."""
    return v.item() if hasattr(v, "item") and np.ndim(v) == 0 else v


def check_number(owner, name, value, expected, in_range):
    """TypeError unless ``value`` is a real number; ValueError if it is NaN, infinite or not ``in_range``."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{owner}: invalid {name}={value!r}; expected {expected}, got {type(value).__name__}")
    if not math.isfinite(value) or not in_range(value):
        raise ValueError(f"{owner}: invalid {name}={value!r}; expected {expected}")


def _as_list(items, what):
    try:
        return list(items)
    except TypeError:
        raise TypeError(f"{what}, got {type(items).__name__}") from None


def _check_layout(name, state_dict):
    """The two entries of an optimizer state_dict, checked for type and presence."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"{name}: expected a dict with 'state' and 'param_groups' (from state_dict()), "
                        f"got {type(state_dict).__name__}")
    missing = [k for k in ("state", "param_groups") if k not in state_dict]
    if missing:
        raise ValueError(f"{name}: expected a dict with 'state' and 'param_groups' (from state_dict()), "
                         f"missing {missing}; got keys {sorted(map(str, state_dict))}")
    groups, state = state_dict["param_groups"], state_dict["state"]
    if not isinstance(groups, (list, tuple)):
        raise TypeError(f"{name}: 'param_groups' should be a list of dicts, got {type(groups).__name__}")
    for i, group in enumerate(groups):
        if not isinstance(group, dict) or "params" not in group:
            raise ValueError(f"{name}: saved param group {i} should be a dict with 'params' "
                             f"(parameter indices), got {type(group).__name__}"
                             + (f" with keys {sorted(map(str, group))}" if isinstance(group, dict) else ""))
        if np.ndim(group["params"]) != 1:
            raise ValueError(f"{name}: saved param group {i}'s 'params' should be a list of indices, "
                             f"got {group['params']!r}")
    if not isinstance(state, dict):
        raise TypeError(f"{name}: 'state' should be a dict {{parameter index: buffers}}, got {type(state).__name__}")
    return groups, state
