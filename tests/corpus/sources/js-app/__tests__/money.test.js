const { toCents, formatPrice, applyDiscount } = require('../src/money');

describe('toCents', () => {
  test.each(Array.from({ length: 120 }, (_, i) => [i / 4, i * 25]))('toCents(%p) is %p', (amount, cents) => {
    expect(toCents(amount)).toBe(cents);
  });
});

describe('formatPrice', () => {
  test.each(Array.from({ length: 80 }, (_, i) => [i * 101]))('formats %p cents in EUR', (cents) => {
    expect(formatPrice(cents)).toMatch(/^€\d+\.\d\d$/);
  });

  test('formats yen without decimals', () => {
    expect(formatPrice(1500, 'JPY')).toBe('¥1500');
  });
});

describe('applyDiscount', () => {
  test.each([0, 10, 25, 50, 100])('keeps integer cents for %p%%', (percent) => {
    expect(Number.isInteger(applyDiscount(999, percent))).toBe(true);
  });

  test('rounds a 15% discount to the nearest cent', () => {
    expect(applyDiscount(1999, 15)).toBe(1699);
  });

  test('rejects negative percent', () => {
    expect(() => applyDiscount(100, -5)).toThrow(RangeError);
  });
});
