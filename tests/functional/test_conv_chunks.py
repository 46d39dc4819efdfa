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
