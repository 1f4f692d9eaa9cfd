import pytest
from ledger.money import format_cents, split, to_cents


@pytest.mark.parametrize("cents", range(-20000, 20000, 67))
def test_format_then_parse(cents):
    assert to_cents(format_cents(cents)) == cents


@pytest.mark.parametrize("parts", range(1, 13))
@pytest.mark.parametrize("cents", [0, 1, 99, 100, 1001, 9999, 12345, 100000, 777777])
def test_split_sums_up(cents, parts):
    shares = split(cents, parts)
    assert sum(shares) == cents
    assert max(shares) - min(shares) <= 1
