import { readFileSync } from 'node:fs';
import * as api from 'nestjs-step-up';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('the public API', () => {
  it('names in README.md every value the package exports, so nothing internal leaks out unnoticed', () => {
    const exported = Object.keys(api);
    expect(exported.length).toBeGreaterThan(30);
    expect(exported.filter((name) => !new RegExp(`\`(@|new )?${name}\\b`).test(readme))).toEqual([]);
  });
});
