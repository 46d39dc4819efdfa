"""The trainer's non-finite guard takes the optimizer's own finite flags (computed in the
update's pass) and reads again only what no update touched: the guarantees stay the same."""
import numpy as np
import pytest

import minicnn as mc
from minicnn import nn, optim
from minicnn import nonfinite
from minicnn.kernels import optim as update_kernels
from minicnn.nonfinite import Guard


def _model():
    mc.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.BatchNorm1d(4), nn.Linear(4, 3), nn.Linear(3, 2))


def _step(model, opt, guard, scale=1.0):
    """One watched training step; returns guard.check's answer."""
    x = np.random.default_rng(0).standard_normal((5, 1, 2, 2)).astype(np.float32)
    guard.before_step(x)
    opt.zero_grad()
    loss = (model(mc.Tensor(x)) * scale).sum()
    loss.backward()
    opt.step()
    return guard.check(float(loss.data))


@pytest.mark.parametrize("make_opt", [lambda ps: optim.SGD(ps, lr=0.1),
                                      lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
                                      lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9, rule="paper"),
                                      lambda ps: optim.Adam(ps, lr=0.1, weight_decay=1e-2)])
def test_every_updated_parameter_gets_a_flag_from_its_update(make_opt):
    model = _model()
    opt = make_opt(model.parameters())
    frozen = model[3].bias
    guard = Guard(model, opt)
    with guard.watching():
        assert _step(model, opt, guard)
    updated = {id(p) for p in model.parameters()}
    assert set(opt.step_finite) == updated and all(opt.step_finite.values())
    frozen.grad = None
    with guard.watching():
        guard.before_step(np.zeros(1, np.float32))
        assert opt.step_finite is None          # an earlier step's flags are dropped
        opt.step()
        assert id(frozen) not in opt.step_finite   # no gradient: not updated, no flag


def test_the_guard_reads_only_what_no_update_kernel_flagged(monkeypatch):
    model = _model()
    opt = optim.Adam(model.parameters(), lr=0.1)
    guard = Guard(model, opt)
    read = []
    real = update_kernels.all_finite
    monkeypatch.setattr(update_kernels, "all_finite", lambda a: read.append(a.size) or real(a))
    _step(model, opt, guard)      # no hooks installed: only the check reads arrays
    buffers = [b for m in model.modules() for b in m._buffers.values() if hasattr(b, "dtype") and b.dtype.kind == "f"]
    assert sorted(read) == sorted(b.size for b in buffers)   # BatchNorm's running stats, not weights or state


def test_a_parameter_without_a_gradient_is_still_checked():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    guard = Guard(model, opt)
    model[3].bias.data[0] = np.nan          # broken, and the step gives it no gradient below
    x = np.ones((2, 1, 2, 2), np.float32)
    guard.before_step(x)
    opt.zero_grad()
    model(mc.Tensor(x)).sum().backward()
    model[3].bias.grad = None
    opt.step()
    assert all(opt.step_finite.values()) and id(model[3].bias) not in opt.step_finite
    assert not guard.check(1.0)


def test_a_non_finite_buffer_is_caught():
    model = _model()
    opt = optim.SGD(model.parameters(), lr=0.1)
    guard = Guard(model, opt)
    _step(model, opt, guard)
    guard.before_step(np.zeros(1, np.float32))
    model[1].running_var[0] = np.inf
    assert not guard.check(1.0)


@pytest.mark.parametrize("make_opt, blame", [
    (lambda ps: optim.SGD(ps, lr=1e37), "became non-finite in the optimizer step"),
    (lambda ps: optim.SGD(ps, lr=1e37, momentum=0.9, rule="paper"), "became non-finite in the optimizer step"),
    (lambda ps: optim.Adam(ps, lr=0.1, weight_decay=1e30), "the optimizer state became non-finite")])
def test_an_update_that_overflows_is_caught_and_named(make_opt, blame):
    mc.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(4, 3))
    opt = make_opt(model.parameters())
    guard = Guard(model, opt)
    with guard.watching():
        finite = _step(model, opt, guard, scale=100.0)
    assert not finite and not all(opt.step_finite.values())
    assert blame in guard.diagnose(1.0)


def test_an_optimizer_without_flags_gets_the_full_check():
    class Plain(optim.Optimizer):
        def step(self):
            for p in self.param_groups[0]["params"]:
                p.data -= self.param_groups[0]["lr"] * p.grad.data
    model = _model()
    opt = Plain(model.parameters(), dict(lr=1e38))
    guard = Guard(model, opt)
    assert opt.step_finite is None
    x = np.ones((2, 1, 2, 2), np.float32)
    guard.before_step(x)
    model(mc.Tensor(x)).sum().backward()
    model[2].weight.data[0, 0] = np.nan
    assert not guard.check(1.0)


def test_a_container_reuses_its_last_childs_flag_and_the_first_bad_layer_is_still_named(monkeypatch):
    mc.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Sequential(nn.Linear(4, 3), nn.Linear(3, 3)), nn.Linear(3, 2))
    opt = optim.SGD(model.parameters(), lr=0.1)
    guard = Guard(model, opt)
    model[1][1].weight.data[...] = np.nan
    read = []
    real = update_kernels.all_finite
    monkeypatch.setattr(update_kernels, "all_finite", lambda a: read.append(a.shape) or real(a))
    with guard.watching():
        guard.before_step(None)
        model(mc.Tensor(np.ones((2, 1, 2, 2), np.float32)))
    assert [name for name, _, _ in guard.outputs] == ["0", "1.0", "1.1", "1", "2"]
    assert len(read) == 4                     # "1" passes on the array of "1.1": not read again
    assert [bool(flag) for _, _, flag in guard.outputs] == [True, True, False, False, False]
    assert guard.first_nonfinite_output() == "1.1 (Linear)"
