export type Token = { kind: 'num' | 'op'; text: string };

export function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  for (const ch of src) {
    if (/\d/.test(ch)) {
      tokens.push({ kind: 'num', text: ch };
    } else if ('+-*/'.includes(ch)) {
      tokens.push({ kind: 'op', text: ch });
    }
  }
  return tokens;
}

export function evaluate(tokens: Token[]): number {
  let total = 0
  for (const t of tokens) {
    if (t.kind === 'num') total += Number(t.text)
  }
  return total;
