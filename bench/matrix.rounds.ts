/**
 * The throughput matrix: every server under every token mode, one round at a time. Each round gets new
 * server processes (see throughput.run.ts), warms them all up in every mode without recording, then
 * measures them. Order within a pass: algorithm → mode → (adapter, variant), the last list reversed on
 * odd rounds so no variant always runs first or last. Tokens are minted per (round, pass, algorithm,
 * mode) block, so their auth_time stays well inside max_age (300 s) however long the run.
 */
import type { LocalIssuer, RequestKind } from './issuer.local.js';
import { awaitQuiet, type LoadOptions, type Measurement, measure, type TokenFeed } from './load.autocannon.js';
import { type Adapter, type Alg, isReference, type ServerSpec, type VariantId } from './scenario.shared.js';
import type { RunningServer } from './servers.pool.js';
import type { RunSettings } from './settings.cli.js';
import { VARIANTS } from './variants.registry.js';

export const MODES = {
  repeated: { label: 'repeated tokens', kind: 'allowed', fresh: false, expect: 200 },
  fresh: { label: 'new token per request', kind: 'allowed', fresh: true, expect: 200 },
  'challenge-401': { label: 'challenge: no MFA → 401', kind: 'no-mfa', fresh: false, expect: 401 },
  'challenge-403': { label: 'challenge: no scope → 403', kind: 'no-scope', fresh: false, expect: 403 },
  'challenge-anonymous': { label: 'challenge: no token → 401', kind: 'anonymous', fresh: false, expect: 401 },
} as const satisfies Record<string, { label: string; kind: RequestKind; fresh: boolean; expect: number }>;
export type ModeId = keyof typeof MODES;

/**
 * The status every request with a repeated token of this kind must get from this variant: the references
 * answer as they always do (the refusal floor 401, the others 200), a protected variant as its mode expects.
 */
export function expectedStatus(variant: VariantId, kind: RequestKind): number {
  if (variant === 'refuse-all-guard') return MODES['challenge-401'].expect;
  if (isReference(variant)) return MODES.repeated.expect;
  return Object.values(MODES).find((mode) => !mode.fresh && mode.kind === kind)!.expect;
}

const MODE_IDS = Object.keys(MODES) as ModeId[];
/** Longest wait for a quiet machine before one measurement. */
const QUIET_WAIT_MAX_MS = 10_000;
/** Fresh pools hold this many times the tokens the fastest protected variant used so far. */
const FRESH_POOL_MARGIN = 2;

export interface Sample extends Measurement {
  readonly round: number;
  readonly variant: VariantId;
  readonly adapter: Adapter;
  readonly alg: Alg;
  readonly mode: ModeId;
  /** Responses whose status was not the one this mode expects. */
  readonly unexpected: number;
  /** Fresh mode: requests that had to reuse a token because the pool ran out. */
  readonly reusedTokens: number;
  /** Time spent waiting for other processes to calm down before this measurement. */
  readonly quietWaitMs: number;
}

function measuredUnder(variant: VariantId, mode: ModeId): boolean {
  return VARIANTS[variant].modes?.includes(mode) ?? true;
}

/** Measurements per round (the warm-up pass makes as many again, shorter). */
export function measurementsPerRound(specs: readonly ServerSpec[]): number {
  return MODE_IDS.reduce((sum, mode) => sum + specs.filter((spec) => measuredUnder(spec.variant, mode)).length, 0);
}

function cursor(tokens: readonly string[]): { feed: TokenFeed; served: () => number } {
  let served = 0;
  return { feed: { next: () => tokens[served++ % tokens.length]! }, served: () => served };
}

export class Matrix {
  /** Highest fresh-mode rate seen for a protected variant, per algorithm: sizes the next pools. */
  private readonly freshRate = new Map<Alg, number>();
  private readonly recorded: Sample[] = [];
  private quietWaitLeftMs: number;

  constructor(
    private readonly issuer: LocalIssuer,
    private readonly settings: RunSettings,
  ) {
    this.quietWaitLeftMs = settings.quietWaitBudgetSeconds * 1000;
  }

  get samples(): readonly Sample[] {
    return this.recorded;
  }

