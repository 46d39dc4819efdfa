"""Fuzzing the file readers: IDX files and checkpoints cut short, with bytes flipped or
appended either load correctly or raise the library's clear error (ValueError / CheckpointError)
naming the file -- never struct.error, IndexError, KeyError, zipfile or UnicodeDecodeError internals."""
import gzip
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from minicnn import nn
from minicnn.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from minicnn.data.idx import parse_idx, read_idx, write_idx

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@st.composite
def corruptions(draw, size):
    kind = draw(st.sampled_from(["truncate", "flip", "append", "header"]))
    if kind == "truncate":
        return kind, draw(st.integers(0, size - 1))
    if kind == "flip":
        return kind, (draw(st.integers(0, size - 1)), draw(st.integers(1, 255)))
    if kind == "append":
        return kind, draw(st.binary(min_size=1, max_size=16))
    return kind, draw(st.binary(min_size=1, max_size=12))


def corrupt(raw, corruption):
    kind, arg = corruption
    if kind == "truncate":
        return raw[:arg]
    if kind == "flip":
        position, mask = arg
        return raw[:position] + bytes([raw[position] ^ mask]) + raw[position + 1:]
    if kind == "append":
        return raw + arg
    return arg + raw[len(arg):]   # overwrite the start: magic, type code, dims


IDX_ARRAY = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
IDX_RAW = struct.pack(">HBBIII", 0, 0x08, 3, 2, 3, 4) + IDX_ARRAY.tobytes()   # uint8, 3 dims


@FUZZ
@given(corruptions(len(IDX_RAW)))
def test_a_corrupted_idx_file_parses_or_raises_a_value_error_naming_it(corruption):
    raw = corrupt(IDX_RAW, corruption)
    try:
        array = parse_idx(raw, "train-images-idx3-ubyte")
    except ValueError as e:
        assert str(e).startswith("train-images-idx3-ubyte: "), e
        return
    # accepted: then it is a well-formed IDX file whose size matches its header
    assert array.size * array.itemsize + 4 + 4 * array.ndim == len(raw)


@FUZZ
@given(corruptions(len(gzip.compress(IDX_RAW, mtime=0))))
def test_a_corrupted_gzip_idx_file_reads_or_raises_a_value_error_naming_it(tmp_path, corruption):
    path = tmp_path / "t10k-labels-idx1-ubyte.gz"
    path.write_bytes(corrupt(gzip.compress(IDX_RAW, mtime=0), corruption))
    try:
        array = read_idx(path)
    except ValueError as e:
        assert str(path) in str(e), e
        return
    assert array.ndim >= 1


def test_the_idx_helper_matches_write_idx(tmp_path):
    write_idx(tmp_path / "x", IDX_ARRAY)
    assert (tmp_path / "x").read_bytes() == IDX_RAW


class Small(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer = nn.Linear(3, 2)
        self.register_buffer("steps", np.array(7, dtype=np.int64))


@pytest.fixture(scope="module")
def checkpoint_bytes(tmp_path_factory):
    path = tmp_path_factory.mktemp("ck") / "last.npz"
    save_checkpoint(path, Small(), epoch=3, history={"loss": [1.5, 0.5]})
    return path.read_bytes()


@FUZZ
@given(data=st.data())
def test_a_corrupted_checkpoint_loads_whole_or_raises_checkpoint_error_naming_it(tmp_path, checkpoint_bytes, data):
    path = tmp_path / "last.npz"
    path.write_bytes(corrupt(checkpoint_bytes, data.draw(corruptions(len(checkpoint_bytes)))))
    try:
        state = load_checkpoint(path)
    except CheckpointError as e:
        assert "last.npz" in str(e), e
        return
    # accepted (the damage missed everything that is read): then it is the whole checkpoint
    assert sorted(state["model"]) == ["layer.bias", "layer.weight", "steps"]
    assert state["meta"] == {"epoch": 3, "history": {"loss": [1.5, 0.5]}}
