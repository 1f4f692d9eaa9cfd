import socket

import pytest
from shop.cart import CATALOG
from shop.client import fetch_stock
from shop.pricing import with_vat


@pytest.fixture(scope="module")
def silent_server():
    """Accepts connections and never answers, like a wedged upstream."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    yield sock.getsockname()
    sock.close()


@pytest.mark.parametrize("sku", sorted(CATALOG)[:60])
def test_price_with_vat(sku):
    assert with_vat(CATALOG[sku], "de") > CATALOG[sku]


@pytest.mark.timeout(2)
def test_stock_lookup(silent_server):
    host, port = silent_server
    assert fetch_stock(host, port, "SKU-0001") >= 0
