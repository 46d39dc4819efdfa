"""``summary(model, input_shape)``: a torchinfo-style table of a network.

It runs one forward pass (eval mode, no grad) on a random batch and records every module
call: its type and place in the call tree ("Conv2d: 1-4" = depth 1, 4th child call), its
output shape, its parameter count and its mult-adds. Totals follow torchinfo's rules so the
numbers can be compared with the seed's table:

- mult-adds are counted on leaf modules from their parameters: a conv's weight and bias
  elements are each used once per output pixel, so ``params * N * Ho * Wo``; any other layer
  (Linear, BatchNorm) uses each parameter once per sample, ``params * N``;
- forward/backward pass size is twice (activations and their gradients) the bytes of the
  outputs of leaf modules that have parameters;
- sizes are in MB = 1e6 bytes.

Total and trainable parameters are those of ``model.parameters()``, so a module the pass does
not call (GoogLeNet's auxiliary heads in eval mode) has no row but still counts.
"""
from dataclasses import dataclass, field

import numpy as np

from .backend import backend_module, get_array_module
from .function import no_grad
from .geometry import shape_tuple
from .tensor import Tensor


@dataclass
class LayerRow:
    """One module call. ``params`` counts the module's own parameters for a leaf and those not
    held by any child for a container; a module called again shows ``is_recursive``."""
    type: str
    depth: int
    depth_index: int
    name: str                  # dotted path in the model ("features.0"); "" for the model itself
    output_shape: tuple
    params: int
    trainable_params: int
    mult_adds: int
    is_leaf: bool
    is_recursive: bool = False

    @property
    def label(self):
        return self.type if self.depth == 0 else f"{self.type}: {self.depth}-{self.depth_index}"


@dataclass
class Summary:
    rows: list
    total_params: int
    trainable_params: int
    mult_adds: int
    input_size_mb: float
    forward_backward_pass_size_mb: float
    params_size_mb: float
    input_shape: tuple = field(default=())

    @property
    def non_trainable_params(self):
        return self.total_params - self.trainable_params

    @property
    def total_size_mb(self):
        return self.input_size_mb + self.forward_backward_pass_size_mb + self.params_size_mb

    def __str__(self):
        return _format_table(self)

    def __repr__(self):
        return (f"Summary(total_params={self.total_params:,}, trainable_params={self.trainable_params:,}, "
                f"mult_adds={self.mult_adds:,}, layers={len(self.rows)})")


def summary(model, input_shape, batch_size=1, dtype=np.float32):
    """Run ``model`` once on a random (batch_size, *input_shape) batch and tabulate every
    module call. ``input_shape`` excludes the batch, e.g. (1, 224, 224). The model is put in
    eval mode for the pass (no BatchNorm statistics change, no dropout) and restored after.
    Returns a ``Summary``; ``print(summary)`` draws the table."""
    input_shape = shape_tuple(input_shape, "a per-sample input shape (input_shape)", "summary", "(1, 224, 224)")
    if batch_size < 1:
        raise ValueError(f"summary: expected a per-sample input shape of positive sizes (e.g. (1, 224, 224)) "
                         f"and batch_size >= 1, got input_shape={input_shape}, batch_size={batch_size}")
    params = list(model.parameters())
    xp = get_array_module(params[0].data) if params else backend_module()
    x = Tensor(xp.asarray(np.random.default_rng(0).random((batch_size,) + input_shape).astype(dtype)))

    names = {id(m): name for name, m in model.named_modules()}
    recorder = _CallRecorder(names)
    modes = {id(m): m.training for m in model.modules()}
    recorder.attach(model)
    try:
        model.eval()
        with no_grad():
            model(x)
    finally:
        recorder.detach()
        for m in model.modules():
            object.__setattr__(m, "training", modes[id(m)])

    rows = recorder.rows
    leaves = [r for r in rows if r.is_leaf]
    mult_adds = sum(r.mult_adds for r in leaves)
    activation_bytes = 2 * sum(recorder.output_bytes[i] for i, r in enumerate(rows) if r.is_leaf and r.params > 0)
    param_bytes = sum(p.data.size * p.data.dtype.itemsize for p in params)
    return Summary(rows=rows,
                   total_params=sum(int(p.data.size) for p in params),
                   trainable_params=sum(int(p.data.size) for p in params if p.requires_grad),
                   mult_adds=int(mult_adds),
                   input_size_mb=x.data.size * x.data.dtype.itemsize / 1e6,
                   forward_backward_pass_size_mb=activation_bytes / 1e6,
                   params_size_mb=param_bytes / 1e6,
                   input_shape=(batch_size,) + input_shape)


