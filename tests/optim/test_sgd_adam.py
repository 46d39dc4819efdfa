"""SGD and Adam: PyTorch trajectories, the paper rule, state_dict round trips, errors."""
import numpy as np
import pytest

import minicnn as mc
from minicnn.nn.module import Parameter
from minicnn.optim import SGD, Adam, Optimizer
from tests.helpers import try_import_torch


def quadratic_loss(w, b, x):
    """A small non-trivial loss: mean((x @ w + b)^2 * 0.5) + sum(w^3)/3 so grads change each step."""
    y = x @ w + b
    return (y * y).mean() * 0.5 + (w * w * w).sum() * (1.0 / 3.0)


def run_minicnn(make_opt, w0, b0, x, steps, dtype=np.float64, lr_changes=None):
    w = Parameter(w0.astype(dtype).copy())
    b = Parameter(b0.astype(dtype).copy())
    opt = make_opt([w, b])
    traj = []
    for t in range(steps):
        if lr_changes and t in lr_changes:
            for g in opt.param_groups:
                g["lr"] = lr_changes[t]
        opt.zero_grad()
        quadratic_loss(w, b, mc.Tensor(x.astype(dtype))).backward()
        opt.step()
        traj.append((w.data.copy(), b.data.copy()))
    return traj, opt


def run_torch(torch, make_opt, w0, b0, x, steps):
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(b0, dtype=torch.float64, requires_grad=True)
    opt = make_opt([w, b])
    xt = torch.tensor(x, dtype=torch.float64)
    traj = []
    for _ in range(steps):
        opt.zero_grad()
        y = xt @ w + b
        ((y * y).mean() * 0.5 + (w * w * w).sum() / 3.0).backward()
        opt.step()
        traj.append((w.detach().numpy().copy(), b.detach().numpy().copy()))
    return traj


@pytest.fixture
def problem(rng):
    return rng.normal(size=(4, 3)), rng.normal(size=(3,)), rng.normal(size=(5, 4))


SGD_CASES = [
    dict(lr=0.1),
    dict(lr=0.05, momentum=0.9),
    dict(lr=0.05, momentum=0.9, dampening=0.3),
    dict(lr=0.05, momentum=0.9, nesterov=True),
    dict(lr=0.05, momentum=0.9, weight_decay=0.01),
    dict(lr=0.05, weight_decay=0.1),
]
ADAM_CASES = [dict(lr=0.01), dict(lr=0.01, weight_decay=0.05), dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6)]


@pytest.mark.parametrize("kwargs", SGD_CASES, ids=str)
def test_sgd_trajectory_matches_pytorch(problem, kwargs):
    torch = try_import_torch() or pytest.skip("torch not installed")
    mine, _ = run_minicnn(lambda ps: SGD(ps, **kwargs), *problem, steps=6)
    ref = run_torch(torch, lambda ps: torch.optim.SGD(ps, **kwargs), *problem, steps=6)
    for (w, b), (tw, tb) in zip(mine, ref):
        np.testing.assert_allclose(w, tw, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(b, tb, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kwargs", ADAM_CASES, ids=str)
def test_adam_trajectory_matches_pytorch(problem, kwargs):
    torch = try_import_torch() or pytest.skip("torch not installed")
    mine, _ = run_minicnn(lambda ps: Adam(ps, **kwargs), *problem, steps=8)
    ref = run_torch(torch, lambda ps: torch.optim.Adam(ps, **kwargs), *problem, steps=8)
    for (w, b), (tw, tb) in zip(mine, ref):
        np.testing.assert_allclose(w, tw, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b, tb, rtol=1e-10, atol=1e-12)


def test_sgd_matches_hand_computed_momentum_steps():
    w = Parameter(np.array([1.0, -2.0]))
    opt = SGD([w], lr=0.1, momentum=0.5)
    w.grad = mc.Tensor(np.array([1.0, 1.0]))
    opt.step()  # buf = g = 1 -> w = w - 0.1
    np.testing.assert_allclose(w.data, [0.9, -2.1])
    opt.step()  # buf = 0.5 + 1 = 1.5 -> w -= 0.15
    np.testing.assert_allclose(w.data, [0.75, -2.25])


@pytest.mark.parametrize("make_opt", [lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=1e-3, nesterov=True),
                                      lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=5e-4, rule="paper"),
                                      lambda ps: Adam(ps, lr=1e-3, weight_decay=1e-2)])
