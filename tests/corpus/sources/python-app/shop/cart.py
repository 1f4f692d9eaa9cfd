"""A cart of SKUs and quantities."""

from __future__ import annotations

from dataclasses import dataclass, field

CATALOG = {f"SKU-{n:04d}": 100 + n * 7 for n in range(1, 400)}


@dataclass
class Cart:
    items: dict[str, int] = field(default_factory=dict)

    def add(self, sku: str, qty: int = 1) -> None:
        if qty <= 0:
            raise ValueError("quantity must be positive")
        self.items[sku] = self.items.get(sku, 0) + qty

    def remove(self, sku: str) -> None:
        del self.items[sku]

    def total(self) -> int:
        return sum(CATALOG[sku] * qty for sku, qty in self.items.items())

    def apply_coupon(self, code: str) -> int:
        coupons = {"WELCOME10": 10, "SPRING15": 15}
        return self.total() * (100 - coupons[code.upper()]) // 100
