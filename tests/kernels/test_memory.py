"""kernels.memory: the chunking of conv's input gradient (the Workspace is tested with conv)."""
import numpy as np
from hypothesis import given, strategies as st

from minicnn.kernels import memory


@given(n=st.integers(1, 500), per_item=st.integers(0, 10_000), limit=st.integers(1, 100_000))
def test_chunks_cover_every_item_once_and_stay_under_the_limit_when_one_item_fits(n, per_item, limit):
    length = memory.chunk_length(n, per_item, limit)
    ranges = memory.chunk_ranges(n, length)
    assert [i for a, b in ranges for i in range(a, b)] == list(range(n))
    assert 1 <= length <= n
    if per_item <= limit:
        assert length * per_item <= limit
    assert length == n or (length + 1) * per_item > limit    # as large as the limit allows


def test_the_default_limit_is_chunk_bytes():
    assert memory.chunk_length(1000, memory.CHUNK_BYTES // 4) == 4


def test_allocator_tuning_keeps_glibc_defaults_when_asked(monkeypatch):
    monkeypatch.setenv("MINICNN_MALLOC", "system")
    assert memory.tune_allocator() is False


def test_allocator_is_tuned_at_import_on_linux_with_glibc():
    import os
    import platform
    import sys
    import pytest
    if not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt settings apply to glibc only")
    if os.environ.get("MINICNN_MALLOC", "").lower() == "system":
        pytest.skip("MINICNN_MALLOC=system keeps glibc's defaults")
    assert memory.allocator_tuned is True
    assert memory.tune_allocator() is True    # idempotent: the same settings again


def test_big_arrays_come_from_the_reused_heap_after_tuning():
    """With mmap off, a freed 64 MB block is reused by the next one: the second allocation
    costs (almost) no new page faults, where glibc's default would mmap it afresh and the
    kernel would fault in (and zero) every page again."""
    import resource
    import pytest
    if not memory.allocator_tuned:
        pytest.skip("the allocator is not tuned on this platform")
    n = 16 << 20                                   # 16 M float32 = 64 MB, above any mmap threshold
    np.ones(n, np.float32)                         # touched once, freed: stays in the heap
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    np.ones(n, np.float32)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    # fresh memory costs at least 32 faults (2 MB huge pages) and up to 16384 (4 KB pages)
    assert faults < 16, f"{faults} page faults for a 64 MB array already paid once"
