/**
 * Names the JIT-compiled JavaScript in a callgrind dump. callgrind attributes V8's generated code to bare
 * addresses (`???:0x…`); a server counted by `bench:instructions --keep-dumps` also leaves V8's perf map
 * (`--perf-basic-prof`: start, size and name of every code object), which turns those addresses back
 * into functions. Code freed by the GC can be replaced at the same address, so an address takes the name
 * of the last code object written there: a function compiled late may take over an earlier one's count.
 * Run: `node dist-bench/callgrind.jit.js <dump> <perf.map> [--requests <n>] [--top <n>]`.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parsePositive } from './settings.cli.js';

const USAGE = `node dist-bench/callgrind.jit.js <callgrind dump> <perf map> [options]
  --requests <n>   requests the dump counted, to print instructions per request (default 4000)
  --top <n>        functions to print (default 40)`;

interface CodeObject {
  readonly start: number;
  readonly end: number;
  readonly name: string;
}

function readPerfMap(file: string): CodeObject[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .flatMap((line) => {
      const match = /^([0-9a-f]+) ([0-9a-f]+) (.+)$/.exec(line);
      if (!match) return [];
      const start = Number.parseInt(match[1]!, 16);
      return [{ start, end: start + Number.parseInt(match[2]!, 16), name: match[3]! }];
    });
}

/** Self cost of every unnamed address in the dump, as `callgrind_annotate` lists it. */
function unnamedCosts(dump: string): Map<number, number> {
  const listing = execFileSync('callgrind_annotate', ['--inclusive=no', '--threshold=100', dump], { encoding: 'utf8', maxBuffer: 1 << 28 });
  const costs = new Map<number, number>();
  for (const match of listing.matchAll(/^\s*([\d,]+) \([^)]*\)\s+\?\?\?:0x([0-9a-f]+)/gm)) {
    const address = Number.parseInt(match[2]!, 16);
    costs.set(address, (costs.get(address) ?? 0) + Number(match[1]!.replaceAll(',', '')));
  }
  return costs;
}

function main(): void {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { requests: { type: 'string' }, top: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help || positionals.length !== 2) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 1);
  }
  const [dump, perfMap] = positionals as [string, string];
  const requests = parsePositive(values.requests, 4000, '--requests', { integer: true, usage: USAGE });
  const top = parsePositive(values.top, 40, '--top', { integer: true, usage: USAGE });
  const code = readPerfMap(perfMap).reverse();
  const byName = new Map<string, number>();
  for (const [address, cost] of unnamedCosts(dump)) {
    // Addresses outside every code object are the binary's own, unnamed code (and callgrind's below-main).
    const name = code.find((object) => object.start <= address && address < object.end)?.name;
    if (name !== undefined) byName.set(name, (byName.get(name) ?? 0) + cost);
  }
  const perRequest = (cost: number) => Math.round(cost / requests).toLocaleString('en');
  const named = [...byName].sort((a, b) => b[1] - a[1]);
  console.log(`JIT-compiled code: ${perRequest(named.reduce((sum, [, cost]) => sum + cost, 0))} instructions per request`);
  console.log('| Instructions per request | Code object |\n| ---: | --- |');
  for (const [name, cost] of named.slice(0, top)) console.log(`| ${perRequest(cost)} | ${name.replaceAll('|', '\\|')} |`);
}

try {
  main();
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
