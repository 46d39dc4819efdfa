"""The IDX file format of MNIST and Fashion-MNIST (LeCun et al.), gzipped or raw.

Layout (big-endian): 2 zero bytes, 1 type byte, 1 byte ndim; then ndim uint32 sizes; then
prod(sizes) items of the type. Type codes: 0x08 uint8, 0x09 int8, 0x0B int16, 0x0C int32,
0x0D float32, 0x0E float64. ``read_idx`` checks all of it, including the exact file size.
"""
import gzip
import math
import os
import struct
import zlib

import numpy as np

IDX_TYPES = {0x08: np.dtype(">u1"), 0x09: np.dtype(">i1"), 0x0B: np.dtype(">i2"),
             0x0C: np.dtype(">i4"), 0x0D: np.dtype(">f4"), 0x0E: np.dtype(">f8")}
_TYPE_CODES = {dt.newbyteorder("=").str: code for code, dt in IDX_TYPES.items()}


def read_bytes(path):
    """The file's bytes, gunzipped when it is gzip (by content, not by name)."""
    path = os.fspath(path)
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as e:
            raise ValueError(f"{path}: corrupt or truncated gzip file ({e}); delete it and fetch it again") from e
    return raw


def parse_idx(raw, path="<bytes>"):
    """An ndarray (native byte order) from the bytes of an IDX file; ValueError if malformed."""
    if len(raw) < 4:
        raise ValueError(f"{path}: not an IDX file: expected at least 4 header bytes, got {len(raw)}")
    zero, code, ndim = struct.unpack(">HBB", raw[:4])
    if zero != 0 or code not in IDX_TYPES:
        raise ValueError(f"{path}: not an IDX file: expected magic 0x0000 + type code in "
                         f"{{{', '.join(hex(c) for c in IDX_TYPES)}}} + ndim, "
                         f"got 0x{raw[:4].hex()}")
    if ndim == 0:
        raise ValueError(f"{path}: IDX header says 0 dimensions; expected at least 1")
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise ValueError(f"{path}: truncated IDX header: expected {header} bytes for {ndim} "
                         f"dimensions, got {len(raw)}")
    shape = struct.unpack(f">{ndim}I", raw[4:header])
    dtype = IDX_TYPES[code]
    expected = header + math.prod(shape) * dtype.itemsize   # Python ints: 4 sizes of 2**32 - 1 do not overflow
    if len(raw) != expected:
        what = "x".join(str(s) for s in shape) + f" {dtype.newbyteorder('=').name}"
        raise ValueError(f"{path}: expected {expected} bytes for {what}, got {len(raw)}"
                         + (" (truncated: delete it and fetch it again)" if len(raw) < expected else ""))
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(shape).astype(dtype.newbyteorder("="))


def read_idx(path):
    """Read an IDX file (``.gz`` or raw) into an ndarray, validating magic, dims and size."""
    return parse_idx(read_bytes(path), os.fspath(path))


def write_idx(path, array, compress=None):
    """Write ``array`` as an IDX file (gzipped when ``compress`` or the name ends in .gz)."""
    array = np.asarray(array)
    code = _TYPE_CODES.get(array.dtype.newbyteorder("=").str)
    if code is None:
        raise TypeError(f"write_idx: dtype {array.dtype} has no IDX type code; expected one of "
                        f"{[str(d.newbyteorder('=')) for d in IDX_TYPES.values()]}")
    raw = struct.pack(f">HBB{array.ndim}I", 0, code, array.ndim, *array.shape)
    raw += np.ascontiguousarray(array, dtype=IDX_TYPES[code]).tobytes()
    path = os.fspath(path)
    if compress or (compress is None and path.endswith(".gz")):
        raw = gzip.compress(raw, mtime=0)
    with open(path, "wb") as f:
        f.write(raw)
    return path
