"""The autograd graph drawn: Graphviz DOT for the Functions and Tensors behind a result
(like micrograd's ``draw_dot`` and DeZero's ``plot_dot_graph``).

Tensors are ellipses (shape and dtype; leaves that require grad are filled blue, constants
grey, intermediate results white), Functions are boxes (their class name and generation),
and edges run the way the forward ran: input -> Function -> output. After
``backward(retain_graph=True)`` the leaves' gradients can be written in as well.

The engine that builds the graph is described in docs/autograd.md.
"""
import os
import shutil
import subprocess
import tempfile
import warnings

import numpy as np

from ..backend import to_numpy

_FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf"}


def dot_available():
    """True when Graphviz's ``dot`` program is on the PATH (Debian: ``apt install graphviz``)."""
    return shutil.which("dot") is not None


class DotGraph(str):
    """DOT text (a ``str``) that can also render itself: ``render("svg")`` gives the picture's
    bytes, ``save(path)`` writes one, and Jupyter shows it as SVG when ``dot`` is installed."""

    def render(self, fmt="svg"):
        """The picture as bytes (``fmt``: svg, png or pdf). Needs the ``dot`` program."""
        if fmt not in _FORMATS.values():
            raise ValueError(f"render: expected a format in {sorted(_FORMATS.values())}, got {fmt!r}")
        if not dot_available():
            raise FileNotFoundError("render: Graphviz's 'dot' program is not on the PATH "
                                    "(Debian/Ubuntu: apt install graphviz); str(graph) is the DOT text")
        done = subprocess.run(["dot", f"-T{fmt}"], input=self.encode(), capture_output=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"dot -T{fmt} failed: {done.stderr.decode(errors='replace').strip()}")
        return done.stdout

    def save(self, path):
        """Write the graph to ``path``: .svg/.png/.pdf are rendered by ``dot``; .dot/.gv (or
        any path when ``dot`` is missing, then with a warning and the suffix .dot) get the
        DOT text. Written atomically; returns the path written."""
        path = os.fspath(path)
        root, suffix = os.path.splitext(path)
        fmt = _FORMATS.get(suffix.lower())
        if fmt is not None and not dot_available():
            warnings.warn(f"Graphviz's 'dot' is not installed: writing the DOT text to {root}.dot instead of {path}",
                          RuntimeWarning, stacklevel=2)
            fmt, path = None, root + ".dot"
        payload = self.render(fmt) if fmt else self.encode()
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=directory)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(payload)
            os.chmod(tmp, 0o644)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)
        return path

    def _repr_svg_(self):           # Jupyter: the picture when it can be drawn, else the DOT text
        return self.render("svg").decode() if dot_available() else None

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))


def _values(array, limit):
    """Small arrays in full (4 significant digits), big ones as mean and max |.|."""
    a = np.asarray(to_numpy(array), dtype=np.float64)
    if a.size <= limit:
        text = np.array2string(a, precision=4, separator=" ", suppress_small=True)
        return " ".join(text.split())
    return f"mean {a.mean():.3g}, max|.| {np.abs(a).max():.3g}"


def _quote(text):
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _shape(shape):
    return "(" + ", ".join(str(n) for n in shape) + ")" if len(shape) != 1 else f"({shape[0]},)"


