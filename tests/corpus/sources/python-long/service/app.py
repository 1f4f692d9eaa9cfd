import logging

log = logging.getLogger("orders.api")

STOCK = {f"SKU-{n:04d}": 50 + n % 40 for n in range(1, 401)}
PRICES = {sku: 199 + 7 * n for n, sku in enumerate(STOCK)}


def handle(request: dict) -> dict:
    log.info("%s %s request_id=%s", request["method"], request["path"], request["id"])
    if request["path"] == "/health":
        return {"status": 200}
    sku = request["body"]["sku"]
    qty = request["body"]["qty"]
    log.debug("reserve sku=%s qty=%d stock=%d", sku, qty, STOCK.get(sku, 0))
    try:
        price = PRICES[sku]
    except KeyError:
        log.exception("pricing lookup failed for sku=%s", sku)
        raise
    total = price * qty
    currency = request["headers"]["X-Currency"]
    log.info("order ok request_id=%s total=%d %s", request["id"], total, currency)
    return {"status": 201, "total": total, "currency": currency}
