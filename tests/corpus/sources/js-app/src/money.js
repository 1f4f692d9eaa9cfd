'use strict';

function toCents(amount) {
  return Math.round(amount * 100);
}

function formatPrice(cents, currency = 'EUR') {
  const symbol = { EUR: '€', USD: '$', GBP: '£' }[currency];
  return `${symbol}${(cents / 100).toFixed(2)}`;
}

function applyDiscount(cents, percent) {
  if (percent < 0 || percent > 100) {
    throw new RangeError(`bad percent ${percent}`);
  }
  return Math.floor(cents * (1 - percent / 100));
}

module.exports = { toCents, formatPrice, applyDiscount };
