"""Every worked example in docs/ recomputed with the library.

Each test hard-codes the example's inputs, checks them against the note's input block (so
the two cannot drift apart), runs the library's forward and backward, and compares the
results with the note's output block to the printed number of decimals.
"""
import numpy as np
import pytest

import minicnn as mc
from minicnn import functional as F, optim
from tests.docs.worked_examples import all_examples, check, mismatches, parse_markdown

# every example name used below; test_every_worked_example_is_checked keeps it complete
CHECKED = set()


def _uses(*names):
    CHECKED.update(names)


def t64(values, requires_grad=True):
    return mc.Tensor(np.array(values, dtype=np.float64), requires_grad=requires_grad)


def grad(tensor):
    return tensor.grad.data


# --- the reader itself ---------------------------------------------------------------------

def test_reader_takes_names_continuations_and_precision_from_the_block():
    text = ("<!-- worked-example: demo -->\n```text\n"
            "y  = [[1.5 -2]   # a comment 99\n      [3e-2 4.25]]\nb2 = 0.5\n```\n")
    entries = parse_markdown(text)["demo"]
    assert list(entries) == ["y", "b2"]
    np.testing.assert_array_equal(entries["y"].values, [1.5, -2, 0.03, 4.25])
    np.testing.assert_allclose(entries["y"].tolerances, [0.05, 0.5, 0.005, 0.005])


def test_reader_flags_a_number_that_is_off_by_more_than_its_last_digit():
    entry = parse_markdown("<!-- worked-example: demo -->\n```\nv = 0.502973 2\n```\n")["demo"]["v"]
    assert mismatches(entry, [0.5029734, 2.4]) == []
    assert len(mismatches(entry, [0.502983, 2.0])) == 1
    assert mismatches(entry, [0.5]) != []          # wrong count


def test_every_worked_example_is_checked():
    in_docs = set(all_examples())
    assert in_docs, "no worked examples found in docs/"
    assert in_docs == CHECKED, (f"examples without a test: {sorted(in_docs - CHECKED)}; "
                                f"tests without an example: {sorted(CHECKED - in_docs)}")


# --- relu ----------------------------------------------------------------------------------
_uses("relu-input", "relu-output")


def test_relu_example():
    x_values, gy = [-2, -0.5, 0, 1.5, 3], [1, 2, 3, 4, 5]
    check("relu-input", "x", x_values)
    check("relu-input", "gy", gy)
    x = t64(x_values)
    y = F.relu(x)
    y.backward(np.array(gy, dtype=np.float64))
    check("relu-output", "y", y.data)
    check("relu-output", "dx", grad(x))


# --- linear --------------------------------------------------------------------------------
_uses("linear-input", "linear-output")


def test_linear_example():
    x_v, W_v, b_v, g = [1, 2, 3], [[1, 0, -1], [2, 1, 0.5]], [0.5, -1], [1, 2]
    for key, value in dict(x=x_v, W=W_v, b=b_v, g=g).items():
        check("linear-input", key, value)
    x, W, b = t64([x_v]), t64(W_v), t64(b_v)
    y = F.linear(x, W, b)
    y.backward(np.array([g], dtype=np.float64))
    check("linear-output", "y", y.data)
    check("linear-output", "dx", grad(x))
    check("linear-output", "dW", grad(W))
    check("linear-output", "db", grad(b))


# --- local response normalisation ----------------------------------------------------------
_uses("lrn-input", "lrn-output")


@pytest.mark.parametrize("scaling", ["pytorch", "paper"])
def test_lrn_example(scaling):
    a_v, g_v = [1, 2, 3, 4], [1, -1, 0.5, 2]
    size, k, beta, alpha = 3, 2.0, 0.75, 0.3
    for key, value in dict(a=a_v, g=g_v, size=size, k=k, beta=beta, alpha=alpha).items():
        check("lrn-input", key, value)
    a = t64(np.reshape(a_v, (1, 4, 1, 1)))
    b = F.local_response_norm(a, size, alpha=alpha, beta=beta, k=k, alpha_scaling=scaling)
    b.backward(np.reshape(np.array(g_v, dtype=np.float64), (1, 4, 1, 1)))
    effective_alpha = alpha / size if scaling == "pytorch" else alpha
    window_sums = np.array([sum(v * v for v in a_v[max(0, c - 1):c + 2]) for c in range(4)])
    check("lrn-output", f"s_{scaling}", k + effective_alpha * window_sums)
    check("lrn-output", f"b_{scaling}", b.data)
    check("lrn-output", f"da_{scaling}", grad(a))


