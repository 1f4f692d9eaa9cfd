RATES = {"AT": 20, "BE": 21, "DE": 19, "ES": 21, "FR": 20, "IT": 22, "NL": 21, "PL": 23}


def vat(cents: int, country: str) -> int:
    return (cents * RATES[country] + 50) // 100


def effective_rate(net: int, gross: int) -> float:
    return round((gross - net) * 100 / net, 2)


def invoice_rates(lines: list[tuple[int, int]]) -> list[float]:
    return [effective_rate(net, gross) for net, gross in lines]