def test_float32_parameters_and_state_stay_float32(problem, make_opt):
    traj, opt = run_minicnn(make_opt, *problem, steps=3, dtype=np.float32)
    assert all(w.dtype == np.float32 and b.dtype == np.float32 for w, b in traj)
    for entries in opt.state_dict()["state"].values():
        for v in entries.values():
            assert not hasattr(v, "dtype") or v.dtype == np.float32


def test_paper_rule_equals_pytorch_rule_at_constant_lr(problem):
    kw = dict(lr=0.05, momentum=0.9, weight_decay=5e-4)
    pytorch, opt_pt = run_minicnn(lambda ps: SGD(ps, **kw), *problem, steps=8)
    paper, opt_paper = run_minicnn(lambda ps: SGD(ps, rule="paper", **kw), *problem, steps=8)
    for (w1, b1), (w2, b2) in zip(pytorch, paper):
        np.testing.assert_allclose(w1, w2, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(b1, b2, rtol=1e-12, atol=1e-14)
    # the correspondence: paper velocity = -lr * PyTorch momentum buffer
    buf = opt_pt.state_dict()["state"][0]["momentum_buffer"]
    velocity = opt_paper.state_dict()["state"][0]["velocity"]
    np.testing.assert_allclose(velocity, -kw["lr"] * buf, rtol=1e-12)


def test_paper_rule_differs_from_pytorch_rule_after_lr_drop(problem):
    kw = dict(lr=0.05, momentum=0.9, weight_decay=5e-4)
    drop = {4: 0.005}
    pytorch, _ = run_minicnn(lambda ps: SGD(ps, **kw), *problem, steps=6, lr_changes=drop)
    paper, _ = run_minicnn(lambda ps: SGD(ps, rule="paper", **kw), *problem, steps=6, lr_changes=drop)
    np.testing.assert_allclose(pytorch[3][0], paper[3][0], rtol=1e-12)
    # after the drop the paper's velocity still carries lr=0.05-sized steps: it moves further
    step_pt = np.abs(pytorch[4][0] - pytorch[3][0]).sum()
    step_paper = np.abs(paper[4][0] - paper[3][0]).sum()
    assert step_paper > 3 * step_pt


@pytest.mark.parametrize("make_opt", [lambda ps: SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=1e-3),
                                      lambda ps: SGD(ps, lr=0.05, momentum=0.9, rule="paper"),
                                      lambda ps: Adam(ps, lr=0.01, weight_decay=1e-3)])
def test_state_dict_round_trip_continues_identically(problem, make_opt):
    w0, b0, x = problem
    full, _ = run_minicnn(make_opt, w0, b0, x, steps=7)
    first, opt = run_minicnn(make_opt, w0, b0, x, steps=4)
    saved = opt.state_dict()
    # simulate a checkpoint: copies, string keys, 0-d arrays for scalars (as after .npz)
    saved = {"state": {str(i): {k: np.array(v) for k, v in s.items()} for i, s in saved["state"].items()},
             "param_groups": [dict(g) for g in saved["param_groups"]]}
    w = Parameter(first[-1][0].copy())
    b = Parameter(first[-1][1].copy())
    fresh = make_opt([w, b])
    for g in fresh.param_groups:
        g["lr"] = 123.0  # overwritten by load_state_dict
    fresh.load_state_dict(saved)
    for _ in range(3):
        fresh.zero_grad()
        quadratic_loss(w, b, mc.Tensor(x)).backward()
        fresh.step()
    np.testing.assert_array_equal(w.data, full[-1][0])
    np.testing.assert_array_equal(b.data, full[-1][1])


def test_state_dict_has_pytorch_structure(problem):
    _, opt = run_minicnn(lambda ps: Adam(ps, lr=0.01), *problem, steps=2)
    sd = opt.state_dict()
    assert set(sd) == {"state", "param_groups"}
    assert sorted(sd["state"]) == [0, 1]
    assert set(sd["state"][0]) == {"step", "exp_avg", "exp_avg_sq"} and sd["state"][0]["step"] == 2
    assert sd["param_groups"][0]["params"] == [0, 1] and sd["param_groups"][0]["lr"] == 0.01