def test_lrn_example_paper_row_equals_pytorch_convention_with_size_times_alpha():
    a = t64(np.reshape([1, 2, 3, 4], (1, 4, 1, 1)), requires_grad=False)
    b = F.local_response_norm(a, 3, alpha=0.9, beta=0.75, k=2.0)
    check("lrn-output", "b_paper", b.data)


# --- dropout -------------------------------------------------------------------------------
_uses("dropout-input", "dropout-output")


def test_dropout_example():
    x_v, gy, mask, p = [1, 2, 3, 4], [1, 1, 1, 1], [1, 0, 1, 0], 0.5
    for key, value in dict(x=x_v, gy=gy, mask=mask, p=p).items():
        check("dropout-input", key, value)
    # draw masks from the library generator until it produces the note's mask
    for seed in range(1000):
        mc.manual_seed(seed)
        x = t64(x_v)
        y = F.dropout(x, p=p, training=True)
        if np.array_equal(y.data != 0, np.array(mask, dtype=bool)):
            break
    else:
        pytest.fail("1000 seeds never gave the mask [1 0 1 0]")
    y.backward(np.array(gy, dtype=np.float64))
    check("dropout-output", "y_train_inverted", y.data)
    check("dropout-output", "dx_inverted", grad(x))
    check("dropout-output", "y_eval_inverted", F.dropout(t64(x_v), p=p, training=False).data)
    # the paper's form: no scaling in training, times (1 - p) at test time
    check("dropout-output", "y_train_paper", y.data * (1 - p))
    check("dropout-output", "y_test_paper", (1 - p) * np.array(x_v, dtype=np.float64))


# --- batch norm ----------------------------------------------------------------------------
_uses("batchnorm-input", "batchnorm-output")


def test_batchnorm_example_train_then_eval():
    x_v, g_v = [1, 2, 3, 6], [1, 0, 0, -1]
    gamma_v, beta_v, momentum, eps = 2.0, 0.5, 0.1, 1e-5
    for key, value in dict(x=x_v, gamma=gamma_v, beta=beta_v, g=g_v, running_mean=0, running_var=1,
                           momentum=momentum, eps=eps).items():
        check("batchnorm-input", key, value)
    running_mean, running_var = np.zeros(1), np.ones(1)
    x, gamma, beta = t64(np.reshape(x_v, (4, 1))), t64([gamma_v]), t64([beta_v])
    y = F.batch_norm(x, running_mean, running_var, gamma, beta, training=True, momentum=momentum, eps=eps)
    y.backward(np.reshape(np.array(g_v, dtype=np.float64), (4, 1)))
    check("batchnorm-output", "xhat", (y.data - beta_v) / gamma_v)
    check("batchnorm-output", "y_train", y.data)
    check("batchnorm-output", "dx_train", grad(x))
    check("batchnorm-output", "dgamma", grad(gamma))
    check("batchnorm-output", "dbeta", grad(beta))
    check("batchnorm-output", "running_mean_next", running_mean)
    check("batchnorm-output", "running_var_next", running_var)

    x2, gamma2, beta2 = t64(np.reshape(x_v, (4, 1))), t64([gamma_v]), t64([beta_v])
    y2 = F.batch_norm(x2, running_mean, running_var, gamma2, beta2, training=False, eps=eps)
    y2.backward(np.reshape(np.array(g_v, dtype=np.float64), (4, 1)))
    check("batchnorm-output", "y_eval_after", y2.data)
    check("batchnorm-output", "dx_eval_after", grad(x2))


# --- softmax cross-entropy -----------------------------------------------------------------
_uses("cross-entropy-input", "cross-entropy-output")


