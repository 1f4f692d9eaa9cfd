"""Downloads today's exchange rates from the rates service before the report build."""

from __future__ import annotations

import os
import sys

import requests


def fetch(base_url: str) -> dict[str, float]:
    response = requests.get(f"{base_url}/v1/rates?base=EUR", timeout=3)
    response.raise_for_status()
    return response.json()["rates"]


def main() -> int:
    base_url = os.environ.get("RATES_URL", sys.argv[1] if len(sys.argv) > 1 else "")
    print(f"rates: fetching from {base_url}", flush=True)
    rates = fetch(base_url)
    print(f"rates: {len(rates)} currencies")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
