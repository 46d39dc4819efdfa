"""conv2d by im2col with the column buffer capped (mc.backends.conv.workspace_bytes): the batch is
processed a few samples at a time, cols are rebuilt from x for dW, and the numbers do not change."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F


def _fwd_bwd(x, w, b, gy, **kwargs):
    tensors = [mc.Tensor(a, requires_grad=True) for a in (x, w, b)]
    y = F.conv2d(*tensors, **kwargs)
    chunk = y.creator.chunk          # (backward releases the graph)
    y.backward(gy)
    return [y.data] + [t.grad.data for t in tensors], chunk


@pytest.mark.parametrize("kwargs", [dict(padding=1), dict(stride=2, padding=2, dilation=2, groups=2)])
def test_capped_column_buffer_gives_the_same_numbers(impl, monkeypatch, kwargs):
    monkeypatch.setattr(mc.backends.conv, "algorithm", "im2col")
    rng = np.random.default_rng(0)
    x, w, b = rng.standard_normal((5, 4, 9, 9)), rng.standard_normal((6, 4 // kwargs.get("groups", 1), 3, 3)), rng.standard_normal(6)
    y = F.conv2d(mc.Tensor(x), mc.Tensor(w), **kwargs)
    gy = rng.standard_normal(y.shape)
    whole, chunk = _fwd_bwd(x, w, b, gy, **kwargs)
    assert chunk == 5
    per_sample_cols = 4 * 9 * y.shape[2] * y.shape[3] * 8
    monkeypatch.setattr(mc.backends.conv, "workspace_bytes", 2 * per_sample_cols)
    chunked, chunk = _fwd_bwd(x, w, b, gy, **kwargs)
    assert chunk == 2
    for name, got, expected in zip(("y", "dx", "dW", "db"), chunked, whole):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12, err_msg=name)


def test_chunked_forward_keeps_x_not_the_columns(monkeypatch):
    monkeypatch.setattr(mc.backends.conv, "algorithm", "im2col")
    monkeypatch.setattr(mc.backends.conv, "workspace_bytes", 1)
    x = mc.Tensor(np.ones((3, 2, 5, 5)))
    y = F.conv2d(x, mc.Tensor(np.ones((2, 2, 3, 3)), requires_grad=True))
    assert y.creator.cols is None and y.creator.x is x.data


def _two_convs(rng, w1, w2):
    x = mc.Tensor(rng.standard_normal((2, 3, 6, 6)), requires_grad=True)
    h = F.conv2d(x, w1, padding=1)
    return x, h, F.conv2d(h, w2, padding=1)


def test_columns_past_the_saved_budget_are_rebuilt_from_x_with_the_same_numbers(monkeypatch):
    from minicnn.kernels import memory
    monkeypatch.setattr(mc.backends.conv, "algorithm", "im2col")
    rng = np.random.default_rng(1)
    w1 = mc.Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    w2 = mc.Tensor(rng.standard_normal((5, 4, 3, 3)), requires_grad=True)
    grads = []
    first_cols = 3 * 9 * 2 * 36 * 8                     # conv 1's columns in float64
    for budget in (10 ** 12, first_cols, 0):
        monkeypatch.setattr(mc.backends.conv, "saved_columns_bytes", budget)
        x, h, y = _two_convs(np.random.default_rng(2), w1, w2)
        kept = [(f.cols is not None, f.x is not None) for f in (h.creator, y.creator)]
        assert memory.kept_bytes() == sum(f.cols.nbytes for f in (h.creator, y.creator) if f.cols is not None)
        expected = {10 ** 12: [(True, False), (True, False)], first_cols: [(True, False), (False, True)],
                    0: [(False, True), (False, True)]}[budget]
        assert kept == expected, budget
        y.sum().backward()
        assert memory.kept_bytes() == 0                  # backward let go of every kept column
        grads.append([t.grad.data.copy() for t in (x, w1, w2)])
        for t in (x, w1, w2):
            t.grad = None
    for other in grads[1:]:
        for got, want in zip(other, grads[0]):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_a_graph_dropped_without_backward_gives_its_budget_back(monkeypatch):
    import gc
    from minicnn.kernels import memory
    monkeypatch.setattr(mc.backends.conv, "algorithm", "im2col")
    rng = np.random.default_rng(3)
    w1 = mc.Tensor(rng.standard_normal((4, 3, 3, 3)), requires_grad=True)
    w2 = mc.Tensor(rng.standard_normal((5, 4, 3, 3)), requires_grad=True)
    x, h, y = _two_convs(rng, w1, w2)
    assert memory.kept_bytes() > 0
    del x, h, y
    gc.collect()
    assert memory.kept_bytes() == 0


@pytest.mark.parametrize("bad", [-1, 1.5, True, "1G"])
def test_saved_columns_bytes_takes_a_nonnegative_int(bad):
    with pytest.raises(ValueError, match="saved_columns_bytes: expected an int >= 0"):
        mc.backends.conv.saved_columns_bytes = bad
