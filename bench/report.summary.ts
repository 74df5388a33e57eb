/** From raw samples to per-variant medians, ratios and the targets. */
import { MODES, type ModeId, type Sample } from './matrix.rounds.js';
import type { Measurement } from './load.autocannon.js';
import type { MicroResult } from './results.store.js';
import { type Adapter, type Alg, isReference, type VariantId } from './scenario.shared.js';
import { median } from './stats.math.js';
import { VARIANTS } from './variants.registry.js';

/** Medians over rounds of a measurement's figures. */
type MedianFigures = Pick<
  Measurement,
  'requestsPerSecond' | 'p50Ms' | 'p99Ms' | 'cpuMicrosPerRequest' | 'serverCpuShare' | 'foreignCpuShare'
>;

export interface Row extends MedianFigures {
  readonly variant: VariantId;
  readonly adapter: Adapter;
  readonly alg: Alg;
  readonly mode: ModeId;
  readonly rounds: number;
  /** Throughput over the unprotected server's in the same mode (challenge modes: its repeated mode), as {@link pairedRatio} takes it. */
  readonly ratioToNone: number;
  /** Challenge modes: throughput over the allowed path (repeated tokens) of this variant, or of its `allowedPath`. */
  readonly ratioToAllowed: number | undefined;
  /** nestjs-step-up with `--baseline`: throughput over the baseline build's in the same mode; NaN otherwise. */
  readonly ratioToBaseline: number;
  readonly unexpected: number;
  readonly reusedTokens: number;
}

export interface TargetCheck {
  readonly target: string;
  readonly where: string;
  /** The ratio the target is about, from throughput (req/s). */
  readonly measured: string;
  /** The same ratio from server CPU per request: what throughput would be were the server the only bottleneck. */
  readonly cpuBased: string;
  readonly met: boolean;
}

type Cell = Pick<Sample, 'variant' | 'adapter' | 'alg' | 'mode'>;
const cellKey = ({ variant, adapter, alg, mode }: Cell): string => `${variant}|${adapter}|${alg}|${mode}`;

const throughput = (s: Sample): number => s.requestsPerSecond;
const cpuThroughput = (s: Sample): number => 1 / s.cpuMicrosPerRequest;

/**
 * `numerator`'s value (default: throughput) over `denominator`'s, taken within each round; then, for each
 * two consecutive rounds, the geometric mean of their ratios; then the median of those (a single round:
 * its ratio). The bench reverses the order of the servers every other round, and a server measured late
 * in a round was seen to cost more CPU per request than the same server measured early: each ratio carries
 * that order effect one way and the next round's the other way, so a pair of rounds cancels it.
 */
function pairedRatio(samples: readonly Sample[], numerator: Cell, denominator: Cell, value = throughput): number {
  const byRound = new Map(samples.filter((s) => cellKey(s) === cellKey(denominator)).map((s) => [s.round, value(s)]));
  const ratios = new Map(
    samples.filter((s) => cellKey(s) === cellKey(numerator) && byRound.has(s.round)).map((s) => [s.round, value(s) / byRound.get(s.round)!]),
  );
  const pairs = [...ratios].flatMap(([round, ratio]) => (ratios.has(round + 1) ? [Math.sqrt(ratio * ratios.get(round + 1)!)] : []));
  return median(pairs.length ? pairs : [...ratios.values()]);
}

export function summarize(samples: readonly Sample[]): Row[] {
  const cells = new Map<string, Sample[]>();
  for (const sample of samples) cells.set(cellKey(sample), [...(cells.get(cellKey(sample)) ?? []), sample]);
  return [...cells.values()].map((group) => {
    const { variant, adapter, alg, mode } = group[0]!;
    const challenge = MODES[mode].expect !== 200;
    const of = (pick: (s: Sample) => number) => median(group.map(pick));
    return {
      variant,
      adapter,
      alg,
      mode,
      rounds: group.length,
      requestsPerSecond: of((s) => s.requestsPerSecond),
      p50Ms: of((s) => s.p50Ms),
      p99Ms: of((s) => s.p99Ms),
      cpuMicrosPerRequest: of((s) => s.cpuMicrosPerRequest),
      serverCpuShare: of((s) => s.serverCpuShare),
      foreignCpuShare: of((s) => s.foreignCpuShare),
      ratioToNone: pairedRatio(samples, { variant, adapter, alg, mode }, { variant: 'none', adapter, alg, mode: challenge ? 'repeated' : mode }),
      ratioToAllowed: challenge
        ? pairedRatio(samples, { variant, adapter, alg, mode }, { variant: VARIANTS[variant].allowedPath ?? variant, adapter, alg, mode: 'repeated' })
        : undefined,
      ratioToBaseline:
        variant === 'stepup' ? pairedRatio(samples, { variant, adapter, alg, mode }, { variant: 'stepup-baseline', adapter, alg, mode }) : Number.NaN,
      unexpected: group.reduce((sum, s) => sum + s.unexpected, 0),
      reusedTokens: isReference(variant) ? 0 : group.reduce((sum, s) => sum + s.reusedTokens, 0),
    };
  });
}

/** The challenge modes, each checked against the allowed path, and how the targets table names them. */
const CHALLENGES = [
  ['challenge-401', '401'],
  ['challenge-403', '403'],
  ['challenge-anonymous', '401 without a token'],
] as const satisfies readonly (readonly [ModeId, string])[];

const fixed = (value: number): string => (Number.isNaN(value) ? 'n/a' : value.toFixed(2));

export function targetChecks(samples: readonly Sample[], rows: readonly Row[], micro: readonly MicroResult[]): TargetCheck[] {
  const checks: TargetCheck[] = [];
  const has = (cell: Cell) => rows.some((r) => cellKey(r) === cellKey(cell));
  const ratioCheck = (target: string, where: string, numerator: Cell, denominator: Cell, unit: string, threshold: number): void => {
    if (!has(numerator) || !has(denominator)) return;
    const ratio = pairedRatio(samples, numerator, denominator);
    const cpuBased = pairedRatio(samples, numerator, denominator, cpuThroughput);
    checks.push({ target, where, measured: `${fixed(ratio)} × ${unit}`, cpuBased: `${fixed(cpuBased)} × ${unit}`, met: ratio >= threshold });
  };
  const groups = [...new Set(rows.map((r) => `${r.adapter}|${r.alg}`))].map((key) => key.split('|') as [Adapter, Alg]);
  for (const [adapter, alg] of groups) {
    const where = `${adapter} ${alg}`;
    const cell = (variant: VariantId, mode: ModeId): Cell => ({ variant, adapter, alg, mode });
    ratioCheck('Repeated tokens (cache on) ≥ 0.95 × none', where, cell('stepup', 'repeated'), cell('none', 'repeated'), 'none', 0.95);
    ratioCheck('New token per request (cache off) ≥ jose guard', where, cell('stepup-nocache', 'fresh'), cell('jose-guard', 'fresh'), 'jose guard', 1);
    for (const [mode, refusal] of CHALLENGES) {
      ratioCheck(`Challenge path ${refusal} no slower than allowed path (cache on)`, where, cell('stepup', mode), cell('stepup', 'repeated'), 'allowed', 1);
    }
  }
  const policy = micro.filter((m) => m.name.startsWith('evaluatePolicy'));
  if (policy.length) {
    const worst = Math.max(...policy.map((m) => m.nsPerOp));
    const measured = `${worst.toFixed(0)} ns`;
    checks.push({ target: 'Policy core < 2 µs per evaluation', where: 'slowest outcome', measured, cpuBased: '', met: worst < 2000 });
  }
  return checks;
}
