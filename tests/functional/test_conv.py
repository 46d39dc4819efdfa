"""conv2d: finite-difference gradients over a grid of geometries, PyTorch parity, the
first-layer shortcut, float32 preservation and the error messages."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F
from tests.helpers import randt, try_import_torch

# (N, C, H, W, O, kernel, stride, padding, dilation, groups)
GRID = {
    "k1": (1, 2, 4, 5, 3, 1, 1, 0, 1, 1),
    "k3-groups2-batch2": (2, 4, 5, 4, 4, 3, 1, 1, 1, 2),
    "k3-stride2-pad2-dilation2": (2, 2, 7, 6, 2, 3, 2, 2, 2, 1),
    "k5-nonsquare-stride-pad": (1, 2, 8, 6, 2, 5, (2, 1), (2, 1), 1, 1),
    "k11-stride4-pad1": (1, 1, 13, 12, 2, 11, 4, 1, 1, 1),
    "nonsquare-kernel-dilation-groups": (2, 2, 5, 6, 2, (3, 2), (1, 2), (0, 1), (2, 1), 2),
    "depthwise": (1, 3, 5, 5, 3, 3, 1, 1, 1, 3),
}


def _kernel_hw(kernel):
    return (kernel, kernel) if isinstance(kernel, int) else kernel


def _make(xp, rng, case, dtype=np.float64):
    N, C, H, W, O, kernel, stride, padding, dilation, groups = case
    x = randt(xp, rng, N, C, H, W, dtype=dtype)
    w = randt(xp, rng, O, C // groups, *_kernel_hw(kernel), dtype=dtype)
    b = randt(xp, rng, O, dtype=dtype)
    return x, w, b, dict(stride=stride, padding=padding, dilation=dilation, groups=groups)


@pytest.mark.parametrize("case", GRID.values(), ids=GRID.keys())
def test_conv2d_passes_gradcheck_for_x_weight_and_bias(xp, rng, case):
    x, w, b, kw = _make(xp, rng, case)
    assert mc.gradcheck(lambda x, w, b: F.conv2d(x, w, b, **kw), [x, w, b])


def test_conv2d_without_bias_passes_gradcheck_with_the_numpy_kernels(xp, rng, impl):
    x, w, _, kw = _make(xp, rng, GRID["nonsquare-kernel-dilation-groups"])
    assert mc.gradcheck(lambda x, w: F.conv2d(x, w, None, **kw), [x, w])


@pytest.mark.parametrize("case", GRID.values(), ids=GRID.keys())
def test_conv2d_matches_torch_forward_and_backward(xp, rng, impl, case):
    torch = try_import_torch() or pytest.skip("torch not installed")
    x, w, b, kw = _make(xp, rng, case)
    y = F.conv2d(x, w, b, **kw)
    gy = rng.standard_normal(y.shape)
    y.backward(xp.asarray(gy))
    tx, tw, tb = (torch.tensor(mc.to_numpy(t.data), requires_grad=True) for t in (x, w, b))
    ty = torch.nn.functional.conv2d(tx, tw, tb, **kw)
    ty.backward(torch.tensor(gy))
    for ours, theirs in ((y, ty), (x.grad, tx.grad), (w.grad, tw.grad), (b.grad, tb.grad)):
        np.testing.assert_allclose(mc.to_numpy(ours.data), theirs.detach().numpy(), rtol=1e-10, atol=1e-10)


def test_conv2d_matches_torch_in_float32_at_a_realistic_size(rng, impl):
    torch = try_import_torch() or pytest.skip("torch not installed")
    x, w, b, _ = _make(np, rng, (4, 6, 17, 15, 8, 5, 1, 2, 1, 2), dtype=np.float32)
    y = F.conv2d(x, w, b, padding=2, groups=2, stride=(2, 1))
    assert y.dtype == np.float32
    y.backward(np.ones(y.shape, np.float32))
    tx, tw, tb = (torch.tensor(t.data, requires_grad=True) for t in (x, w, b))
    ty = torch.nn.functional.conv2d(tx, tw, tb, padding=2, groups=2, stride=(2, 1))
    ty.backward(torch.ones(ty.shape))
    for ours, theirs in ((y, ty), (x.grad, tx.grad), (w.grad, tw.grad), (b.grad, tb.grad)):
        assert ours.dtype == np.float32
        np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=1e-4, atol=1e-4)


def test_conv2d_output_size_follows_the_formula(xp, rng):
    x = randt(xp, rng, 2, 3, 23, 17, requires_grad=False)
    w = randt(xp, rng, 4, 3, 5, 3, requires_grad=False)
    y = F.conv2d(x, w, stride=(3, 2), padding=(1, 2), dilation=(2, 1))
    assert y.shape == (2, 4, (23 + 2 - 2 * 4 - 1) // 3 + 1, (17 + 4 - 2 - 1) // 2 + 1)


def test_first_layer_skips_the_input_gradient_but_still_learns(xp, rng):
    x, w, b, kw = _make(xp, rng, GRID["k3-groups2-batch2"])
    x.requires_grad = False
    fn = mc.functional.conv.Conv2dFunction(**kw)
    y = fn(x, w, b)
    assert fn.weight is None                      # nothing kept for an input gradient nobody needs
    y.sum().backward()
    assert x.grad is None and w.grad is not None and b.grad is not None
    np.testing.assert_allclose(mc.to_numpy(b.grad.data), np.full(4, y.shape[0] * y.shape[2] * y.shape[3]))


def test_inference_keeps_nothing_for_backward(rng):
    x, w, b, kw = _make(np, rng, GRID["k1"])
    fn = mc.functional.conv.Conv2dFunction(**kw)
    with mc.no_grad():
        fn(x, w, b)
    assert fn.cols is None and fn.weight is None


@pytest.mark.parametrize("args, message", [
    (((2, 3, 8), (4, 3, 3, 3), {}), r"conv2d: expected input \(N, 3, H, W\), got \(2, 3, 8\)"),
    (((2, 5, 8, 8), (4, 3, 3, 3), {}), r"conv2d: expected input \(N, 3, H, W\), got \(2, 5, 8, 8\)"),
    (((1, 3, 4, 4), (4, 3, 7, 7), {"padding": 1}), r"conv2d: kernel \(7, 7\).*larger than the padded input \(6, 6\)"),
    (((1, 3, 8, 8), (4, 3, 3, 3), {"stride": 0}), r"conv2d: stride must be positive, got \(0, 0\)"),
    (((1, 3, 8, 8), (4, 3, 0, 3), {}), r"conv2d: kernel_size must be positive, got \(0, 3\)"),
    (((1, 3, 8, 8), (4, 3, 3, 3), {"padding": (1, -1)}), r"conv2d: padding must be non-negative, got \(1, -1\)"),
    (((1, 4, 8, 8), (3, 2, 3, 3), {"groups": 2}), r"conv2d: groups=2 must divide out_channels=3"),
])
def test_conv2d_rejects_bad_shapes_with_a_clear_message(args, message):
    x_shape, w_shape, kw = args
    with pytest.raises(ValueError, match=message):
        F.conv2d(mc.Tensor(np.zeros(x_shape)), mc.Tensor(np.zeros(w_shape)), **kw)


def test_conv2d_rejects_mixed_dtypes():
    with pytest.raises(TypeError, match="conv2d: input dtype float64 must equal weight dtype float32"):
        F.conv2d(mc.Tensor(np.zeros((1, 1, 4, 4))), mc.Tensor(np.zeros((1, 1, 3, 3), np.float32)))


def _two_layer_step(x, w1, w2):
    for t in (x, w1, w2):
        t.grad = None
    y = F.conv2d(F.conv2d(x, w1, padding=1), w2, padding=1)
    y.backward(np.ones(y.shape, np.float32))
    return [y.data.copy(), x.grad.data, w1.grad.data, w2.grad.data]


def test_reused_workspace_buffers_never_change_results(rng, impl):
    """Two convs with the same cols shape share workspace keys; results stay those of
    fresh buffers, step after step (big enough to pass the workspace's size threshold)."""
    from minicnn.kernels.memory import workspace
    x = randt(np, rng, 8, 32, 24, 24, dtype=np.float32)
    w1 = randt(np, rng, 32, 32, 3, 3, dtype=np.float32)
    w2 = randt(np, rng, 32, 32, 3, 3, dtype=np.float32)
    saved = workspace.max_bytes
    try:
        workspace.max_bytes = 0
        workspace.clear()
        fresh = _two_layer_step(x, w1, w2)
        workspace.max_bytes = 64 << 20    # the default keeps nothing where glibc's heap reuses memory
        first = _two_layer_step(x, w1, w2)
        assert workspace._bytes > 0                        # buffers were kept for reuse
        second = _two_layer_step(x, w1, w2)
    finally:
        workspace.max_bytes = saved
    for a, b, c in zip(fresh, first, second):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, c)


