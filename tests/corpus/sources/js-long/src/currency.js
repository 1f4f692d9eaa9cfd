const RATES = { EUR: 1, USD: 1.08, GBP: 0.86, CHF: 0.95, JPY: 162.4, SEK: 11.2 };

function convert(cents, from, to) {
  return Math.round((cents / RATES[from]) * RATES[to]);
}

function formatMoney(cents, currency) {
  const sign = cents < 0 ? '-' : '';
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')} ${currency}`;
}

function parseMoney(text) {
  const match = /^(-?)(\d+)\.(\d\d) ([A-Z]{3})$/.exec(text);
  if (!match) throw new Error(`cannot parse money: ${text}`);
  const cents = Number(match[2]) * 100 + Number(match[3]);
  return { cents: match[1] ? -cents : cents, currency: match[4] };
}

module.exports = { RATES, convert, formatMoney, parseMoney };
