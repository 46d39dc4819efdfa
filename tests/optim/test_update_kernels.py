"""The fused optimizer updates (Numba) equal their NumPy references bit for bit, in float32
and float64, and their finite flag says exactly whether the new weights and state are finite."""
import inspect
import types

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicnn import backend, kernels
from minicnn.kernels import optim as update_kernels

pytestmark = pytest.mark.skipif(not kernels.NUMBA_AVAILABLE, reason="numba not installed")

KERNELS = ("adam_update", "sgd_update", "sgd_paper_update", "all_finite")
DTYPES = st.sampled_from([np.float32, np.float64])
# sizes around the chunk length, so several prange chunks and a ragged last one are covered
SHAPES = st.sampled_from([(), (1,), (7,), (3, 5), (2, 3, 4, 5), (update_kernels._numba.CHUNK + 3,),
                          (2, update_kernels._numba.CHUNK // 2 + 1)])


def _arrays(shape, dtype, count, seed, scale=1.0):
    rng = np.random.default_rng(seed)
    return [np.array(rng.standard_normal(shape) * scale, dtype=dtype) for _ in range(count)]


def _both(kernel, arrays, *hyper):
    """Run the reference and the Numba version on copies; return (flag, arrays) of each."""
    out = []
    for impl in ("numpy", "numba"):
        copies = [a.copy() if isinstance(a, np.ndarray) else a for a in arrays]
        flag = kernels.TABLE[kernel][impl](*copies, *hyper)
        out.append((bool(flag), copies))
    return out


def _assert_bitwise_equal(reference, fused):
    (flag_r, arrays_r), (flag_f, arrays_f) = reference, fused
    assert flag_r == flag_f
    for r, f in zip(arrays_r, arrays_f):
        if isinstance(r, np.ndarray):
            assert f.dtype == r.dtype
            np.testing.assert_array_equal(f, r)   # exact: same operations in the same order and dtype


@settings(max_examples=40, deadline=None)
@given(shape=SHAPES, dtype=DTYPES, seed=st.integers(0, 2 ** 16), step=st.integers(1, 50),
       lr=st.floats(1e-5, 1.0), beta1=st.floats(0.0, 0.99), beta2=st.floats(0.0, 0.9999),
       eps=st.sampled_from([0.0, 1e-8, 1e-3]), weight_decay=st.sampled_from([0.0, 1e-4, 0.5]))
def test_fused_adam_equals_the_reference_bit_for_bit(shape, dtype, seed, step, lr, beta1, beta2, eps, weight_decay):
    w, g, m, v = _arrays(shape, dtype, 4, seed)
    v = np.abs(v)
    hyper = update_kernels.scalars(w, lr / (1 - beta1 ** step), beta1, 1 - beta1, beta2, 1 - beta2,
                                   np.sqrt(1 - beta2 ** step), eps, weight_decay)
    _assert_bitwise_equal(*_both("adam_update", [w, g, m, v], *hyper))


@settings(max_examples=40, deadline=None)
@given(shape=SHAPES, dtype=DTYPES, seed=st.integers(0, 2 ** 16), lr=st.floats(1e-5, 1.0),
       momentum=st.sampled_from([0.0, 0.5, 0.9]), dampening=st.sampled_from([0.0, 0.3]),
       weight_decay=st.sampled_from([0.0, 5e-4]), nesterov=st.booleans(), first=st.booleans())
def test_fused_sgd_equals_the_reference_bit_for_bit(shape, dtype, seed, lr, momentum, dampening, weight_decay,
                                                    nesterov, first):
    w, g, buf = _arrays(shape, dtype, 3, seed)
    buf = buf if momentum != 0 else None
    hyper = update_kernels.scalars(w, lr, momentum, 1 - dampening, weight_decay) + (nesterov, first)
    _assert_bitwise_equal(*_both("sgd_update", [w, g, buf], *hyper))


@settings(max_examples=40, deadline=None)
@given(shape=SHAPES, dtype=DTYPES, seed=st.integers(0, 2 ** 16), lr=st.floats(1e-5, 1.0),
       momentum=st.sampled_from([0.0, 0.9]), weight_decay=st.sampled_from([0.0, 5e-4]), first=st.booleans())
def test_fused_paper_sgd_equals_the_reference_bit_for_bit(shape, dtype, seed, lr, momentum, weight_decay, first):
    w, g, v = _arrays(shape, dtype, 3, seed)
    hyper = update_kernels.scalars(w, lr, momentum, weight_decay) + (first,)
    _assert_bitwise_equal(*_both("sgd_paper_update", [w, g, v], *hyper))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [0, update_kernels._numba.CHUNK - 1, update_kernels._numba.CHUNK + 2])
def test_a_non_finite_gradient_anywhere_clears_the_flag_of_every_update(bad, where):
    w, g, m, v = _arrays((update_kernels._numba.CHUNK + 3,), np.float32, 4, seed=1)
    g[where] = bad
    adam = update_kernels.scalars(w, 1e-3, 0.9, 0.1, 0.999, 0.001, 0.03, 1e-8, 0.0)
    sgd = update_kernels.scalars(w, 0.1, 0.9, 1.0, 0.0)
    paper = update_kernels.scalars(w, 0.1, 0.9, 0.0)
    for results in (_both("adam_update", [w, g, m, np.abs(v)], *adam),
                    _both("sgd_update", [w, g, m], *sgd, False, False),
                    _both("sgd_update", [w, g, None], *sgd, False, False),
                    _both("sgd_paper_update", [w, g, v], *paper, False)):
        assert [flag for flag, _ in results] == [False, False]
        np.testing.assert_array_equal(results[0][1][0], results[1][1][0])   # NaN where the reference has NaN


def test_an_update_that_overflows_float32_clears_the_flag():
    w = np.full(10, 3e38, np.float32)
    g = np.full(10, -3e38, np.float32)
    for impl in ("numpy", "numba"):
        assert not kernels.TABLE["sgd_update"][impl](w.copy(), g, None, *update_kernels.scalars(w, 1.0, 0, 1, 0),
                                                      False, True)
        assert kernels.TABLE["sgd_update"][impl](w.copy(), g, None, *update_kernels.scalars(w, 1e-3, 0, 1, 0),
                                                  False, True)


@settings(max_examples=30, deadline=None)
@given(shape=SHAPES, dtype=st.sampled_from([np.float16, np.float32, np.float64]), seed=st.integers(0, 2 ** 16),
       bad=st.sampled_from([None, np.nan, np.inf, -np.inf]), where=st.floats(0, 1))
def test_all_finite_agrees_with_isfinite_all(shape, dtype, seed, bad, where):
    x = _arrays(shape, dtype, 1, seed)[0]
    if bad is not None:
        x.reshape(-1)[int(where * (x.size - 1))] = bad
    assert update_kernels.all_finite(x) == bool(np.isfinite(x).all())
    assert kernels.TABLE["all_finite"]["numba"](x.T) == bool(np.isfinite(x).all())   # not contiguous: the reference


def test_non_contiguous_or_mixed_arrays_take_the_reference():
    w, g, m, v = _arrays((6, 4), np.float32, 4, seed=2)
    hyper = update_kernels.scalars(w, 1e-2, 0.9, 0.1, 0.999, 0.001, 0.03, 1e-8, 0.1)
    reference, fused = _both("adam_update", [w.T, g.T, m.T, np.abs(v.T)], *hyper)
    _assert_bitwise_equal(reference, fused)


# --- the seam ------------------------------------------------------------------------------------
def test_the_table_holds_the_references_for_numpy_and_cuda_and_the_fused_kernels_for_numba():
    for kernel in KERNELS:
        row = kernels.TABLE[kernel]
        assert row["numpy"] is row["cuda"] is getattr(update_kernels, f"{kernel}_reference")
        assert row["numba"] is getattr(update_kernels._numba, kernel)
        reference = list(inspect.signature(row["numpy"]).parameters)
        assert list(inspect.signature(row["numba"]).parameters) == reference
        assert list(inspect.signature(getattr(update_kernels, kernel)).parameters) == reference


@pytest.mark.parametrize("kernel", KERNELS)
@pytest.mark.parametrize("selection, array_type, expected", [("numba", np.ndarray, "numba"),
                                                             ("numpy", np.ndarray, "numpy"),
                                                             ("numba", "cupy", "cuda")])
def test_each_update_runs_the_implementation_the_array_selects(kernel, selection, array_type, expected, monkeypatch):
    fake = type("FakeCupyArray", (np.ndarray,), {})
    monkeypatch.setattr(backend, "_cupy", types.SimpleNamespace(ndarray=fake, __name__="cupy"))
    previous = kernels.get_kernels()
    kernels.set_kernels(selection)
    try:
        w = np.ones(3, np.float32) if array_type is np.ndarray else np.ones(3, np.float32).view(fake)
        calls = []
        for impl in kernels.IMPLEMENTATIONS:
            monkeypatch.setitem(kernels.TABLE[kernel], impl, lambda *a, impl=impl, **k: calls.append(impl))
        n_args = len(inspect.signature(getattr(update_kernels, kernel)).parameters)
        getattr(update_kernels, kernel)(w, *([None] * (n_args - 1)))
        assert calls == [expected]
    finally:
        kernels.set_kernels(previous)


# --- the optimizers through the seam -------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make_opt", [
    lambda ps: __import__("minicnn").optim.Adam(ps, lr=1e-2, weight_decay=1e-2),
    lambda ps: __import__("minicnn").optim.SGD(ps, lr=0.1),
    lambda ps: __import__("minicnn").optim.SGD(ps, lr=0.1, momentum=0.9, dampening=0.2, weight_decay=1e-3),
    lambda ps: __import__("minicnn").optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: __import__("minicnn").optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=5e-4, rule="paper")])
def test_a_trajectory_is_the_same_with_the_fused_kernels_and_with_the_references(make_opt, dtype):
    from minicnn.nn.module import Parameter
    trajectories = []
    for selection in ("numpy", "numba"):
        previous = kernels.get_kernels()
        kernels.set_kernels(selection)
        try:
            w0, *grads = _arrays((3, 70000), dtype, 5, seed=3)   # several chunks
            w = Parameter(w0)
            opt = make_opt([w])
            states = []
            for g in grads:
                w.grad = g.copy()
                opt.step()
                assert w.data.dtype == dtype and all(a.dtype == dtype for a in opt.state.get(id(w), {}).values()
                                                     if isinstance(a, np.ndarray))
                states.append([w.data.copy()] + [np.copy(a) for a in opt.state.get(id(w), {}).values()])
            trajectories.append(states)
        finally:
            kernels.set_kernels(previous)
    for ref, fused in zip(*trajectories):
        for r, f in zip(ref, fused):
            np.testing.assert_array_equal(f, r)
