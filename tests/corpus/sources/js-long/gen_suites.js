// gen_suites.js DIR COUNT: write COUNT table-driven jest suites (250 tests each) into DIR.
const fs = require('fs');
const path = require('path');

const [dir, count] = [process.argv[2], Number(process.argv[3])];
const kinds = [
  ['units', "const { toKm, toMiles } = require('../src/units');", 'toMiles(toKm(%v))', '%v', 'toBeCloseTo'],
  ['units', "const { toCelsius, toFahrenheit } = require('../src/units');", 'toFahrenheit(toCelsius(%v))', '%v', 'toBeCloseTo'],
  ['text', "const { titleCase } = require('../src/text');", "titleCase('word ' + %v).startsWith('Word')", 'true', 'toBe'],
  ['text', "const { truncate } = require('../src/text');", "truncate('x'.repeat(%v), 40).length <= 40", 'true', 'toBe'],
];
for (let i = 0; i < count; i += 1) {
  const [mod, req, expr, want, matcher] = kinds[i % kinds.length];
  const name = `${mod}_${String(i).padStart(2, '0')}`;
  const body = `${req}

const values = Array.from({ length: 250 }, (_, k) => ${i} * 1000 + k);

describe('${name}', () => {
  test.each(values)('value %i', (v) => {
    expect(${expr.replace('%v', 'v')}).${matcher}(${want.replace('%v', 'v')});
  });
});
`;
  fs.writeFileSync(path.join(dir, `${name}.test.js`), body);
}