class _CallRecorder:
    """Records module calls in call order (a parent before its children, as torchinfo lists
    them). Module offers forward hooks only, which fire after the children's, so the start of
    each call is caught by wrapping ``forward`` for the duration of the pass; the output is
    taken again from a forward hook, which sees what any earlier hook returned (a forward
    called directly, bypassing ``__call__``, keeps the wrapper's record)."""

    def __init__(self, names):
        self.names = names
        self.rows, self.output_bytes = [], []
        self.stack = []                # indices of the rows whose forward is running
        self.children_count = [0]      # calls seen under each open row (index 0: the root)
        self.seen = set()
        self.open_rows = {}            # id(module) -> row indices waiting for their output
        self.wrapped, self.handles = [], []

    def attach(self, model):
        for m in model.modules():
            self._wrap(m)
            self.handles.append(m.register_forward_hook(self._hook))

    def detach(self):
        for h in self.handles:
            h.remove()
        for m, had_own, own in self.wrapped:
            if had_own:
                object.__setattr__(m, "forward", own)
            else:
                del m.__dict__["forward"]

    def _wrap(self, module):
        had_own = "forward" in module.__dict__
        self.wrapped.append((module, had_own, module.__dict__.get("forward")))
        inner = module.forward

        def forward(*args, **kwargs):
            index = self._start(module)
            self.stack.append(index)
            self.children_count.append(0)
            try:
                out = inner(*args, **kwargs)
            finally:
                self.stack.pop()
                self.children_count.pop()
            self._record_output(index, module, out)   # provisional: the hook below has the final say
            return out

        object.__setattr__(module, "forward", forward)

    def _start(self, module):
        depth = len(self.stack)
        self.children_count[-1] += 1
        recursive = id(module) in self.seen
        self.seen.add(id(module))
        own = [p for p in module.parameters()]
        is_leaf = not any(True for _ in module.children())
        if is_leaf:
            count = sum(int(p.data.size) for p in own)
            trainable = sum(int(p.data.size) for p in own if p.requires_grad)
        else:   # a container shows only the parameters none of its children hold
            held = {id(p) for child in module.children() for p in child.parameters()}
            count = sum(int(p.data.size) for p in own if id(p) not in held)
            trainable = sum(int(p.data.size) for p in own if id(p) not in held and p.requires_grad)
        row = LayerRow(type=type(module).__name__, depth=depth, depth_index=self.children_count[-1],
                       name=self.names.get(id(module), ""), output_shape=(), params=count,
                       trainable_params=trainable, mult_adds=0, is_leaf=is_leaf, is_recursive=recursive)
        self.rows.append(row)
        self.output_bytes.append(0)
        self.open_rows.setdefault(id(module), []).append(len(self.rows) - 1)
        return len(self.rows) - 1

    def _hook(self, module, inputs, output):
        pending = self.open_rows.get(id(module))
        if pending:
            self._record_output(pending.pop(), module, output)

    def _record_output(self, index, module, output):
        row = self.rows[index]
        first = _first_tensor(output)
        if first is None:
            return
        row.output_shape = tuple(first.shape)
        self.output_bytes[index] = int(first.data.size * first.data.dtype.itemsize)
        if row.is_leaf:
            row.mult_adds = _mult_adds(module, row.output_shape)


def _first_tensor(output):
    if isinstance(output, Tensor):
        return output
    if isinstance(output, (tuple, list)):
        for item in output:
            found = _first_tensor(item)
            if found is not None:
                return found
    return None


def _mult_adds(module, output_shape):
    """torchinfo's rule: each weight/bias element is used once per output position of a conv
    (N * Ho * Wo), once per sample for other layers (N)."""
    count = sum(int(p.data.size) for p in module.parameters())
    if not count or not output_shape:
        return 0
    if "Conv" in type(module).__name__:
        return count * int(np.prod((output_shape[0],) + tuple(output_shape[2:])))
    return count * int(output_shape[0])


# --- the table ------------------------------------------------------------------------------

def _shape_str(shape):
    return "[" + ", ".join(str(s) for s in shape) + "]" if shape else "--"


def _tree_prefix(depth):
    if depth == 0:
        return ""
    if depth == 1:
        return "├─"
    return "│    " * (depth - 1) + "└─"


def _params_str(row):
    if row.params == 0:
        return "--"
    if row.is_recursive:
        return "(recursive)"
    return f"{row.params:,}"


def _readable(count):
    for unit, scale in (("T", 1e12), ("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if count >= scale:
            return unit, count / scale
    return "", float(count)


def _format_table(s):
    body = [(_tree_prefix(r.depth) + r.label, _shape_str(r.output_shape), _params_str(r),
             f"{r.mult_adds:,}" if r.mult_adds else "--") for r in s.rows]
    header = ("Layer (type:depth-idx)", "Output Shape", "Param #", "Mult-Adds")
    widths = [max(len(header[i]), *(len(b[i]) for b in body)) + 2 for i in range(4)] if body else \
        [len(h) + 2 for h in header]
    widths[0] = max(widths[0], 40)
    line = "=" * sum(widths)

    def fmt(cells):
        return "".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(cells, widths))).rstrip()

    unit, value = _readable(s.mult_adds)
    lines = [line, fmt(header), line, *(fmt(b) for b in body), line,
             f"Total params: {s.total_params:,}",
             f"Trainable params: {s.trainable_params:,}",
             f"Non-trainable params: {s.non_trainable_params:,}",
             f"Total mult-adds ({unit}): {value:.2f}" if unit else f"Total mult-adds: {s.mult_adds:,}",
             line,
             f"Input size (MB): {s.input_size_mb:.2f}",
             f"Forward/backward pass size (MB): {s.forward_backward_pass_size_mb:.2f}",
             f"Params size (MB): {s.params_size_mb:.2f}",
             f"Estimated Total Size (MB): {s.total_size_mb:.2f}",
             line]
    return "\n".join(lines)
