"""minicnn.viz.graph: the DOT text of the autograd graph behind a tensor."""
import re
import shutil

import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F, nn, viz

NODE = re.compile(r'^\s*(\w+) \[shape=(\w+), style=filled, fillcolor=(\w+), label="((?:[^"\\]|\\.)*)"\];$', re.M)
EDGE = re.compile(r"^\s*(\w+) -> (\w+);$", re.M)


def parse(dot):
    """{node id: (shape, fill, label lines)} and the set of edges (from label, to label)."""
    nodes = {n: (shape, fill, label.split("\\n")) for n, shape, fill, label in NODE.findall(dot)}
    edges = EDGE.findall(dot)
    assert dot.startswith("digraph autograd {") and dot.rstrip().endswith("}")
    assert len(nodes) + len(edges) == dot.count(";") - 2          # nothing else: rankdir and node defaults
    return nodes, edges


def known_expression():
    """z = sum(x * w + x): x and w require grad, the 2 is a constant."""
    x = mc.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    w = mc.Tensor(np.array([3.0, 4.0]), requires_grad=True)
    z = ((x * w + x) * 2).sum()
    return x, w, z


def test_dot_of_a_known_expression_has_its_functions_tensors_and_edges():
    x, w, z = known_expression()
    nodes, edges = parse(viz.graph(z, names={"x": x, "w": w}))
    functions = {n: v for n, v in nodes.items() if v[0] == "box"}
    tensors = {n: v for n, v in nodes.items() if v[0] == "ellipse"}
    assert sorted(v[2][0] for v in functions.values()) == ["Add", "Mul", "Mul", "Sum"]
    assert len(tensors) == 7                                       # x, w, x*w, +x, 2, *2, sum
    by_label = {v[2][0]: n for n, v in tensors.items()}
    assert tensors[by_label["x"]][1:] == ("lightblue", ["x", "(2,) float64", "requires grad"])
    assert tensors[by_label["w"]][1] == "lightblue"
    constant = [n for n, v in tensors.items() if v[1] == "lightgrey"]
    assert [tensors[n][2] for n in constant] == [["() float64", "2."]]
    # every Function has its inputs pointing in and its one output pointing out
    into = {f: sorted(nodes[a][2][0] for a, b in edges if b == f) for f in functions}
    out = {f: [b for a, b in edges if a == f] for f in functions}
    assert all(len(v) == 1 for v in out.values())
    name = {f: functions[f][2][0] for f in functions}
    ins = sorted((name[f], tuple(into[f])) for f in functions)
    assert ins == [("Add", ("(2,) float64", "x")), ("Mul", ("() float64", "(2,) float64")),
                   ("Mul", ("w", "x")), ("Sum", ("(2,) float64",))]
    # the output of Sum is the root: a scalar nobody consumes
    (sum_node,) = [f for f in functions if name[f] == "Sum"]
    root = out[sum_node][0]
    assert nodes[root][2] == ["() float64"] and not [a for a, b in edges if a == root]
    # generations grow from the leaves to the root
    assert {tuple(v[2]) for v in functions.values()} == {("Mul", "gen 0"), ("Add", "gen 1"), ("Mul", "gen 2"),
                                                          ("Sum", "gen 3")}


def test_x_used_twice_is_one_node_with_two_edges_out():
    x, w, z = known_expression()
    nodes, edges = parse(viz.graph(z, names={"x": x}))
    (xid,) = [n for n, v in nodes.items() if v[2][0] == "x"]
    assert sorted(nodes[b][2][0] for a, b in edges if a == xid) == ["Add", "Mul"]


def test_show_grad_writes_the_leaf_gradients_after_a_retained_backward():
    x, w, z = known_expression()
    z.backward(retain_graph=True)
    nodes, _ = parse(viz.graph(z, names={"x": x, "w": w}, show_grad=True, show_values=True))
    labels = {v[2][0]: v[2] for v in nodes.values()}
    assert labels["x"] == ["x", "(2,) float64", "requires grad", "[1. 2.]", "grad [ 8. 10.]"]   # 2(w + 1)
    assert labels["w"][-1] == "grad [2. 4.]"                                                     # 2x


