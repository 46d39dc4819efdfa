"""StepLR, MultiStepLR, CosineAnnealingLR, ReduceLROnPlateau: PyTorch's lr sequences and
state_dict round trips."""
import json

import numpy as np
import pytest

from minicnn.nn.module import Parameter
from minicnn.optim import SGD, lr_scheduler
from tests.helpers import try_import_torch

# a validation-loss curve with plateaus, improvements within the threshold, and noise
METRICS = [1.0, 0.9, 0.9, 0.91, 0.9, 0.95, 0.89999, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.7, 0.71, 0.7, 0.7, 0.7,
           0.69, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]


def make_sgd(lr=0.1):
    return SGD([Parameter(np.ones(2))], lr=lr, momentum=0.9)


def torch_sgd(torch, lr=0.1):
    return torch.optim.SGD([torch.nn.Parameter(torch.ones(2))], lr=lr, momentum=0.9)


def lr_sequence(opt, sched, epochs, metrics=None):
    seq = []
    for epoch in range(epochs):
        seq.append(opt.param_groups[0]["lr"])
        opt.step()  # no grads: a no-op, kept for the PyTorch call order
        sched.step(metrics[epoch]) if metrics is not None else sched.step()
    return seq


EPOCH_SCHEDULES = [
    ("StepLR", dict(step_size=3, gamma=0.5)),
    ("StepLR", dict(step_size=1)),
    ("MultiStepLR", dict(milestones=[2, 5, 5, 9], gamma=0.1)),
    ("CosineAnnealingLR", dict(T_max=7)),
    ("CosineAnnealingLR", dict(T_max=5, eta_min=0.01)),     # 12 steps: past T_max the cosine rises
]


@pytest.mark.parametrize("name, kwargs", EPOCH_SCHEDULES, ids=str)
def test_epoch_schedules_match_pytorch(name, kwargs):
    torch = try_import_torch() or pytest.skip("torch not installed")
    opt = make_sgd()
    mine = lr_sequence(opt, getattr(lr_scheduler, name)(opt, **kwargs), 12)
    topt = torch_sgd(torch)
    ref = lr_sequence(topt, getattr(torch.optim.lr_scheduler, name)(topt, **kwargs), 12)
    np.testing.assert_allclose(mine, ref, rtol=1e-15)


PLATEAU_CASES = [
    dict(),
    dict(patience=2),
    dict(patience=1, cooldown=2, factor=0.5),
    dict(patience=1, threshold=0.05, threshold_mode="abs", min_lr=0.002),
    dict(mode="max", patience=1),
    dict(mode="max", patience=0, threshold_mode="abs", threshold=0.0),
]


@pytest.mark.parametrize("kwargs", PLATEAU_CASES, ids=str)
def test_reduce_lr_on_plateau_matches_pytorch(kwargs):
    torch = try_import_torch() or pytest.skip("torch not installed")
    opt = make_sgd()
    sched = lr_scheduler.ReduceLROnPlateau(opt, **kwargs)
    mine = lr_sequence(opt, sched, len(METRICS), METRICS)
    topt = torch_sgd(torch)
    tsched = torch.optim.lr_scheduler.ReduceLROnPlateau(topt, **kwargs)
    ref = lr_sequence(topt, tsched, len(METRICS), METRICS)
    np.testing.assert_allclose(mine, ref, rtol=1e-15)
    assert sched.get_last_lr() == pytest.approx(tsched.get_last_lr())
    assert len(set(mine)) > 1 or kwargs == {}  # the curve does trigger reductions


def test_step_lr_hand_sequence():
    opt = make_sgd(1.0)
    sched = lr_scheduler.StepLR(opt, step_size=2, gamma=0.1)
    np.testing.assert_allclose(lr_sequence(opt, sched, 6), [1, 1, 0.1, 0.1, 0.01, 0.01])
    assert sched.get_last_lr() == pytest.approx([0.001])


def test_cosine_hand_sequence_halves_at_the_middle_and_ends_at_eta_min():
    opt = make_sgd(1.0)
    sched = lr_scheduler.CosineAnnealingLR(opt, T_max=4, eta_min=0.2)
    # 0.2 + 0.8 * (1 + cos(pi t / 4)) / 2 for t = 0..4
    np.testing.assert_allclose(lr_sequence(opt, sched, 4), [1.0, 0.2 + 0.4 * (1 + 0.5 ** 0.5), 0.6,
                                                            0.2 + 0.4 * (1 - 0.5 ** 0.5)], rtol=1e-15)
    assert sched.get_last_lr() == pytest.approx([0.2], rel=1e-15)


def test_plateau_divides_by_ten_after_patience_bad_epochs():
    opt = make_sgd(0.01)
    sched = lr_scheduler.ReduceLROnPlateau(opt, patience=2)
    for metric in [0.5, 0.6, 0.6]:
        sched.step(metric)
    assert opt.param_groups[0]["lr"] == pytest.approx(0.01)
    sched.step(0.6)  # third bad epoch > patience
    assert opt.param_groups[0]["lr"] == pytest.approx(0.001)


@pytest.mark.parametrize("make, metrics", [
    (lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=0.5), None),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[1, 3, 4]), None),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=8, eta_min=0.001), None),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=1, cooldown=1), METRICS),
])
def test_scheduler_state_dict_round_trip_continues_identically(make, metrics):
    opt = make_sgd()
    sched = make(opt)
    full = lr_sequence(opt, sched, 10, metrics)

    opt = make_sgd()
    sched = make(opt)
    first = lr_sequence(opt, sched, 5, metrics)
    saved_sched = json.loads(json.dumps(sched.state_dict()))  # plain numbers and lists only
    saved_opt = opt.state_dict()

    opt2 = make_sgd()
    sched2 = make(opt2)
    opt2.load_state_dict(saved_opt)
    sched2.load_state_dict(saved_sched)
    rest = lr_sequence(opt2, sched2, 5, metrics[5:] if metrics else None)
    assert first + rest == pytest.approx(full)


@pytest.mark.parametrize("make, message", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), "step_size=0"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2, gamma=-1), "gamma=-1"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[2, -1]), "milestones"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), "T_max=0"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=3, eta_min=-1e-3), "eta_min"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=1.0), "factor=1.0"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, mode="best"), "mode='best'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, threshold_mode="pct"), "threshold_mode='pct'"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, min_lr=[0, 0]), "expected 1 min_lr values, got 2"),
])
def test_invalid_scheduler_arguments_raise(make, message):
    with pytest.raises(ValueError, match=message):
        make(make_sgd())