  /** One round over these (new) servers: a warm-up pass, not recorded, then the measured pass. */
  async round(round: number, servers: readonly RunningServer[]): Promise<void> {
    const ordered = round % 2 === 1 ? [...servers].reverse() : servers;
    for (const record of [false, true]) {
      const load = { durationSeconds: record ? this.settings.durationSeconds : this.settings.warmupSeconds, connections: this.settings.connections };
      for (const alg of this.settings.algs) {
        for (const mode of MODE_IDS) await this.block(round, record, alg, mode, ordered, load);
      }
    }
  }

  private async block(round: number, record: boolean, alg: Alg, mode: ModeId, all: readonly RunningServer[], load: LoadOptions): Promise<void> {
    const { kind, fresh, expect } = MODES[mode];
    const servers = all.filter((s) => s.spec.alg === alg && measuredUnder(s.spec.variant, mode));
    const settle = record ? this.settings.settleSeconds : 0;
    const size = fresh
      ? Math.ceil((this.freshRate.get(alg) ?? this.settings.freshRateGuess) * (settle + load.durationSeconds) * FRESH_POOL_MARGIN)
      : this.settings.poolSize;
    const tokens = this.issuer.pool(alg, kind, size, `r${round}-${record ? 'measure' : 'warm'}-${alg}-${mode}`);
    for (const server of servers) {
      const { feed, served } = fresh ? cursor(tokens) : { feed: { pool: tokens }, served: () => 0 };
      const quietWaitMs = record ? await awaitQuiet(Math.min(QUIET_WAIT_MAX_MS, this.quietWaitLeftMs)) : 0;
      this.quietWaitLeftMs -= quietWaitMs;
      // A server idle while the others were measured is not in the state steady load keeps it in.
      if (settle > 0) await measure(server, feed, { ...load, durationSeconds: settle });
      const result = await measure(server, feed, load);
      const { variant, adapter } = server.spec;
      const sample: Sample = {
        ...result,
        round,
        variant,
        adapter,
        alg,
        mode,
        unexpected: result.responses - (result.statusCounts[String(expect)] ?? 0),
        reusedTokens: Math.max(0, served() - tokens.length),
        quietWaitMs,
      };
      if (fresh && !isReference(variant)) {
        this.freshRate.set(alg, Math.max(this.freshRate.get(alg) ?? 0, result.requestsPerSecond));
      }
      if (record) this.recorded.push(sample);
      console.log(describe(sample, `${record ? 'round' : 'warm-up'} ${round}/${this.settings.rounds}`));
    }
  }
}

function formatUptime(): string {
  const seconds = Math.floor(process.uptime());
  return `[${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}]`;
}

function describe(sample: Sample, when: string): string {
  const flags = [
    sample.unexpected ? `${sample.unexpected} unexpected (${JSON.stringify(sample.statusCounts)})` : '',
    sample.reusedTokens && !isReference(sample.variant) ? `${sample.reusedTokens} reused tokens` : '',
    sample.errors ? `${sample.errors} errors` : '',
    sample.quietWaitMs > 1000 ? `waited ${(sample.quietWaitMs / 1000).toFixed(0)} s for other processes` : '',
    sample.foreignCpuShare > 0.1 ? `other processes used ${(sample.foreignCpuShare * 100).toFixed(0)} % of a core` : '',
    sample.stealShare > 0.1 ? `hypervisor steal ${(sample.stealShare * 100).toFixed(0)} % of a core` : '',
  ].filter(Boolean);
  return (
    `${formatUptime()} ${when.padEnd(13)} ${sample.alg} ${sample.mode.padEnd(13)} ${sample.adapter.padEnd(7)} ${sample.variant.padEnd(17)} ` +
    `${sample.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${sample.p50Ms.toFixed(2)} ms  p99 ${sample.p99Ms.toFixed(2)} ms  ` +
    `${sample.cpuMicrosPerRequest.toFixed(0)} µs CPU/req (${(sample.serverCpuShare * 100).toFixed(0)} % busy)${flags.length ? `  !! ${flags.join('; ')}` : ''}`
  );
}
