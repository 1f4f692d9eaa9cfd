"""Prices in integer cents."""

from __future__ import annotations

VAT_RATES = {"de": 19, "fr": 20, "nl": 21, "ie": 23, "lu": 17, "mt": 18}


def with_vat(cents: int, country: str) -> int:
    rate = VAT_RATES[country]
    return cents + cents * rate // 100


def discount(cents: int, percent: int) -> int:
    """Apply a percentage discount, rounding half up to the cent."""
    if not 0 <= percent <= 100:
        raise ValueError(f"discount percent out of range: {percent}")
    # bug: truncates instead of rounding half up
    return cents - cents * percent // 100


def split_evenly(cents: int, parts: int) -> list[int]:
    base, extra = divmod(cents, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]
