import { Item, totalValue } from './inventory';

export async function load(url: string): Promise<Item[]> {
  const response = await fetch(url);
  return response.json();
}

export function report(items: Item[]): string {
  const value: string = totalValue(items);
  return `value=${value}`;
}
