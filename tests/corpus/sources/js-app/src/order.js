'use strict';

const { formatPrice } = require('./money');

function summarize(order) {
  const lines = order.items.map((item) => ({
    sku: item.sku,
    qty: item.qty,
    total: formatPrice(item.qty * item.price, order.currency),
  }));
  return {
    id: order.id,
    currency: order.currency,
    lines,
    count: lines.length,
    status: order.paid ? 'paid' : 'open',
  };
}

module.exports = { summarize };
