import numpy as np
import pytest

import minicnn as mc
from minicnn import nn


class Affine(nn.Module):
    def __init__(self, n_in, n_out):
        super().__init__()
        self.weight = nn.Parameter(np.ones((n_out, n_in), dtype=np.float32))
        self.register_buffer("calls", np.zeros((), dtype=np.int64))

    def forward(self, x):
        self.calls = self.calls + 1
        return x @ self.weight.T


def make():
    return nn.Sequential(Affine(3, 4), nn.Sequential(Affine(4, 2)))


def test_state_dict_keys_are_dotted_paths_like_pytorch():
    assert list(make().state_dict()) == ["0.weight", "1.0.weight", "0.calls", "1.0.calls"]


def test_parameters_children_modules_and_train_eval():
    model = make()
    assert len(list(model.parameters())) == 2
    assert len(list(model.children())) == 2
    assert len(list(model.modules())) == 4
    model.eval()
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_buffers_reassigned_in_forward_stay_buffers():
    model = make()
    model(mc.Tensor(np.ones((1, 3), dtype=np.float32)))
    assert int(model.state_dict()["0.calls"]) == 1


def test_load_state_dict_round_trips_and_copies():
    a, b = make(), make()
    a[0].weight.data[:] = 7
    b.load_state_dict(a.state_dict())
    assert (b[0].weight.data == 7).all()
    a[0].weight.data[:] = 1
    assert (b[0].weight.data == 7).all()


def test_load_state_dict_reports_every_problem_in_one_message():
    state = make().state_dict()
    state.pop("0.weight")
    state["extra.bias"] = np.zeros(2)
    state["1.0.weight"] = np.zeros((5, 5))
    with pytest.raises(ValueError) as err:
        make().load_state_dict(state)
    msg = str(err.value)
    for part in ["missing keys: 0.weight", "unexpected keys: extra.bias",
                 "1.0.weight: expected shape (2, 4), got (5, 5)"]:
        assert part in msg


def test_load_state_dict_non_strict_returns_missing_and_unexpected():
    state = make().state_dict()
    state.pop("0.weight")
    result = make().load_state_dict(state, strict=False)
    assert result.missing_keys == ["0.weight"] and result.unexpected_keys == []


def test_zero_grad_and_forward_hooks():
    model = make()
    seen = []
    handle = model[0].register_forward_hook(lambda m, inp, out: seen.append(out.shape))
    out = model(mc.Tensor(np.ones((2, 3), dtype=np.float32)))
    out.sum().backward()
    assert seen == [(2, 4)]
    assert model[0].weight.grad is not None
    model.zero_grad()
    assert model[0].weight.grad is None
    handle.remove()
    model(mc.Tensor(np.ones((2, 3), dtype=np.float32)))
    assert seen == [(2, 4)]


def test_repr_lists_submodules():
    text = repr(make())
    assert "(0): Affine()" in text and "(1): Sequential(" in text


def test_load_state_dict_of_a_list_is_a_type_error_naming_the_argument_expected_and_given():
    with pytest.raises(TypeError, match=r"load_state_dict into Linear: expected state_dict to be a mapping "
                                        r"of name -> array .*got list"):
        nn.Linear(2, 3).load_state_dict([np.zeros((3, 2)), np.zeros(3)])
