import pytest
from shop.cart import CATALOG, Cart


@pytest.mark.parametrize("sku", sorted(CATALOG))
def test_single_item_total(sku):
    cart = Cart()
    cart.add(sku)
    assert cart.total() == CATALOG[sku]


@pytest.mark.parametrize("qty", range(1, 21))
def test_quantity_multiplies(qty):
    cart = Cart()
    cart.add("SKU-0001", qty)
    assert cart.total() == 107 * qty


def test_add_rejects_zero():
    with pytest.raises(ValueError, match="positive"):
        Cart().add("SKU-0001", 0)


def test_remove_item():
    cart = Cart()
    cart.add("SKU-0002")
    cart.remove("SKU-0002")
    assert cart.total() == 0


def test_coupon_welcome():
    cart = Cart()
    cart.add("SKU-0010", 2)
    assert cart.apply_coupon("welcome10") == 306


def test_coupon_summer():
    cart = Cart()
    cart.add("SKU-0010", 2)
    assert cart.apply_coupon("SUMMER20") == 272
