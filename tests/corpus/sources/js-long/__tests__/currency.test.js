const { RATES, convert, formatMoney, parseMoney } = require('../src/currency');

const amounts = Array.from({ length: 60 }, (_, i) => i * 1337 - 20000);

describe('formatMoney/parseMoney', () => {
  test.each(amounts)('round-trips %i cents', (cents) => {
    expect(parseMoney(formatMoney(cents, 'EUR'))).toEqual({ cents, currency: 'EUR' });
  });
});

describe('convert', () => {
  test.each(Object.keys(RATES))('EUR -> %s -> EUR stays within a cent', (code) => {
    expect(Math.abs(convert(convert(10000, 'EUR', code), code, 'EUR') - 10000)).toBeLessThanOrEqual(1);
  });

  test('a small negative amount keeps its sign', () => {
    expect(formatMoney(-5, 'EUR')).toBe('-0.05 EUR');
  });

  test('converts to yen without a fraction', () => {
    expect(convert(199, 'EUR', 'JPY')).toBe(323);
  });
});
