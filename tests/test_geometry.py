"""Window geometry: pairs, output sizes, window enumeration, checks; one module for all ops."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from minicnn import geometry


@pytest.mark.parametrize("value, expected", [(3, (3, 3)), ((2, 5), (2, 5)), ([1, 4], (1, 4)), (np.int64(2), (2, 2))])
def test_pair_takes_an_int_or_two(value, expected):
    assert geometry.pair(value) == expected


@pytest.mark.parametrize("value", [2.0, (1, 2, 3), True, "3", (1, 2.5)])
def test_pair_refuses_anything_else_naming_op_and_argument(value):
    with pytest.raises(TypeError, match=r"conv2d: stride must be an int or a pair of ints, got"):
        geometry.pair(value, "stride", "conv2d")


@settings(max_examples=100, deadline=None)
@given(out=st.tuples(st.integers(1, 5), st.integers(1, 5)), kernel=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       stride=st.tuples(st.integers(1, 3), st.integers(1, 3)), dilation=st.tuples(st.integers(1, 3), st.integers(1, 3)))
def test_window_offsets_list_every_window_pixel_once_in_row_major_order(out, kernel, stride, dilation):
    size = [(o - 1) * s + d * (k - 1) + 1 for o, s, k, d in zip(out, stride, kernel, dilation)]
    grid = np.arange(size[0] * size[1]).reshape(size)
    offsets = list(geometry.window_offsets(kernel, stride, dilation, out))
    assert [(i, j) for i, j, _, _ in offsets] == [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]
    for i, j, rows, cols in offsets:
        seen = grid[rows, cols]
        assert seen.shape == out
        for oh in range(out[0]):
            for ow in range(out[1]):        # window (oh, ow) sees, at offset (i, j), pixel (oh*s + i*d, ow*s + j*d)
                assert seen[oh, ow] == grid[oh * stride[0] + i * dilation[0], ow * stride[1] + j * dilation[1]]


def test_a_window_larger_than_the_padded_input_has_no_output():
    assert geometry.conv_output_size(3, 5, 1, 0) == 0
    assert geometry.output_hw((3, 8), (5, 3), (1, 1), (1, 0)) == (1, 6)


def test_pool_output_hw_checks_then_counts():
    assert geometry.pool_output_hw("max_pool2d", (1, 1, 5, 5), (3, 3), (2, 2), (1, 1), ceil_mode=True) == (3, 3)
    with pytest.raises(ValueError, match=r"max_pool2d: expected a 4-D input \(N, C, H, W\), got shape \(5, 5\)"):
        geometry.pool_output_hw("max_pool2d", (5, 5), (3, 3), (2, 2), (1, 1))
    with pytest.raises(ValueError, match=r"padding must be at most half the kernel size"):
        geometry.pool_output_hw("max_pool2d", (1, 1, 5, 5), (2, 2), (2, 2), (2, 2))


@pytest.mark.parametrize("value, error, message", [
    (28, TypeError, r"summary: expected input_shape as a tuple of ints such as \(1, 28, 28\), got int 28"),
    ((1, 28.0), TypeError, r"got tuple \(1, 28.0\)"),
    ((1, 0, 28), ValueError, r"summary: expected input_shape of positive sizes such as \(1, 28, 28\), got \(1, 0, 28\)"),
    ((), ValueError, r"got \(\)"),
])
def test_shape_tuple_names_the_argument_an_example_and_what_came(value, error, message):
    with pytest.raises(error, match=message):
        geometry.shape_tuple(value, "input_shape", "summary")
