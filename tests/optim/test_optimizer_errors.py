"""Optimizers and schedulers refuse bad input with a typed error naming the argument, what was
expected and what came: a Module instead of its parameters, a param group without "params",
non-finite or negative hyper-parameters, a malformed state_dict, a gradient of the wrong shape."""
import re

import numpy as np
import pytest

import minicnn as mc
from minicnn import nn
from minicnn.nn.module import Parameter
from minicnn.optim import SGD, Adam, lr_scheduler

NAN, INF = float("nan"), float("inf")


def one_param():
    return [Parameter(np.ones(2))]


# --- what params may be ----------------------------------------------------------------------

@pytest.mark.parametrize("cls", [SGD, Adam])
def test_a_module_instead_of_its_parameters_hints_at_parameters(cls):
    with pytest.raises(TypeError, match=rf"^{cls.__name__}: .*got a Linear module; pass model.parameters\(\)"):
        cls(nn.Linear(2, 2), lr=0.1)


def test_a_single_group_dict_asks_for_a_list_of_groups():
    with pytest.raises(TypeError, match=r"got a single dict; pass a list of param groups"):
        SGD({"params": one_param()}, lr=0.1)


@pytest.mark.parametrize("params", [None, 3])
def test_params_that_are_not_iterable_name_the_type(params):
    with pytest.raises(TypeError, match=rf"iterable of Parameters or of dicts, got {type(params).__name__}"):
        SGD(params, lr=0.1)


def test_a_param_group_without_params_names_the_keys_it_had():
    with pytest.raises(ValueError, match=r"must have a 'params' entry .* got a dict with keys \['lr'\]"):
        SGD([{"lr": 0.1}], lr=0.1)
    opt = SGD(one_param(), lr=0.1)
    with pytest.raises(ValueError, match=r"must have a 'params' entry"):
        opt.add_param_group({"momentum": 0.9})
    assert len(opt.param_groups) == 1


def test_a_param_group_whose_params_are_not_iterable_names_the_type():
    with pytest.raises(TypeError, match=r"a param group's 'params' should be an iterable of Parameters, got NoneType"):
        SGD([{"params": None}], lr=0.1)


# --- hyper-parameters at construction -------------------------------------------------------------

BAD_SGD = [("momentum", v) for v in (NAN, INF, -0.1)] + [("dampening", v) for v in (NAN, INF, -0.5)] \
    + [("weight_decay", v) for v in (NAN, INF, -1e-4)] + [("lr", v) for v in (NAN, INF, -0.1, 0.0)]


@pytest.mark.parametrize("name, value", BAD_SGD, ids=str)
def test_sgd_refuses_non_finite_or_negative_hyperparameters(name, value):
    kwargs = {"lr": 0.1, name: value}
    with pytest.raises(ValueError, match=rf"^SGD: invalid .*{name}={re.escape(repr(value))}; expected"):
        SGD(one_param(), **kwargs)


BAD_ADAM = [("eps", v) for v in (NAN, INF, -1e-8)] + [("weight_decay", v) for v in (NAN, INF, -0.1)] \
    + [("lr", v) for v in (NAN, INF, -1e-3)]


@pytest.mark.parametrize("name, value", BAD_ADAM, ids=str)
def test_adam_refuses_non_finite_or_negative_hyperparameters(name, value):
    with pytest.raises(ValueError, match=rf"^Adam: invalid .*{name}={re.escape(repr(value))}; expected"):
        Adam(one_param(), **{name: value})


@pytest.mark.parametrize("betas, error, message", [
    (None, TypeError, r"invalid betas=None; expected a pair \(beta1, beta2\) of numbers in \[0, 1\), got NoneType"),
    (0.9, TypeError, r"invalid betas=0.9; expected a pair"),
    ((0.9,), TypeError, r"invalid betas=\(0.9,\); expected a pair"),
    ((0.9, 0.99, 0.999), TypeError, r"expected a pair"),
    ("ab", TypeError, r"invalid betas='ab'; expected a pair"),
    ((0.9, None), TypeError, r"betas\[1\]=None; expected a number in \[0, 1\), got NoneType"),
    ((NAN, 0.999), ValueError, r"betas=\(nan, 0.999\): betas\[0\]=nan; expected a number in \[0, 1\)"),
    ((0.9, 1.0), ValueError, r"betas\[1\]=1.0; expected a number in \[0, 1\)"),
    ((-0.1, 0.9), ValueError, r"betas\[0\]=-0.1"),
], ids=str)
def test_adam_refuses_malformed_betas(betas, error, message):
    with pytest.raises(error, match=message):
        Adam(one_param(), betas=betas)


