"""kernels.memory: the chunking of conv's input gradient (the Workspace is tested with conv)."""
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
