"""The kernel seam: every kernel × implementation is routed by the array alone, through one
inspectable table; every implementation has the reference's signature."""
import inspect
import types

import numpy as np
import pytest

import minicnn as mc
from minicnn import backend, kernels
from minicnn import functional as F
from minicnn.kernels import cupy_gpu, dispatch, numba_adapters


class FakeCupyArray(np.ndarray):
    """A NumPy array that minicnn takes for a CuPy one (no GPU needed to test the routing)."""


@pytest.fixture
def fake_cupy(monkeypatch):
    module = types.SimpleNamespace(ndarray=FakeCupyArray, __name__="cupy")
    monkeypatch.setattr(backend, "_cupy", module)
    return module


@pytest.fixture
def selected(request):
    previous = kernels.get_kernels()
    yield kernels.set_kernels
    kernels.set_kernels(previous)


# one call of each kernel through the seam: (the array it dispatches on) -> arguments after it
CALLS = {
    "im2col": lambda a: ((2, 2), (1, 1), (0, 0), (1, 1)),
    "col2im": lambda a: ((1, 1, 3, 3), (2, 2), (1, 1), (0, 0), (1, 1)),
    "gemm_output_to_nchw": lambda a: (None, 1),
    "nchw_to_gemm_layout": lambda a: (np.empty((2, 9)), True),
    "maxpool_forward": lambda a: ((2, 2), (2, 2), (0, 0), (1, 1), (1, 1)),
    "maxpool_backward": lambda a: (np.zeros((1, 1, 1, 1), np.int32), (1, 1, 2, 2)),
    "avgpool_forward": lambda a: ((2, 2), (2, 2), (0, 0), (1, 1), np.ones((1, 1))),
    "avgpool_backward": lambda a: ((1, 1, 2, 2), (2, 2), (2, 2), (0, 0), (1, 1), np.ones((1, 1))),
    "lrn_forward": lambda a: (3, 1e-4, 0.75, 1.0),
    "lrn_backward": lambda a: (a, a, 3, 1e-4, 0.75),
    "winograd_transform_tiles": lambda a: (np.eye(2, dtype=a.dtype), 1, 0, 0, 1, 1, np.empty((2, 2, 1, 1), a.dtype)),
    "winograd_untransform_tiles": lambda a: (np.eye(2, dtype=a.dtype), 1, 1, np.zeros(1, a.dtype), np.empty((1, 1, 2, 2), a.dtype)),
    "batch_norm_stats": lambda a: (np.empty(1, a.dtype), np.empty(1, a.dtype)),
    "batch_norm_apply": lambda a: (a, a, a, a, a),
    "batch_norm_backward_sums": lambda a: (a, a, a, a, a),
    "batch_norm_backward_input": lambda a: (a, a, a, a, a, a, a),
}


def _array_for(implementation, selected):
    array = np.ones((1, 1, 2, 2), np.float32)
    if implementation == "cuda":
        return array.view(FakeCupyArray)
    selected(implementation)
    return array


# added with kernels.register elsewhere; their routing is tested beside them (tests/optim/test_update_kernels.py)
REGISTERED_ELSEWHERE = {"adam_update", "sgd_update", "sgd_paper_update", "all_finite"}


def test_every_kernel_of_the_seam_has_a_routing_case():
    assert set(CALLS) | REGISTERED_ELSEWHERE == set(kernels.TABLE)


@pytest.mark.parametrize("implementation", kernels.IMPLEMENTATIONS)
@pytest.mark.parametrize("kernel", sorted(CALLS))
def test_each_kernel_runs_the_implementation_the_array_selects(kernel, implementation, fake_cupy, selected,
                                                                monkeypatch):
    if implementation == "numba" and not kernels.NUMBA_AVAILABLE:
        pytest.skip("numba not installed")
    array = _array_for(implementation, selected)
    calls = {}

    def spy(impl):
        def record(first, *args, **kwargs):
            calls[impl] = first
        return record
    for impl in kernels.IMPLEMENTATIONS:
        monkeypatch.setitem(kernels.TABLE[kernel], impl, spy(impl))
    getattr(kernels, kernel)(array, *CALLS[kernel](array))
    assert list(calls) == [implementation] and calls[implementation] is array


@pytest.mark.parametrize("dtype, expected", [(np.float32, "numba"), (np.float64, "numba"), (np.float16, "numpy")])
def test_numpy_arrays_take_numba_when_selected_except_float16(dtype, expected, selected):
    if not kernels.NUMBA_AVAILABLE:
        pytest.skip("numba not installed")
    selected("numba")
    assert kernels.implementation_for(np.zeros(2, dtype)) == expected
    selected("numpy")
    assert kernels.implementation_for(np.zeros(2, dtype)) == "numpy"


def test_cupy_arrays_take_cuda_whatever_the_cpu_selection(fake_cupy, selected):
    for choice in ("numpy", "numba") if kernels.NUMBA_AVAILABLE else ("numpy",):
        selected(choice)
        assert kernels.implementation_for(np.zeros(2, np.float32).view(FakeCupyArray)) == "cuda"


def test_the_table_sends_cupy_to_the_cuda_kernels_lrn_included():
    for kernel in ("im2col", "col2im", "maxpool_forward", "maxpool_backward", "lrn_forward", "lrn_backward"):
        assert kernels.TABLE[kernel]["cuda"] is getattr(cupy_gpu, kernel)
        assert kernels.describe()[kernel]["cuda"] == f"minicnn.kernels.cupy_gpu.{kernel}"
    for kernel, row in kernels.TABLE.items():
        if kernel not in REGISTERED_ELSEWHERE:
            assert row["numba"] is getattr(numba_adapters, kernel, row["numpy"])


@pytest.mark.parametrize("kernel", sorted(CALLS))
def test_every_implementation_has_the_reference_signature(kernel):
    row = kernels.TABLE[kernel]
    reference = list(inspect.signature(row["numpy"]).parameters)
    for impl, fn in row.items():
        assert list(inspect.signature(fn).parameters) == reference, (kernel, impl)
        assert list(inspect.signature(getattr(dispatch, kernel)).parameters) == reference


def test_lrn_on_a_cupy_array_reaches_the_cuda_kernels_through_the_op(fake_cupy, monkeypatch):
    seen = []

    def cuda_forward(x, size, alpha, beta, k):
        seen.append("forward")
        return x.copy(), x.copy()

    def cuda_backward(x, s, gy, size, alpha, beta):
        seen.append("backward")
        return gy.copy()
    monkeypatch.setitem(kernels.TABLE["lrn_forward"], "cuda", cuda_forward)
    monkeypatch.setitem(kernels.TABLE["lrn_backward"], "cuda", cuda_backward)
    x = mc.Tensor(np.ones((1, 3, 2, 2), np.float32).view(FakeCupyArray), requires_grad=True)
    y = F.local_response_norm(x, 3)
    y.backward(np.ones(y.shape, np.float32).view(FakeCupyArray))
    assert seen == ["forward", "backward"]


def test_register_adds_a_kernel_whose_fast_versions_fall_back_to_the_reference(monkeypatch):
    monkeypatch.setattr(dispatch, "TABLE", dict(kernels.TABLE))

    def twice(x):
        return 2 * x
    def twice_fast(x):
        return x + x
    dispatch.register("twice", twice, numba=twice_fast)
    assert dispatch.TABLE["twice"] == {"cuda": twice, "numba": twice_fast, "numpy": twice}
    assert kernels.run("twice", np.ones(2)).tolist() == [2.0, 2.0]