@pytest.mark.parametrize("make", [lambda: SGD(one_param(), lr="0.1"),
                                  lambda: SGD(one_param(), lr=0.1, momentum=None),
                                  lambda: SGD(one_param(), lr=True),
                                  lambda: Adam(one_param(), eps="1e-8")])
def test_a_hyperparameter_that_is_not_a_number_is_a_type_error_naming_its_type(make):
    with pytest.raises(TypeError, match=r"invalid .*; expected .*, got (str|NoneType|bool)$"):
        make()


def test_a_param_group_override_is_checked_too():
    with pytest.raises(ValueError, match=r"SGD: invalid momentum=nan"):
        SGD([{"params": one_param(), "momentum": NAN}], lr=0.1)


def test_valid_edge_values_are_accepted():
    SGD(one_param(), lr=1e-12, momentum=0.0, dampening=0.0, weight_decay=0.0)
    Adam(one_param(), betas=[0.0, 0.0], eps=0.0)
    Adam(one_param(), betas=(np.float32(0.9), np.float64(0.999)))


# --- schedulers ------------------------------------------------------------------------------------

def sgd():
    return SGD(one_param(), lr=0.1)


@pytest.mark.parametrize("make, error, message", [
    (lambda: lr_scheduler.StepLR(sgd(), 2, gamma=NAN), ValueError, r"^StepLR: invalid gamma=nan; expected a finite number > 0"),
    (lambda: lr_scheduler.StepLR(sgd(), 2, gamma=INF), ValueError, r"invalid gamma=inf"),
    (lambda: lr_scheduler.StepLR(sgd(), 2, gamma=0.0), ValueError, r"invalid gamma=0.0"),
    (lambda: lr_scheduler.StepLR(sgd(), 2, gamma="0.1"), TypeError, r"invalid gamma='0.1'; .*got str"),
    (lambda: lr_scheduler.MultiStepLR(sgd(), [2], gamma=NAN), ValueError, r"^MultiStepLR: invalid gamma=nan"),
    (lambda: lr_scheduler.StepLR(sgd(), 0), ValueError, r"^StepLR: invalid step_size=0; expected an integer >= 1"),
    (lambda: lr_scheduler.StepLR(sgd(), 2.5), TypeError, r"invalid step_size=2.5; expected an integer >= 1, got float"),
    (lambda: lr_scheduler.StepLR(sgd(), NAN), TypeError, r"invalid step_size=nan"),
    (lambda: lr_scheduler.StepLR(sgd(), True), TypeError, r"invalid step_size=True"),
    (lambda: lr_scheduler.ReduceLROnPlateau(sgd(), factor=NAN), ValueError,
     r"^ReduceLROnPlateau: invalid factor=nan; expected a number in \(0, 1\)"),
    (lambda: lr_scheduler.ReduceLROnPlateau(sgd(), factor=1.0), ValueError, r"invalid factor=1.0"),
    (lambda: lr_scheduler.ReduceLROnPlateau(sgd(), factor=INF), ValueError, r"invalid factor=inf"),
    (lambda: lr_scheduler.ReduceLROnPlateau(sgd(), patience=INF), TypeError,
     r"invalid patience=inf; expected an integer >= 0, got float"),
    (lambda: lr_scheduler.ReduceLROnPlateau(sgd(), patience=-1), ValueError, r"invalid patience=-1"),
    (lambda: lr_scheduler.ReduceLROnPlateau(sgd(), threshold=NAN), ValueError, r"invalid threshold=nan"),
    (lambda: lr_scheduler.ReduceLROnPlateau(sgd(), min_lr=NAN), ValueError, r"invalid min_lr=nan"),
    (lambda: lr_scheduler.ReduceLROnPlateau(sgd(), eps=-1.0), ValueError, r"invalid eps=-1.0"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_schedulers_refuse_invalid_hyperparameters(make, error, message):
    with pytest.raises(error, match=message):
        make()


# --- load_state_dict ------------------------------------------------------------------------------

def trained(make):
    w, b = Parameter(np.ones((2, 3))), Parameter(np.zeros(3))
    opt = make([w, b])
    w.grad, b.grad = mc.Tensor(np.full((2, 3), 0.5)), mc.Tensor(np.ones(3))
    opt.step()
    return opt


def fresh_sgd():
    return SGD([Parameter(np.ones((2, 3))), Parameter(np.zeros(3))], lr=0.1, momentum=0.9)


def test_load_state_dict_of_a_non_dict_is_a_type_error():
    with pytest.raises(TypeError, match=r"SGD.load_state_dict: expected a dict with 'state' and 'param_groups' "
                                        r"\(from state_dict\(\)\), got list"):
        fresh_sgd().load_state_dict([1, 2])


@pytest.mark.parametrize("drop", ["state", "param_groups"])
def test_load_state_dict_names_a_missing_key(drop):
    saved = trained(lambda ps: SGD(ps, lr=0.1, momentum=0.9)).state_dict()
    del saved[drop]
    with pytest.raises(ValueError, match=rf"missing \['{drop}'\]"):
        fresh_sgd().load_state_dict(saved)


@pytest.mark.parametrize("corrupt, error, message", [
    (lambda sd: sd.update(param_groups="x"), TypeError, r"'param_groups' should be a list of dicts, got str"),
    (lambda sd: sd.update(state=[1]), TypeError, r"'state' should be a dict \{parameter index: buffers\}, got list"),
    (lambda sd: sd["param_groups"][0].pop("params"), ValueError, r"saved param group 0 should be a dict with 'params'"),
    (lambda sd: sd["param_groups"].append(dict(sd["param_groups"][0])), ValueError, r"expected 1 param groups, got 2"),
    (lambda sd: sd["param_groups"][0].update(params=[0]), ValueError,
     r"param group 0 has 2 parameters here, the saved one has 1"),
    (lambda sd: sd["state"][0].update(momentum_buffer=np.ones(3)), ValueError,
     r"state 'momentum_buffer' of parameter 0: expected shape \(2, 3\), got \(3,\)"),
    (lambda sd: sd["state"].update({5: {"momentum_buffer": np.ones(3)}}), ValueError,
     r"state for parameter index 5, but there are only 2 parameters"),
    (lambda sd: sd["state"].update({"w": {}}), ValueError, r"state keys should be parameter indices, got 'w'"),
    (lambda sd: sd["state"].update({1: np.ones(3)}), TypeError, r"state of parameter 1 should be a dict of buffers, got ndarray"),
    (lambda sd: sd["param_groups"][0].update(momentum=NAN), ValueError, r"SGD: invalid momentum=nan"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_load_state_dict_refuses_a_malformed_state_and_leaves_the_optimizer_as_it_was(corrupt, error, message):
    saved = trained(lambda ps: SGD(ps, lr=0.1, momentum=0.9)).state_dict()
    corrupt(saved)
    target = trained(lambda ps: SGD(ps, lr=0.05, momentum=0.5))
    before = target.state_dict()
    with pytest.raises(error, match=message):
        target.load_state_dict(saved)
    after = target.state_dict()
    assert after["param_groups"] == before["param_groups"]
    for i in before["state"]:
        np.testing.assert_array_equal(after["state"][i]["momentum_buffer"], before["state"][i]["momentum_buffer"])


def test_another_optimizers_state_is_refused():
    adam_state = trained(lambda ps: Adam(ps, lr=0.01)).state_dict()
    with pytest.raises(ValueError, match=r"state of parameter 0 has \['exp_avg', 'exp_avg_sq', 'step'\]; expected only "
                                         r"\['momentum_buffer', 'velocity'\] \(is it another optimizer's state_dict\?\)"):
        fresh_sgd().load_state_dict(adam_state)


# --- step -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("make", [lambda ps: SGD(ps, lr=0.1), lambda ps: SGD(ps, lr=0.1, momentum=0.9),
                                  lambda ps: SGD(ps, lr=0.1, momentum=0.9, rule="paper"), lambda ps: Adam(ps)])
@pytest.mark.parametrize("grad_shape", [(3,), (1, 3), (2, 1), (2, 3, 1), ()])
def test_step_refuses_a_grad_whose_shape_differs_from_its_parameter(make, grad_shape):
    a, w = Parameter(np.ones(4)), Parameter(np.ones((2, 3)))
    opt = make([a, w])
    w.grad = mc.Tensor(np.ones(grad_shape))  # NumPy would broadcast each of these into w
    with pytest.raises(ValueError, match=rf"\.step: parameter 1 has shape \(2, 3\) but its \.grad has shape "
                                         rf"{re.escape(str(grad_shape))}; expected the same shape"):
        opt.step()
    np.testing.assert_array_equal(w.data, np.ones((2, 3)))


def test_a_refused_step_updates_no_parameter_at_all():
    a, w = Parameter(np.ones(4)), Parameter(np.ones((2, 3)))
    opt = SGD([a, w], lr=0.1, momentum=0.9)
    a.grad, w.grad = mc.Tensor(np.ones(4)), mc.Tensor(np.ones(3))
    with pytest.raises(ValueError, match=r"parameter 1 has shape \(2, 3\)"):
        opt.step()
    np.testing.assert_array_equal(a.data, np.ones(4))
    assert opt.state == {}