def test_workspace_keeps_only_unshared_numpy_arrays():
    from minicnn.kernels.memory import Workspace
    pool = Workspace(max_bytes=64 << 20, min_bytes=1 << 10)
    owner = np.empty((1024, 1024), np.float32)
    pool.give(owner[:512])                                  # a view: someone else owns it
    pool.give(np.empty(10, np.float32))                     # below the size threshold
    assert pool._bytes == 0
    pool.give(owner)
    assert pool.take(np, (1024, 1024), np.float32) is owner
    assert pool.take(np, (1024, 1024), np.float32) is not owner and pool._bytes == 0


@pytest.mark.parametrize("case", GRID.values(), ids=GRID.keys())
def test_conv2d_reference_equals_conv2d_in_values_and_gradients(xp, rng, impl, case):
    """The plain conv (Tensor ops, autograd only) and the fused one agree to rounding."""
    x, w, b, kw = _make(xp, rng, case)
    results = []
    for conv in (F.conv2d, F.conv2d_reference):
        for t in (x, w, b):
            t.grad = None
        y = conv(x, w, b, **kw)
        gy = xp.asarray(np.random.default_rng(7).standard_normal(y.shape))
        y.backward(gy)
        results.append([mc.to_numpy(a) for a in (y.data, x.grad.data, w.grad.data, b.grad.data)])
    for fused, plain in zip(*results):
        np.testing.assert_allclose(fused, plain, rtol=1e-10, atol=1e-10)