def graph(*outputs, names=None, show_values=False, show_grad=False, limit=8, rankdir="LR"):
    """DOT text (a ``DotGraph``) of the autograd graph behind ``outputs``.

    names: {name: Tensor} to label tensors (e.g. ``dict(model.named_parameters())``).
    show_values: write the data of tensors with at most ``limit`` elements (else mean, max|.|).
    show_grad: write each tensor's ``.grad`` where it has one (the leaves, after
    ``backward(retain_graph=True)``: a plain ``backward()`` frees the graph it walked).
    rankdir: Graphviz direction, "LR" (left to right) or "TB" (top to bottom).
    """
    from ..tensor import Tensor

    if not outputs:
        raise TypeError("graph: expected at least one Tensor")
    for t in outputs:
        if not isinstance(t, Tensor):
            raise TypeError(f"graph: expected Tensors, got {type(t).__name__}")
    if rankdir not in ("LR", "TB", "RL", "BT"):
        raise ValueError(f"graph: rankdir must be LR, TB, RL or BT, got {rankdir!r}")
    labels = {}
    for name, t in (names or {}).items():
        if not isinstance(t, Tensor):
            raise TypeError(f"graph: names[{name!r}] should be a Tensor, got {type(t).__name__}")
        labels[id(t)] = name

    ids, counts, lines, edges = {}, {"t": 0, "f": 0}, [], []

    def node_id(obj, prefix):              # t0, t1, ... and f0, f1, ... in the order first met
        if id(obj) not in ids:
            ids[id(obj)] = f"{prefix}{counts[prefix]}"
            counts[prefix] += 1
        return ids[id(obj)]

    def tensor_node(t, meta=None):
        if meta is None:
            seen = id(t) in ids
            tid = node_id(t, "t")
            if seen:
                return tid
            shape, dtype = t.shape, t.dtype
        else:                               # an output of a multi-output Function nobody kept
            tid, (shape, dtype) = node_id(meta, "t"), meta
        rows = [labels[id(t)]] if t is not None and id(t) in labels else []
        rows.append(f"{_shape(shape)} {dtype}")
        if t is None:
            rows.append("(not kept)")
            fill = "white"
        elif t.creator is None and t.requires_grad:
            fill = "lightblue"
            rows.append("requires grad")
        else:
            fill = "white" if t.creator is not None else "lightgrey"
        constant_scalar = t is not None and t.creator is None and not t.requires_grad and t.size == 1
        if t is not None and (show_values or constant_scalar):
            rows.append(_values(t.data, limit))
        if t is not None and show_grad and t.grad is not None:
            rows.append("grad " + _values(t.grad.data, limit))
        lines.append(f"  {tid} [shape=ellipse, style=filled, fillcolor={fill}, label={_quote(chr(10).join(rows))}];")
        return tid

    def freed(f):
        return getattr(f, "inputs", None) is None

    for t in outputs:
        if t.creator is not None and freed(t.creator):
            raise RuntimeError(f"graph: the graph through {type(t.creator).__name__} was freed by backward(); "
                               "call backward(retain_graph=True) to draw it afterwards")
    stack, done = [], set()
    for t in outputs:
        tensor_node(t)
        if t.creator is not None:
            stack.append(t.creator)
    while stack:                            # any order will do for a drawing: Graphviz lays it out
        f = stack.pop()
        if id(f) in done:
            continue
        done.add(id(f))
        fid = node_id(f, "f")
        lines.append(f"  {fid} [shape=box, style=filled, fillcolor=lightyellow, "
                     f"label={_quote(f'{type(f).__name__}' + chr(10) + f'gen {f.generation}')}];")
        for x in f.inputs:
            edges.append(f"  {tensor_node(x)} -> {fid};")
            if x.creator is None:
                continue
            if not freed(x.creator):
                stack.append(x.creator)
            elif id(x) not in done:         # an earlier backward() freed the graph below x: draw where it ends
                done.add(id(x))
                seen = id(x.creator) in ids
                cut = node_id(x.creator, "f")
                if not seen:
                    lines.append(f"  {cut} [shape=box, style=filled, fillcolor=lightgrey, "
                                 f"label={_quote(type(x.creator).__name__ + chr(10) + 'freed by backward()')}];")
                edges.append(f"  {cut} -> {tensor_node(x)};")
        for ref, meta in zip(f.outputs, f.output_meta):
            y = ref()
            edges.append(f"  {fid} -> {tensor_node(y) if y is not None else tensor_node(None, meta)};")
    header = [f"digraph autograd {{", f"  rankdir={rankdir};", '  node [fontname="Helvetica", fontsize=10];']
    return DotGraph("\n".join(header + lines + edges + ["}"]) + "\n")
