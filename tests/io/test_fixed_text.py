"""Array formatting: the same text as formatting each value, in tables or beyond them."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ordergen.domain.fixed_point import from_units
from ordergen.domain.values import decimal_text
from ordergen.io.fixed_text import MAX_TABLE, FixedText


def weight(units: int) -> str:
    return decimal_text(from_units(units, 4))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.lists(st.integers(-30_000, 30_000), min_size=0, max_size=50)
        | st.lists(st.integers(-(10**15), 10**15), min_size=1, max_size=50),
        min_size=1,
        max_size=4,
    )
)
def test_every_chunk_is_written_as_each_value_would_be(chunks: list[list[int]]) -> None:
    texts = FixedText(weight)  # one table for the run, grown chunk by chunk
    for values in chunks:
        array = np.array(values, dtype=np.int64).reshape(-1, 1)
        assert texts(array).ravel().tolist() == [weight(value) for value in values]


def test_python_ints_beyond_int64() -> None:
    values = np.array([10**30, -(10**30), 7], dtype=object)
    assert FixedText(str)(values).tolist() == [str(10**30), str(-(10**30)), "7"]


def test_a_wide_range_is_written_value_by_value() -> None:
    values = np.array([0, MAX_TABLE * 4, 3, 0], dtype=np.int64)
    assert FixedText(str)(values).tolist() == ["0", str(MAX_TABLE * 4), "3", "0"]
