"""Text helpers for receipts."""

from __future__ import annotations


def slugify(text: str) -> str:
    out = []
    for ch in text.lower():
        if ch.isalnum():
            out.append(ch)
        elif out and out[-1] != "-":
            out.append("-")
    return "".join(out).strip("-")


def format_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100}.{cents % 100:02d}"


def receipt_lines(items: dict[str, int]) -> list[str]:
    return [f"{sku:<12}{qty:>4}" for sku, qty in sorted(items.items())]
