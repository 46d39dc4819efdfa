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
from numbers import Number

import numpy as np

from ..backend import get_array_module, to_device
from ..tensor import Tensor


class Optimizer:
    def __init__(self, params, defaults):
        self.defaults = dict(defaults)
        self.param_groups = []
        self.state = {}  # id(param) -> {name: array or number}
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Parameters "
                            f"or of dicts, got a single {type(params).__name__}")
        groups = list(params)
        if len(groups) == 0:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list; expected at least "
                             f"one Parameter (e.g. model.parameters() of a model with learnable layers)")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def add_param_group(self, group):
        """Add a dict with "params" and optional hyper-parameters (the rest from the defaults)."""
        if not isinstance(group, dict):
            raise TypeError(f"{type(self).__name__}: a param group must be a dict, got {type(group).__name__}")
        params = group["params"]
        params = [params] if isinstance(params, Tensor) else list(params)
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
        """Subclasses validate their hyper-parameters here (ValueError naming the value)."""
        lr = group.get("lr")
        if not isinstance(lr, Number) or not math.isfinite(lr) or lr <= 0:
            raise ValueError(f"{type(self).__name__}: invalid learning rate lr={lr!r}; expected a number > 0")

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
        Index keys may be ints or strings (as after a round trip through JSON or .npz)."""
        name = type(self).__name__
        saved_groups = state_dict["param_groups"]
        if len(saved_groups) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: expected {len(self.param_groups)} param groups, "
                             f"got {len(saved_groups)}")
        for i, (mine, saved) in enumerate(zip(self.param_groups, saved_groups)):
            if len(saved["params"]) != len(mine["params"]):
                raise ValueError(f"{name}.load_state_dict: param group {i} has {len(mine['params'])} "
                                 f"parameters here, the saved one has {len(saved['params'])}")
        params = self._indexed_params()
        new_state = {}
        for key, entries in state_dict["state"].items():
            index = int(key)
            if not 0 <= index < len(params):
                raise ValueError(f"{name}.load_state_dict: state for parameter index {index}, "
                                 f"but there are only {len(params)} parameters")
            p = params[index]
            restored = {}
            for k, v in entries.items():
                v = v.data if isinstance(v, Tensor) else v
                if np.ndim(v) == 0 and (k == "step" or p.shape != ()):  # counters, not buffers
                    restored[k] = v.item() if hasattr(v, "item") else v
                    continue
                if tuple(np.shape(v)) != tuple(p.shape):
                    raise ValueError(f"{name}.load_state_dict: state '{k}' of parameter {index}: "
                                     f"expected shape {p.shape}, got {tuple(np.shape(v))}")
                xp = get_array_module(p.data)
                restored[k] = xp.array(to_device(v, xp.__name__), dtype=p.data.dtype, copy=True)
            new_state[id(p)] = restored
        for mine, saved in zip(self.param_groups, saved_groups):
            for k, v in saved.items():
                if k != "params":
                    mine[k] = tuple(v) if isinstance(mine.get(k), tuple) else _plain(v)
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
