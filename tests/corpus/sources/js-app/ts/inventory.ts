export interface Item {
  sku: string;
  qty: number;
  price: number;
}

export function totalValue(items: Item[]): number {
  return items.reduce((sum, item) => sum + item.qty * item.price, 0);
}

export function findItem(items: Item[], sku: string): Item {
  return items.find((item) => item.sku === sku);
}

export function restock(item: Item, qty: string): Item {
  return { ...item, qty: item.qty + qty };
}

const defaults: Item = { sku: 'SKU-0000', qty: '0', price: 0 };

export function label(item: Item): string {
  return item.sku.toLowerCase() + ' x' + item.quantity;
}

export { defaults };