def test_a_freed_graph_asks_for_retain_graph():
    _, _, z = known_expression()
    z.backward()
    with pytest.raises(RuntimeError, match=r"freed by backward\(\).*retain_graph=True"):
        viz.graph(z)


def test_big_tensors_are_summarised_and_a_leaf_alone_is_one_node(rng):
    a = mc.Tensor(rng.normal(size=(10, 10)), requires_grad=True)
    nodes, edges = parse(viz.graph(a, show_values=True))
    ((_, fill, label),) = nodes.values()
    assert fill == "lightblue" and label[-1].startswith("mean ") and "max|.|" in label[-1] and not edges


def test_a_small_network_draws_its_layers_and_parameters_by_name(rng):
    mc.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.ReLU(), nn.Flatten(), nn.Linear(8, 3))
    loss = F.cross_entropy(model(mc.Tensor(rng.normal(size=(1, 1, 4, 4)).astype(np.float32))), np.array([1]))
    nodes, _ = parse(viz.graph(loss, names=dict(model.named_parameters())))
    kinds = sorted(v[2][0] for v in nodes.values() if v[0] == "box")
    assert kinds == ["Conv2dFunction", "CrossEntropyFunction", "LinearFunction", "ReLUFunction", "Reshape"]
    params = {v[2][0]: v[2][1] for v in nodes.values() if v[1] == "lightblue"}
    assert params == {"0.weight": "(2, 1, 3, 3) float32", "0.bias": "(2,) float32",
                      "3.weight": "(3, 8) float32", "3.bias": "(3,) float32"}


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="expected at least one Tensor"):
        viz.graph()
    with pytest.raises(TypeError, match="expected Tensors, got ndarray"):
        viz.graph(np.ones(2))
    x = mc.Tensor(np.ones(2), requires_grad=True)
    with pytest.raises(TypeError, match=r"names\['x'\] should be a Tensor"):
        viz.graph(x * 2, names={"x": np.ones(2)})
    with pytest.raises(ValueError, match="rankdir"):
        viz.graph(x, rankdir="up")


def test_save_writes_dot_text_for_dot_files(tmp_path):
    _, _, z = known_expression()
    g = viz.graph(z)
    path = g.save(tmp_path / "g.dot")
    assert open(path).read() == str(g)


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz's dot is not installed")
def test_save_renders_svg_and_png_with_dot(tmp_path):
    _, _, z = known_expression()
    g = viz.graph(z)
    svg = open(g.save(tmp_path / "g.svg")).read()
    assert "<svg" in svg and "Sum" in svg and "Add" in svg
    with open(g.save(tmp_path / "g.png"), "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"
    assert "<svg" in g._repr_svg_()


def test_without_dot_save_falls_back_to_the_dot_text_with_a_warning(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    _, _, z = known_expression()
    g = viz.graph(z)
    assert not viz.dot_available() and g._repr_svg_() is None
    with pytest.warns(RuntimeWarning, match="dot' is not installed"):
        path = g.save(tmp_path / "g.svg")
    assert path == str(tmp_path / "g.dot") and open(path).read() == str(g)
    assert not (tmp_path / "g.svg").exists()
    with pytest.raises(FileNotFoundError, match="apt install graphviz"):
        g.render("svg")


def test_a_graph_built_on_a_freed_one_draws_where_the_old_part_was_freed():
    x = mc.Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = x * 3
    y.sum().backward()                       # frees Mul (and Sum)
    z = (y + 1).sum()
    nodes, edges = parse(viz.graph(z, names={"x": x, "y": y}))
    (cut,) = [n for n, v in nodes.items() if v[2][-1] == "freed by backward()"]
    assert nodes[cut][1] == "lightgrey" and nodes[cut][2][0] == "Mul"
    (yid,) = [n for n, v in nodes.items() if v[2][0] == "y"]
    assert (cut, yid) in edges and not [a for a, b in edges if b == cut]     # nothing drawn below the cut
    assert "x" not in [v[2][0] for v in nodes.values()]
