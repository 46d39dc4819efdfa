"""IDX reader: round trips, gzip by content, and errors that name the path and the sizes."""
import gzip
import struct

import numpy as np
import pytest

from minicnn.data.idx import parse_idx, read_idx, write_idx


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32, np.float64])
@pytest.mark.parametrize("name", ["a.idx", "a.idx.gz"])
def test_write_then_read_round_trips(tmp_path, dtype, name, rng):
    array = (rng.normal(size=(3, 4, 2)) * 50).astype(dtype)
    path = write_idx(tmp_path / name, array)
    back = read_idx(path)
    assert back.dtype == np.dtype(dtype) and back.dtype.isnative
    np.testing.assert_array_equal(back, array)


def test_header_is_big_endian_magic_and_dims(tmp_path):
    path = write_idx(tmp_path / "x", np.arange(6, dtype=np.uint8).reshape(2, 3))
    raw = open(path, "rb").read()
    assert raw[:4] == b"\x00\x00\x08\x02" and raw[4:12] == struct.pack(">II", 2, 3) and raw[12:] == bytes(range(6))


def test_reads_gzip_by_content_whatever_the_name(tmp_path):
    raw = struct.pack(">HBBI", 0, 8, 1, 3) + b"\x01\x02\x03"
    (tmp_path / "labels").write_bytes(gzip.compress(raw))
    np.testing.assert_array_equal(read_idx(tmp_path / "labels"), [1, 2, 3])


def test_truncated_file_names_path_expected_and_actual_size(tmp_path):
    header = struct.pack(">HBBIII", 0, 8, 3, 60000, 28, 28)
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(header + bytes(1000 - len(header)))
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte: expected 47040016 bytes for 60000x28x28 "
                                         r"uint8, got 1000"):
        read_idx(path)


def test_trailing_bytes_are_an_error(tmp_path):
    path = tmp_path / "x"
    path.write_bytes(struct.pack(">HBBI", 0, 8, 1, 2) + b"\x01\x02\x03")
    with pytest.raises(ValueError, match="expected 10 bytes for 2 uint8, got 11"):
        read_idx(path)


@pytest.mark.parametrize("header, message", [
    (b"\x00\x01\x08\x01", "got 0x00010801"),
    (b"\x00\x00\x07\x01", "got 0x00000701"),
    (b"\x00\x00\x08\x00", "0 dimensions"),
    (b"\x00\x00", "at least 4 header bytes, got 2"),
    (b"\x00\x00\x08\x03\x00\x00\x00\x01", "expected 16 bytes for 3 dimensions, got 8"),
])
def test_bad_headers_are_rejected(header, message):
    with pytest.raises(ValueError, match=message):
        parse_idx(header, "f.idx")


def test_corrupt_gzip_names_the_path(tmp_path):
    path = tmp_path / "x.gz"
    path.write_bytes(gzip.compress(struct.pack(">HBBI", 0, 8, 1, 100) + bytes(100))[:30])
    with pytest.raises(ValueError, match=r"x.gz: corrupt or truncated gzip"):
        read_idx(path)


def test_write_rejects_dtypes_without_a_type_code(tmp_path):
    with pytest.raises(TypeError, match="no IDX type code"):
        write_idx(tmp_path / "x", np.zeros(2, dtype=np.uint16))
