/**
 * Memory soak: nestjs-step-up (cache on, Express, ES256) at full load for N minutes with a mixed
 * workload, the server's heap sampled over IPC after a forced GC. Every fourth request carries a
 * token minted on the spot (so the token cache keeps churning); the rest cycle through small pools
 * of allowed, no-MFA (401) and no-scope (403) tokens, re-minted every minute to stay within max_age.
 */
import { type LocalIssuer, TOKEN_KINDS } from './issuer.local.js';
import { measure } from './load.autocannon.js';
import { environment, type HeapPoint, type SoakResults } from './results.store.js';
import { RunningServer } from './servers.pool.js';

const WARMUP_SECONDS = 20;
const SAMPLE_EVERY_MS = 30_000;
const REMINT_EVERY_MS = 60_000;
const POOL_SIZE = 10;
const MIB = 2 ** 20;
const CONNECTIONS = 10;
const WORKLOAD = `1/4 new allowed tokens minted per request, 1/4 each from pools of ${POOL_SIZE} allowed, no-MFA (401), no-scope (403) tokens`;

function mixedFeed(issuer: LocalIssuer): { next: () => string; sent: () => number; stop: () => void } {
  const mintPools = (): string[][] => TOKEN_KINDS.map((kind) => issuer.mintMany('ES256', kind, POOL_SIZE, `soak-${kind}-${Date.now()}`));
  let pools = mintPools();
  const remint = setInterval(() => (pools = mintPools()), REMINT_EVERY_MS);
  let sent = 0;
  return {
    next: () => {
      const slot = sent++ % 4;
      return slot === 3 ? issuer.mint('ES256', 'allowed', `soak-fresh-${sent}`) : pools[slot]![sent % POOL_SIZE]!;
    },
    sent: () => sent,
    stop: () => clearInterval(remint),
  };
}

export async function runSoak(minutes: number, issuer: LocalIssuer): Promise<SoakResults> {
  const startedAt = new Date().toISOString();
  const server = await RunningServer.start(
    { variant: 'stepup', adapter: 'express', alg: 'ES256', issuer: issuer.issuer, jwksUri: issuer.jwksUri },
    { nodeOptions: ['--expose-gc'] },
  );
  const feed = mixedFeed(issuer);
  try {
    console.log(`Warm-up ${WARMUP_SECONDS} s, then ${minutes} min at full load; heap sampled every ${SAMPLE_EVERY_MS / 1000} s.`);
    await measure(server, feed, { durationSeconds: WARMUP_SECONDS, connections: CONNECTIONS });
    const heap: HeapPoint[] = [];
    const start = Date.now();
    const firstRequest = feed.sent();
    const sample = async (): Promise<void> => {
      const usage = await server.memory();
      const point = {
        elapsedSeconds: Math.round((Date.now() - start) / 1000),
        heapUsedMiB: usage.heapUsed / MIB,
        rssMiB: usage.rss / MIB,
        requests: feed.sent() - firstRequest,
      };
      heap.push(point);
      console.log(`  ${String(point.elapsedSeconds).padStart(5)} s  heap ${point.heapUsedMiB.toFixed(1)} MiB  rss ${point.rssMiB.toFixed(1)} MiB  ${point.requests} requests`);
    };
    await sample();
    let periodic = Promise.resolve();
    const sampler = setInterval(() => (periodic = sample()), SAMPLE_EVERY_MS);
    const result = await measure(server, feed, { durationSeconds: minutes * 60, connections: CONNECTIONS }).finally(() => clearInterval(sampler));
    // A periodic sample may still be waiting for its answer, which the end sample's request would share.
    await periodic;
    // The end figure is taken after the load stops; it replaces a periodic sample taken moments before.
    if (heap.length > 1 && Date.now() - start - heap.at(-1)!.elapsedSeconds * 1000 < SAMPLE_EVERY_MS / 2) heap.pop();
    await sample();
    return {
      kind: 'soak',
      startedAt,
      finishedAt: new Date().toISOString(),
      minutes,
      workload: WORKLOAD,
      environment: environment(),
      requestsPerSecond: result.requestsPerSecond,
      statusCounts: result.statusCounts,
      heap,
    };
  } finally {
    feed.stop();
    await server.stop();
  }
}
