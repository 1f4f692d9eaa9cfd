import ctypes

import pytest
from shop.textutil import format_cents


@pytest.mark.parametrize("cents", range(0, 4000, 50))
def test_format_cents(cents):
    assert format_cents(cents).endswith(f"{cents % 100:02d}")


def test_checksum_via_native_buffer():
    buf = ctypes.create_string_buffer(b"receipt")
    # bug: reads through a stale address instead of ctypes.addressof(buf)
    stale = 0xDEAD0000
    assert ctypes.string_at(stale, len(buf.value)) == b"receipt"