def test_cross_entropy_example():
    z_v, t_v = [[2, 1, 0.1], [0.5, 2.5, 0.5]], [0, 1]
    check("cross-entropy-input", "z", z_v)
    check("cross-entropy-input", "t", t_v)
    target = np.array(t_v)
    z = t64(z_v)
    loss = F.cross_entropy(z, target)
    loss.backward()
    check("cross-entropy-output", "p", F.softmax(t64(z_v, requires_grad=False), axis=-1).data)
    check("cross-entropy-output", "loss_per_example",
          F.cross_entropy(t64(z_v, requires_grad=False), target, reduction="none").data)
    check("cross-entropy-output", "loss", loss.data)
    check("cross-entropy-output", "dz", grad(z))


# --- optimizers ----------------------------------------------------------------------------
_uses("sgd-input", "sgd-output", "adam-input", "adam-output")


def _trajectory(make_optimizer, lrs, w0):
    """Steps on L = 1/2 ||w||^2 with the library's backward; the learning rate set per step."""
    w = mc.nn.Parameter(np.array(w0, dtype=np.float64))
    optimizer = make_optimizer([w])
    path = []
    for lr in lrs:
        for group in optimizer.param_groups:
            group["lr"] = lr
        optimizer.zero_grad()
        loss = (w * w).sum() * 0.5
        loss.backward()
        optimizer.step()
        path.append(w.data.copy())
    return np.array(path)


@pytest.mark.parametrize("rule", ["pytorch", "paper"])
def test_sgd_example_paper_and_pytorch_rules(rule):
    w0, lrs, momentum, weight_decay = [1, -2], [0.1, 0.1, 0.01, 0.01], 0.9, 0.0005
    for key, value in dict(w0=w0, lr=lrs, momentum=momentum, weight_decay=weight_decay).items():
        check("sgd-input", key, value)
    path = _trajectory(lambda ps: optim.SGD(ps, lr=lrs[0], momentum=momentum,
                                              weight_decay=weight_decay, rule=rule), lrs, w0)
    check("sgd-output", f"w_{rule}", path)


def test_adam_example():
    w0, lr = [1, -2], 0.1
    check("adam-input", "w0", w0)
    check("adam-input", "lr", lr)
    check("adam-output", "w", _trajectory(lambda ps: optim.Adam(ps, lr=lr), [lr] * 3, w0))


# --- convolution and pooling ---------------------------------------------------------------
_uses("conv-input", "conv-output", "conv-overlap-count", "maxpool-input", "maxpool-output",
      "avgpool-output")

X3 = [[1, 2, 3], [4, 5, 6], [7, 8, 9]]


def test_conv_example_im2col_forward_col2im_backward():
    W_v, b_v, gy = [[1, 2], [3, 4]], 0.5, [[1, 0], [0, -1]]
    for key, value in dict(x=X3, W=W_v, b=b_v, gy=gy).items():
        check("conv-input", key, value)
    x, W, b = t64(np.reshape(X3, (1, 1, 3, 3))), t64(np.reshape(W_v, (1, 1, 2, 2))), t64([b_v])
    y = F.conv2d(x, W, b)
    y.backward(np.reshape(np.array(gy, dtype=np.float64), (1, 1, 2, 2)))
    check("conv-output", "y", y.data)
    check("conv-output", "dx", grad(x))
    check("conv-output", "dW", grad(W))
    check("conv-output", "db", grad(b))


def test_conv_example_col2im_of_ones_counts_covering_windows():
    x = t64(np.reshape(X3, (1, 1, 3, 3)))
    y = F.conv2d(x, t64(np.ones((1, 1, 2, 2)), requires_grad=False))
    y.backward(np.ones((1, 1, 2, 2)))
    check("conv-overlap-count", "dx", grad(x))


X5 = [[1, 2, 3, 4, 5], [6, 20, 8, 9, 10], [11, 12, 13, 14, 24], [16, 17, 25, 19, 15],
      [21, 22, 23, 18, 7]]


def test_overlapping_maxpool_example_sums_grads_where_windows_share_the_max():
    gy = [[1, 2], [3, 4]]
    check("maxpool-input", "x", X5)
    check("maxpool-input", "gy", gy)
    x = t64(np.reshape(X5, (1, 1, 5, 5)))
    y = F.max_pool2d(x, 3, stride=2)
    y.backward(np.reshape(np.array(gy, dtype=np.float64), (1, 1, 2, 2)))
    check("maxpool-output", "y", y.data)
    check("maxpool-output", "dx", grad(x))


