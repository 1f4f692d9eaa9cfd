"""Stock ledger used by the unittest case."""

from __future__ import annotations


class Ledger:
    def __init__(self) -> None:
        self.moves: list[tuple[str, int]] = []

    def receive(self, sku: str, qty: int) -> None:
        self.moves.append((sku, qty))

    def ship(self, sku: str, qty: int) -> None:
        if self.on_hand(sku) < qty:
            raise ValueError(f"not enough {sku}")
        self.moves.append((sku, -qty))

    def on_hand(self, sku: str) -> int:
        return sum(q for s, q in self.moves if s == sku)

    def valuation(self, prices: dict[str, int]) -> int:
        return sum(prices[s] * q for s, q in self.moves)

    def report(self) -> list[str]:
        skus = sorted({s for s, _ in self.moves})
        return [f"{s}: {self.on_hand(s)}" for s in skus if self.on_hand(s)]
