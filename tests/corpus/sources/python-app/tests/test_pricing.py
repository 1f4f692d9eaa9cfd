import pytest
from shop.pricing import VAT_RATES, discount, split_evenly, with_vat


@pytest.mark.parametrize("country", sorted(VAT_RATES))
@pytest.mark.parametrize("cents", [0, 100, 1000, 2500, 9999, 10000, 12345, 50000])
def test_with_vat_is_not_less(country, cents):
    assert with_vat(cents, country) >= cents


@pytest.mark.parametrize("cents", range(0, 10000, 250))
def test_zero_discount_is_identity(cents):
    assert discount(cents, 0) == cents


@pytest.mark.parametrize("percent", [0, 5, 10, 25, 50, 75, 100])
def test_discount_of_round_amount(percent):
    assert discount(10000, percent) == 10000 - 100 * percent


def test_discount_rounds_half_up():
    # 15% of 1999 cents is 299.85 cents, so the discounted price is 1699.15 -> 1699
    assert discount(1999, 15) == 1699


def test_discount_rejects_out_of_range():
    with pytest.raises(ValueError, match="out of range"):
        discount(100, 101)


@pytest.mark.parametrize("parts", range(1, 31))
def test_split_evenly_sums_up(parts):
    assert sum(split_evenly(10007, parts)) == 10007
