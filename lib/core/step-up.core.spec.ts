import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const coreDir = fileURLToPath(new URL('.', import.meta.url));
const sources = readdirSync(coreDir).filter((name) => name.endsWith('.ts') && !name.endsWith('.spec.ts'));

describe('the policy core', () => {
  it('has sources to check', () => {
    expect(sources).toEqual(expect.arrayContaining(['step-up.policy.ts', 'step-up.challenge.ts']));
  });

  it.each(sources)('%s imports nothing from Nest', (name) => {
    const imports = [...readFileSync(`${coreDir}/${name}`, 'utf8').matchAll(/from '([^']+)'/g)].map(([, from]) => from);
    expect(imports.filter((from) => from!.startsWith('@nestjs/') || from === 'reflect-metadata' || from === 'rxjs')).toEqual([]);
  });
});
