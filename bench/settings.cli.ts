/** Command-line settings of `npm run bench`. */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ADAPTERS, type Adapter, type Alg, ALGORITHMS, isReference, VARIANT_IDS, type VariantId } from './scenario.shared.js';

export interface RunSettings {
  readonly quick: boolean;
  readonly durationSeconds: number;
  readonly rounds: number;
  /** Unrecorded load on each round's new servers, per server and mode, before anything is measured. */
  readonly warmupSeconds: number;
  /** Unrecorded load on a server right before each of its recorded measurements. */
  readonly settleSeconds: number;
  readonly connections: number;
  /**
   * Before each measurement, wait (up to 10 s) for other processes to go quiet, until this many
   * seconds have been spent waiting in the run. 0 (quick mode) never waits.
   */
  readonly quietWaitBudgetSeconds: number;
  /** Tokens in a "repeated" pool. */
  readonly poolSize: number;
  /** Requests/s assumed when sizing the first fresh-token pools (later ones use what was measured). */
  readonly freshRateGuess: number;
  readonly variants: readonly VariantId[];
  readonly adapters: readonly Adapter[];
  readonly algs: readonly Alg[];
  /** When set, run only the memory soak, for this many minutes. */
  readonly soakMinutes: number | undefined;
  /** When set, re-render BENCHMARKS.md from this results file instead of measuring. */
  readonly renderFrom: string | undefined;
  /** A built copy of the library served side by side with the current build (variant `stepup-baseline`). */
  readonly baselineDir: string | undefined;
  /** Fewer variants, adapters or algorithms than a full run, or a baseline: BENCHMARKS.md is left alone. */
  readonly narrowed: boolean;
}

const USAGE = `npm run bench -- [options]
  --quick                 development run (about 3 minutes; cold, noisy figures; never waits for a quiet machine)
  --duration <s>          seconds per measurement (default 3; quick 0.4)
  --rounds <n>            rounds, each with new server processes (default 5; quick 2)
  --warmup <s>            unrecorded seconds per server and mode when a round's servers are new (default 1; quick 0.3)
  --settle <s>            unrecorded load right before each recorded measurement (default 1; quick 0)
  --connections <n>       autocannon connections (default 10)
  --only <ids>            comma-separated variants (the reference servers are always measured): ${VARIANT_IDS.join(', ')}
  --adapters <list>       ${ADAPTERS.join(', ')}
  --algs <list>           ${ALGORITHMS.join(', ')}
  --baseline <dir>        also serve this build of the library (a copy of dist/, made before a change) as
                          stepup-baseline, beside the current build, in the same rounds
  --soak-minutes <m>      memory soak only: nestjs-step-up at full load for m minutes
  --render <file>         re-render BENCHMARKS.md from a results file in .bench-results/

A run with --only, --adapters, --algs or --baseline prints its tables and saves its results, but leaves
BENCHMARKS.md as it is (--render writes them there if wanted).`;

const BASELINE: VariantId = 'stepup-baseline';

/** A comma-separated list of `allowed` items, in `allowed`'s order; all of them when the flag is absent. */
export function parseList<T extends string>(value: string | undefined, allowed: readonly T[], flag: string, usage = USAGE): T[] {
  if (value === undefined) return [...allowed];
  const picked = value.split(',').map((item) => item.trim());
  const unknown = picked.filter((item) => !(allowed as readonly string[]).includes(item));
  if (unknown.length) throw new Error(`${flag}: unknown ${unknown.join(', ')}\n\n${usage}`);
  return allowed.filter((item) => picked.includes(item));
}

/** Exactly one of `allowed`, or an error naming the flag. */
export function parseOne<T extends string>(value: string, allowed: readonly T[], flag: string, usage = USAGE): T {
  const [one, ...more] = parseList(value, allowed, flag, usage);
  if (one === undefined || more.length > 0) throw new Error(`${flag} takes one of ${allowed.join(', ')}\n\n${usage}`);
  return one;
}

/** `--baseline`: the absolute path of a built copy of the library, checked to hold its `index.js`. */
export function parseBaselineDir(value: string | undefined, usage = USAGE): string | undefined {
  if (value === undefined) return undefined;
  const directory = resolve(value);
  if (!existsSync(join(directory, 'index.js'))) {
    throw new Error(`--baseline: ${join(directory, 'index.js')} not found; give a built copy of the library, e.g. made with \`cp -r dist .bench-baseline\` before the change\n\n${usage}`);
  }
  return directory;
}

/**
 * A numeric option: `fallback` when absent, otherwise a positive number (or zero, with `orZero`; a whole
 * number, with `integer`), or an error naming the flag.
 */
export function parsePositive(
  value: string | undefined,
  fallback: number,
  flag: string,
  { orZero = false, integer = false, usage = USAGE }: { orZero?: boolean; integer?: boolean; usage?: string } = {},
): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (!((number > 0 || (orZero && number === 0)) && (!integer || Number.isInteger(number)))) {
    throw new Error(`${flag} must be a ${orZero ? 'non-negative' : 'positive'} ${integer ? 'integer' : 'number'}\n\n${usage}`);
  }
  return number;
}

export function parseSettings(argv: readonly string[]): RunSettings {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      quick: { type: 'boolean', default: false },
      duration: { type: 'string' },
      rounds: { type: 'string' },
      warmup: { type: 'string' },
      settle: { type: 'string' },
      connections: { type: 'string' },
      only: { type: 'string' },
      adapters: { type: 'string' },
      algs: { type: 'string' },
      'soak-minutes': { type: 'string' },
      render: { type: 'string' },
      baseline: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = values.quick;
  const baselineDir = parseBaselineDir(values.baseline);
  const only = values.only === undefined ? VARIANT_IDS.filter((id) => id !== BASELINE) : parseList(values.only, VARIANT_IDS, '--only');
  if (only.includes(BASELINE) && baselineDir === undefined) throw new Error(`--only ${BASELINE} needs --baseline <dir>\n\n${USAGE}`);
  const adapters = parseList(values.adapters, ADAPTERS, '--adapters');
  const algs = parseList(values.algs, ALGORITHMS, '--algs');
  return {
    quick,
    durationSeconds: parsePositive(values.duration, quick ? 0.4 : 3, '--duration'),
    rounds: Math.round(parsePositive(values.rounds, quick ? 2 : 5, '--rounds')),
    warmupSeconds: parsePositive(values.warmup, quick ? 0.3 : 1, '--warmup'),
    settleSeconds: parsePositive(values.settle, quick ? 0 : 1, '--settle', { orZero: true }),
    connections: Math.round(parsePositive(values.connections, 10, '--connections')),
    quietWaitBudgetSeconds: quick ? 0 : 300,
    poolSize: 10,
    freshRateGuess: 4000,
    variants: VARIANT_IDS.filter((id) => isReference(id) || only.includes(id) || (id === BASELINE && baselineDir !== undefined)),
    adapters,
    algs,
    soakMinutes: values['soak-minutes'] === undefined ? undefined : parsePositive(values['soak-minutes'], 10, '--soak-minutes'),
    renderFrom: values.render,
    baselineDir,
    narrowed: values.only !== undefined || baselineDir !== undefined || adapters.length < ADAPTERS.length || algs.length < ALGORITHMS.length,
  };
}
