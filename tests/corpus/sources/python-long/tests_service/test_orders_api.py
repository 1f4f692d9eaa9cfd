import pytest
from service.app import PRICES, handle

SKUS = sorted(PRICES)


def order(n, sku, qty, headers=None):
    return {
        "id": f"req-{n:05d}",
        "method": "POST",
        "path": "/v1/orders",
        "headers": {"X-Currency": "EUR"} if headers is None else headers,
        "body": {"sku": sku, "qty": qty},
    }


@pytest.mark.parametrize("n", range(400))
def test_health(n):
    assert handle({"id": f"hc-{n:04d}", "method": "GET", "path": "/health"})["status"] == 200


@pytest.mark.parametrize("qty", [1, 3])
@pytest.mark.parametrize("sku", SKUS)
def test_order_total(sku, qty):
    response = handle(order(SKUS.index(sku) * 10 + qty, sku, qty))
    assert response["status"] == 201
    assert response["total"] == PRICES[sku] * qty


def test_order_defaults_currency():
    response = handle(order(99999, "SKU-0001", 1, headers={}))
    assert response["currency"] == "EUR"


@pytest.mark.parametrize("sku", SKUS[:200])
def test_reorder(sku):
    assert handle(order(50000 + SKUS.index(sku), sku, 3))["total"] == PRICES[sku] * 3
