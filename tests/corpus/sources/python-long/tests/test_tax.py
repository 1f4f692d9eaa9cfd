import pytest
from ledger.tax import RATES, effective_rate, invoice_rates, vat


@pytest.mark.parametrize("country", sorted(RATES))
@pytest.mark.parametrize("cents", range(0, 100000, 1250))
def test_vat_is_bounded(country, cents):
    assert 0 <= vat(cents, country) <= cents * 23 // 100 + 1


@pytest.mark.parametrize("country", sorted(RATES))
def test_effective_rate_matches_table(country):
    net = 10000
    assert effective_rate(net, net + vat(net, country)) == RATES[country]


def test_invoice_rates_with_free_line():
    lines = [(10000, 11900), (0, 0), (2500, 3000)]
    assert invoice_rates(lines) == [19.0, 0.0, 20.0]