def test_conv2d_reference_is_differentiated_by_autograd_alone(rng):
    """No Function of its own: the graph under its output holds only generic Tensor ops."""
    x, w, b, kw = _make(np, rng, GRID["k3-groups2-batch2"])
    y = F.conv2d_reference(x, w, b, **kw)
    seen, stack = set(), [y.creator]
    while stack:
        f = stack.pop()
        seen.add(type(f).__name__)
        stack.extend(t.creator for t in f.inputs if t.creator is not None)
    assert "Conv2dFunction" not in seen and {"MatMul", "Stack", "Pad"} <= seen


def test_a_batch_of_one_keeps_its_output_when_the_workspace_reuses_the_gemm_buffer(rng, impl):
    """With N = 1 the GEMM result is already NCHW; the output must still own its memory, or the
    next conv of the same shape overwrites it through the reused buffer."""
    w = mc.Tensor(rng.standard_normal((64, 3, 3, 3)).astype(np.float32))
    x = mc.Tensor(rng.standard_normal((1, 3, 66, 66)).astype(np.float32))      # GEMM buffer: 64 x 4096 floats = 1 MB
    first = F.conv2d(x, w)
    kept = first.data.copy()
    F.conv2d(mc.Tensor(rng.standard_normal((1, 3, 66, 66)).astype(np.float32)), w)
    np.testing.assert_array_equal(first.data, kept)
