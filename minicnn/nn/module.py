"""Module: the building block of networks; Parameter: a Tensor that is learned.

A Module registers the Parameters, buffers (running statistics) and sub-Modules assigned
to its attributes, so ``parameters()`` and ``state_dict()`` can walk the tree. Keys are
dotted paths ("features.0.weight"), the same as PyTorch's for the same tree.
"""
import numpy as np

from ..backend import _canonical as canonical_backend, backend_module, get_array_module, to_device
from ..tensor import Tensor


class Parameter(Tensor):
    """A leaf Tensor that requires grad and is registered by the Module it is assigned to."""

    def __init__(self, data, requires_grad=True):
        super().__init__(data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter" + super().__repr__()[len("Tensor"):]


class Module:
    training = True

    def __init__(self):
        object.__setattr__(self, "_parameters", {})
        object.__setattr__(self, "_buffers", {})
        object.__setattr__(self, "_modules", {})
        object.__setattr__(self, "_forward_hooks", {})
        object.__setattr__(self, "training", True)

    # --- registration --------------------------------------------------------------
    def __setattr__(self, name, value):
        if "_parameters" not in self.__dict__:
            raise AttributeError(f"{type(self).__name__}: call super().__init__() before assigning attributes")
        if name in self._buffers and not isinstance(value, (Parameter, Module)):
            self._buffers[name] = value  # e.g. BatchNorm replacing running_mean
            return
        for table in (self._parameters, self._buffers, self._modules):
            table.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value
        elif isinstance(value, Module):
            self._modules[name] = value
        else:
            object.__setattr__(self, name, value)

    def __getattr__(self, name):
        for table in ("_parameters", "_buffers", "_modules"):
            d = self.__dict__.get(table)
            if d is not None and name in d:
                return d[name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name):
        for table in (self._parameters, self._buffers, self._modules):
            if name in table:
                del table[name]
                return
        object.__delattr__(self, name)

    def register_buffer(self, name, array):
        """A state array that is saved in state_dict but not learned (e.g. running_mean)."""
        self.__dict__.pop(name, None)
        self._buffers[name] = array

    def register_parameter(self, name, param):
        if param is None:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, None)
        else:
            setattr(self, name, param)

    def add_module(self, name, module):
        self._modules[str(name)] = module

    # --- forward and hooks ----------------------------------------------------------
    def forward(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        for hook in list(self._forward_hooks.values()):
            result = hook(self, args, out)
            if result is not None:
                out = result
        return out

    def register_forward_hook(self, hook):
        """``hook(module, inputs, output)`` runs after each forward; returning a value
        replaces the output. Returns a handle whose ``remove()`` unregisters it."""
        key = object()
        self._forward_hooks[key] = hook
        return _HookHandle(self._forward_hooks, key)

    # --- walking the tree -----------------------------------------------------------
    def named_children(self):
        return iter(self._modules.items())

    def children(self):
        return (m for _, m in self.named_children())

    def named_modules(self, prefix=""):
        stack = [(prefix, self)]
        seen = set()
        while stack:  # iterative pre-order: deep nets (DenseNet) stay clear of the recursion limit
            name, module = stack.pop()
            if id(module) in seen:
                continue
            seen.add(id(module))
            yield name, module
            kids = [(f"{name}.{k}" if name else k, m) for k, m in module._modules.items() if m is not None]
            stack.extend(reversed(kids))

    def modules(self):
        return (m for _, m in self.named_modules())

    def named_parameters(self, prefix=""):
        seen = set()
        for mname, module in self.named_modules(prefix):
            for pname, p in module._parameters.items():
                if p is not None and id(p) not in seen:
                    seen.add(id(p))
                    yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self):
        return (p for _, p in self.named_parameters())

    def named_buffers(self):
        for mname, module in self.named_modules():
            for bname, b in module._buffers.items():
                if b is not None:
                    yield (f"{mname}.{bname}" if mname else bname), b

    def apply(self, fn):
        for m in list(self.modules()):
            fn(m)
        return self

    # --- modes, grads, devices -------------------------------------------------------
    def train(self, mode=True):
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self):
        return self.train(False)

    def zero_grad(self):
        for p in self.parameters():
            p.grad = None

    def to(self, backend=None, *, dtype=None):
        """Move every parameter and buffer to ``backend`` ("numpy"/"cupy") and/or cast the
        floating ones to ``dtype``, in place: ``model.to("cupy")``, ``model.to(dtype=np.float64)``.
        A dtype may also come first, as in PyTorch: ``model.to(np.float64)``. Integer buffers
        (BatchNorm's num_batches_tracked) keep their dtype."""
        if backend is not None and _is_dtype_like(backend):
            if dtype is not None:
                raise TypeError(f"{type(self).__name__}.to: got two dtypes, {backend!r} and dtype={dtype!r}")
            backend, dtype = None, backend
        if dtype is not None:
            try:
                dtype = np.dtype(dtype)
            except TypeError:
                raise TypeError(f"{type(self).__name__}.to: expected a backend ('numpy' or 'cupy') or a "
                                f"floating dtype (e.g. np.float64), got {dtype!r}") from None
            if dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}.to: expected a floating dtype, got {dtype}")

        def convert(array):
            if backend is not None:
                array = to_device(array, backend)
            if dtype is not None and array.dtype.kind == "f" and array.dtype != dtype:
                array = array.astype(dtype)
            return array
        for m in self.modules():
            for p in m._parameters.values():
                if p is not None:
                    p.data = convert(p.data)
                    if p.grad is not None:
                        p.grad = Tensor(convert(p.grad.data))
            for name, b in m._buffers.items():
                if b is not None:
                    m._buffers[name] = convert(b)
        return self

    def double(self):
        """Cast every floating parameter and buffer to float64 (gradchecks of whole networks)."""
        return self.to(dtype=np.float64)

    def float(self):
        """Cast every floating parameter and buffer to float32 (the default for training)."""
        return self.to(dtype=np.float32)

    # --- state --------------------------------------------------------------------
    def state_dict(self):
        """{dotted name: array} of every parameter and buffer (arrays, not copies)."""
        state = {name: p.data for name, p in self.named_parameters()}
        state.update(self.named_buffers())
        return state

    def load_state_dict(self, state_dict, strict=True):
        """Copy arrays (NumPy, CuPy or Tensors) into this module's parameters and buffers.
        Reports every missing key, unexpected key and shape mismatch in one error."""
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "items"):
            raise TypeError(f"load_state_dict into {type(self).__name__}: expected state_dict to be a mapping "
                            f"of name -> array (e.g. model.state_dict() or np.load('file.npz')), got "
                            f"{type(state_dict).__name__}")
        own = {name: ("param", p) for name, p in self.named_parameters()}
        owners = {}
        for mname, module in self.named_modules():
            for bname, b in module._buffers.items():
                if b is not None:
                    full = f"{mname}.{bname}" if mname else bname
                    own[full] = ("buffer", b)
                    owners[full] = (module, bname)
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = []
        for key, value in state_dict.items():
            if key in own:
                value = value.data if isinstance(value, Tensor) else value
                target = own[key][1]
                target_shape = target.shape if isinstance(target, Tensor) else np.shape(target)
                if tuple(np.shape(value)) != tuple(target_shape):
                    mismatched.append(f"{key}: expected shape {tuple(target_shape)}, got {tuple(np.shape(value))}")
        problems = []
        if mismatched:
            problems.append("shape mismatch for " + "; ".join(mismatched))
        if strict and missing:
            problems.append("missing keys: " + ", ".join(missing))
        if strict and unexpected:
            problems.append("unexpected keys: " + ", ".join(unexpected))
        if problems:
            raise ValueError(f"load_state_dict into {type(self).__name__}: " + " | ".join(problems))
        for key, value in state_dict.items():
            if key not in own:
                continue
            value = value.data if isinstance(value, Tensor) else value
            kind, target = own[key]
            if kind == "param":
                target.data = _copy_like(value, target.data)
            else:
                module, bname = owners[key]
                module._buffers[bname] = _copy_like(value, target)
        return _LoadResult(missing, unexpected)

    # --- printing -----------------------------------------------------------------
    def extra_repr(self):
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        if self._modules:
            for name, m in self._modules.items():
                child = repr(m).replace("\n", "\n  ")
                lines.append(f"  ({name}): {child}")
            return "\n".join(lines) + "\n)"
        return lines[0] + ")"


def _is_dtype_like(value):
    """True for np.float64, "float32", np.dtype(...): not a backend name such as "numpy"."""
    if isinstance(value, str):
        try:
            canonical_backend(value)
            return False
        except ValueError:
            pass
    try:
        np.dtype(value)
        return True
    except TypeError:
        return False


def _copy_like(value, target):
    """A copy of ``value`` with the dtype and the device (NumPy/CuPy) of ``target``."""
    xp = get_array_module(target)
    return xp.array(to_device(value, xp.__name__), dtype=target.dtype, copy=True)


class _HookHandle:
    def __init__(self, table, key):
        self.table, self.key = table, key

    def remove(self):
        self.table.pop(self.key, None)


class _LoadResult(tuple):
    def __new__(cls, missing, unexpected):
        obj = super().__new__(cls, (missing, unexpected))
        obj.missing_keys, obj.unexpected_keys = missing, unexpected
        return obj


def new_parameter(shape, dtype=np.float32):
    """An uninitialised-to-zero Parameter of ``shape`` on the current backend."""
    return Parameter(backend_module().zeros(shape, dtype=dtype))
