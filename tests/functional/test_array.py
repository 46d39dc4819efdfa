import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F
from tests.helpers import randt


def test_reshape_and_transpose_pass_gradcheck(xp, rng):
    x = randt(xp, rng, 2, 3, 4)
    assert mc.gradcheck(lambda t: t.reshape(4, 6).transpose(), [x])
    assert mc.gradcheck(lambda t: t.transpose(2, 0, 1).reshape(-1), [x])
    assert mc.gradcheck(lambda t: t.T, [x])


@pytest.mark.parametrize("index", [1, (slice(None), 2), (Ellipsis, slice(1, 3)), (0, None, slice(None, None, 2))])
def test_basic_indexing_passes_gradcheck(xp, rng, index):
    x = randt(xp, rng, 3, 4, 5)
    assert mc.gradcheck(lambda t: t[index], [x])


def test_advanced_indexing_sums_grads_of_repeated_positions(xp, rng):
    x = randt(xp, rng, 4, 3)
    idx = xp.asarray([0, 2, 0, 0])
    assert mc.gradcheck(lambda t: t[idx], [x])
    x.grad = None
    x[idx].sum().backward()
    np.testing.assert_allclose(mc.to_numpy(x.grad.data)[:, 0], [3, 0, 1, 0])


def test_pairs_of_index_arrays_pick_elements(xp, rng):
    x = randt(xp, rng, 4, 3)
    rows, cols = xp.asarray([0, 1, 3]), xp.asarray([2, 0, 1])
    assert mc.gradcheck(lambda t: t[rows, cols], [x])


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concatenate_passes_gradcheck(xp, rng, axis):
    a, b = randt(xp, rng, 2, 3), randt(xp, rng, 2, 3)
    c = randt(xp, rng, 2, 3)
    assert mc.concatenate([a, b, c], axis=axis).shape[axis % 2] == 6 if axis % 2 == 0 else True
    assert mc.gradcheck(lambda *ts: F.concatenate(ts, axis=axis), [a, b, c])


def test_concatenate_takes_different_sizes_along_the_axis(xp, rng):
    a, b = randt(xp, rng, 2, 3), randt(xp, rng, 2, 5)
    assert mc.concatenate([a, b], axis=1).shape == (2, 8)
    assert mc.gradcheck(lambda p, q: F.concatenate([p, q], axis=1), [a, b])


def test_concatenate_mismatch_names_the_shapes(xp, rng):
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 5\)"):
        mc.concatenate([randt(xp, rng, 2, 3), randt(xp, rng, 4, 5)], axis=1)


@pytest.mark.parametrize("axis", [0, 1, 2])
def test_stack_passes_gradcheck(xp, rng, axis):
    a, b = randt(xp, rng, 2, 3), randt(xp, rng, 2, 3)
    assert mc.stack([a, b], axis=axis).shape[axis] == 2
    assert mc.gradcheck(lambda p, q: F.stack([p, q], axis=axis), [a, b])


@pytest.mark.parametrize("width", [1, (1, 2), ((0, 0), (2, 1), (1, 0))])
def test_pad_passes_gradcheck(xp, rng, width):
    x = randt(xp, rng, 2, 3, 4)
    assert mc.gradcheck(lambda t: F.pad(t, width), [x])


def test_negative_pad_is_refused(xp, rng):
    with pytest.raises(ValueError, match="-1"):
        F.pad(randt(xp, rng, 2, 3), -1)


def test_broadcast_to_sums_back(xp, rng):
    x = randt(xp, rng, 3, 1)
    assert mc.gradcheck(lambda t: F.broadcast_to(t, (2, 3, 4)), [x])


def test_reshape_to_a_wrong_size_names_both(xp, rng):
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4, 4\)"):
        randt(xp, rng, 2, 3).reshape(4, 4)
