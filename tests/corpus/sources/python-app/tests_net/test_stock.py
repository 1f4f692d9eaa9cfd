import pytest
from shop.cart import CATALOG
from shop.client import fetch_stock


@pytest.mark.parametrize("sku", sorted(CATALOG)[:150])
def test_stock_is_available(stock_server, sku):
    host, port = stock_server
    assert fetch_stock(host, port, sku) == 12
