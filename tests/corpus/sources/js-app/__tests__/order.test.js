const { summarize } = require('../src/order');

const order = {
  id: 'ord_1042',
  currency: 'EUR',
  paid: true,
  items: [
    { sku: 'SKU-0001', qty: 2, price: 1250 },
    { sku: 'SKU-0002', qty: 1, price: 399 },
  ],
};

test('summary matches snapshot', () => {
  expect(summarize(order)).toMatchSnapshot();
});

test.each(Array.from({ length: 60 }, (_, i) => [i + 1]))('counts %p lines', (n) => {
  const items = Array.from({ length: n }, (_, i) => ({ sku: `SKU-${i}`, qty: 1, price: 100 }));
  expect(summarize({ ...order, items }).count).toBe(n);
});
