"""docs/autograd.md: its minimal backward walk is real code that agrees with the engine, and
its picture of the graph is what minicnn.viz.graph draws for the note's example today."""
import html
import re
from pathlib import Path

import numpy as np

import minicnn as mc
from minicnn import functional as F, nn, viz

NOTE = Path(__file__).resolve().parents[2] / "docs" / "autograd.md"


def minimal_walk():
    """The namespace after running the note's ``<!-- minimal-walk -->`` Python block."""
    text = NOTE.read_text(encoding="utf-8")
    (code,) = re.findall(r"<!--\s*minimal-walk\s*-->\s*\n```python\n(.*?)```", text, re.S)
    namespace = {"np": np}
    exec(compile(code, str(NOTE), "exec"), namespace)
    return namespace


def example():
    x = mc.Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    w = mc.Tensor(np.array([0.5, 2.0]), requires_grad=True)
    y = x * w + x
    return x, w, y, (y * y).sum()


def test_minimal_walk_gives_the_engines_gradients_on_the_worked_example():
    walk = minimal_walk()
    x, w, y, loss = example()
    order = [type(f).__name__ for f in walk["topological_order"](loss)]
    assert order == ["Sum", "Mul", "Add", "Mul"]
    grads = walk["backward_minimal"](loss)
    np.testing.assert_allclose(grads[id(y)], 2 * y.data)          # the sketch keeps every gradient
    loss.backward()
    np.testing.assert_allclose(grads[id(x)], x.grad.data)
    np.testing.assert_allclose(grads[id(w)], w.grad.data)


def test_minimal_walk_gives_the_engines_gradients_on_a_small_cnn(rng):
    walk = minimal_walk()
    mc.manual_seed(1)
    model = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                          nn.Linear(3 * 3 * 3, 4))
    x = mc.Tensor(rng.normal(size=(2, 1, 6, 6)).astype(np.float32))
    target = np.array([0, 3])
    grads = walk["backward_minimal"](F.cross_entropy(model(x), target))
    F.cross_entropy(model(x), target).backward()        # a fresh graph: conv's backward may run only once
    for name, p in model.named_parameters():
        np.testing.assert_allclose(grads[id(p)], p.grad.data, rtol=1e-6, err_msg=name)


def test_the_notes_picture_shows_what_graph_draws_for_its_example():
    x, w, y, loss = example()
    loss.backward(retain_graph=True)
    dot = viz.graph(loss, names={"x": x, "w": w, "y": y, "L": loss}, show_grad=True)
    rows = [row for label in re.findall(r'label="((?:[^"\\]|\\.)*)"', dot) for row in label.split("\\n")]
    picture = NOTE.parent / "img" / "autograd_graph.svg"
    assert f"({picture.relative_to(NOTE.parent).as_posix()})" in NOTE.read_text(encoding="utf-8")
    texts = [html.unescape(t) for t in re.findall(r"<text[^>]*>([^<]*)</text>", picture.read_text(encoding="utf-8"))]
    assert sorted(texts) == sorted(rows), "regenerate docs/img/autograd_graph.svg with the code in docs/autograd.md"