def test_avgpool_example():
    x = t64(np.reshape(X5, (1, 1, 5, 5)))
    y = F.avg_pool2d(x, 3, stride=2)
    y.backward(np.reshape(np.array([[1, 2], [3, 4]], dtype=np.float64), (1, 1, 2, 2)))
    check("avgpool-output", "y", y.data)
    check("avgpool-output", "dx_times_9", grad(x) * 9)


# --- winograd ------------------------------------------------------------------------------
_uses("winograd-input", "winograd-output")


def test_winograd_f2x2_3x3_example_matches_the_kernels_and_the_direct_sum():
    from minicnn.functional.winograd import winograd_conv2d
    from minicnn.kernels import winograd
    d = [[1, 2, 0, 1], [0, 1, 3, 2], [2, 0, 1, 1], [1, 3, 0, 2]]
    g = [[1, 0, -1], [2, 1, 0], [0, -1, 1]]
    check("winograd-input", "d", d)
    check("winograd-input", "g", g)
    AT, G, BT = winograd.matrices(2, 3)
    U = winograd.transform_filters(np.reshape(np.array(g, float), (1, 1, 3, 3)), G)
    V = winograd.transform_tiles(np.reshape(np.array(d, float), (1, 1, 4, 4)), BT, 2, 0, 0, 1, 1,
                                 np.empty((4, 4, 1, 1)))
    M = winograd.batched_gemm(U, V, 1, np.empty((4, 4, 1, 1)))
    Y = winograd.untransform_tiles(M, AT, 1, 1, np.zeros(1), np.empty((1, 1, 2, 2)))
    check("winograd-output", "U", U[:, :, 0, 0])
    check("winograd-output", "V", V[:, :, 0, 0])
    check("winograd-output", "M", M[:, :, 0, 0])
    check("winograd-output", "Y", Y)
    direct = F.conv2d(t64(np.reshape(d, (1, 1, 4, 4))), t64(np.reshape(g, (1, 1, 3, 3))))
    check("winograd-output", "Y", direct.data)
    check("winograd-output", "Y", winograd_conv2d(t64(np.reshape(d, (1, 1, 4, 4))), t64(np.reshape(g, (1, 1, 3, 3))), m=2).data)


# --- the autograd engine -------------------------------------------------------------------
_uses("autograd-input", "autograd-output")


def test_autograd_example_generations_paths_and_unbroadcast():
    from minicnn.function import unbroadcast

    x_v, w_v = [[1, 2], [3, 4]], [0.5, 2]
    check("autograd-input", "x", x_v)
    check("autograd-input", "w", w_v)
    x, w = t64(x_v), t64(w_v)
    xw = x * w
    y = xw + x
    loss = (y * y).sum()
    calls = []                                 # (generation, gradients in, gradients out) of each backward call
    stack, seen = [loss.creator], set()
    while stack:
        f = stack.pop()
        if id(f) in seen:
            continue
        seen.add(id(f))

        def recording(*gys, f=f, inner=f.backward):
            gxs = inner(*gys)
            calls.append((f.generation, gys, gxs))
            return gxs
        f.backward = recording
        stack.extend(t.creator for t in f.inputs if t.creator is not None)
    loss.backward(retain_graph=True)
    check("autograd-output", "xw", xw.data)
    check("autograd-output", "y", y.data)
    check("autograd-output", "L", loss.data)
    check("autograd-output", "gen", [generation for generation, _, _ in calls])
    by_generation = {generation: (gys, gxs) for generation, gys, gxs in calls}
    gy = by_generation[1][0][0]                # what Add (y = xw + x) received
    check("autograd-output", "gy", gy)
    check("autograd-output", "dx_through_mul", by_generation[0][1][0])
    check("autograd-output", "dx_through_add", by_generation[1][1][1])
    check("autograd-output", "dx", grad(x))
    check("autograd-output", "gw_broadcast", gy * x.data)
    check("autograd-output", "dw", grad(w))
    np.testing.assert_allclose(unbroadcast(gy * x.data, (2,)), grad(w))
    loss.backward()                            # the retained graph, walked again: gradients add up
    check("autograd-output", "dx_after_a_second_backward", grad(x))