def test_load_state_dict_rejects_mismatched_groups(problem):
    _, opt = run_minicnn(lambda ps: SGD(ps, lr=0.1, momentum=0.9), *problem, steps=1)
    other = SGD([Parameter(np.zeros(3))], lr=0.1, momentum=0.9)
    with pytest.raises(ValueError, match="param group 0 has 1 parameters here, the saved one has 2"):
        other.load_state_dict(opt.state_dict())


def test_params_without_grad_are_skipped():
    a, b = Parameter(np.ones(2)), Parameter(np.ones(2))
    opt = Adam([a, b], lr=0.1)
    a.grad = mc.Tensor(np.ones(2))
    opt.step()
    np.testing.assert_array_equal(b.data, np.ones(2))
    assert a.data[0] < 1 and 1 not in opt.state_dict()["state"]


def test_param_groups_have_their_own_lr():
    a, b = Parameter(np.ones(1)), Parameter(np.ones(1))
    opt = SGD([{"params": [a]}, {"params": [b], "lr": 1.0}], lr=0.1)
    a.grad = b.grad = mc.Tensor(np.ones(1))
    opt.step()
    np.testing.assert_allclose([a.data[0], b.data[0]], [0.9, 0.0])


def test_zero_grad_clears_gradients():
    a = Parameter(np.ones(2))
    a.grad = mc.Tensor(np.ones(2))
    SGD([a], lr=0.1).zero_grad()
    assert a.grad is None


@pytest.mark.parametrize("make, message", [
    (lambda: SGD([], lr=0.1), "optimizer got an empty parameter list"),
    (lambda: SGD([Parameter(np.ones(1))], lr=0.0), "lr=0.0"),
    (lambda: SGD([Parameter(np.ones(1))], lr=-1), "lr=-1"),
    (lambda: SGD([Parameter(np.ones(1))], lr=0.1, momentum=-0.5), "momentum=-0.5"),
    (lambda: SGD([Parameter(np.ones(1))], lr=0.1, weight_decay=-1e-4), "weight_decay=-0.0001"),
    (lambda: SGD([Parameter(np.ones(1))], lr=0.1, nesterov=True), "nesterov momentum requires momentum > 0"),
    (lambda: SGD([Parameter(np.ones(1))], lr=0.1, rule="caffe"), "unknown rule 'caffe'"),
    (lambda: Adam([Parameter(np.ones(1))], betas=(0.9, 1.5)), r"betas=\(0.9, 1.5\)"),
    (lambda: Adam([Parameter(np.ones(1))], eps=-1.0), "eps=-1.0"),
    (lambda: Adam(iter([])), "optimizer got an empty parameter list"),
])
def test_invalid_hyperparameters_raise_value_error_naming_the_value(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_same_parameter_twice_is_rejected():
    a = Parameter(np.ones(1))
    with pytest.raises(ValueError, match="more than one group"):
        SGD([a, a], lr=0.1)


def test_optimizer_updates_on_the_current_backend(xp):
    w = Parameter(xp.ones(3, dtype=xp.float32))
    opt = Adam([w], lr=0.1)
    w.grad = mc.Tensor(xp.ones(3, dtype=xp.float32))
    opt.step()
    assert mc.get_array_module(w.data) is xp
    assert mc.get_array_module(opt.state_dict()["state"][0]["exp_avg"]) is xp
    assert isinstance(opt, Optimizer)


def test_scalar_parameter_state_survives_a_round_trip():
    def run(opt, w, steps):
        for _ in range(steps):
            w.grad = mc.Tensor(w.data * 2.0 + 1.0)
            opt.step()
    w = Parameter(np.array(1.5))
    opt = SGD([w], lr=0.1, momentum=0.9)
    run(opt, w, 2)
    saved = {"state": {0: {k: np.array(v) for k, v in opt.state_dict()["state"][0].items()}},
             "param_groups": opt.state_dict()["param_groups"]}
    w2 = Parameter(w.data.copy())
    opt2 = SGD([w2], lr=0.1, momentum=0.9)
    opt2.load_state_dict(saved)
    assert isinstance(opt2.state_dict()["state"][0]["momentum_buffer"], np.ndarray)
    run(opt, w, 2)
    run(opt2, w2, 2)
    assert w.data == w2.data
