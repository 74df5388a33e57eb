/** One load measurement with autocannon against one server process, with its CPU cost. */
import autocannon from 'autocannon';
import { type CoreTimes, coreTimes, processCpuMicros } from './cpu.proc.js';
import { NO_TOKEN } from './issuer.local.js';
import { ROUTE } from './scenario.shared.js';
import { quantile } from './stats.math.js';

/** Where the bearer tokens come from: a small pool sent over and over, or a new token per request. */
export type TokenFeed = { readonly pool: readonly string[] } | { readonly next: () => string };

export interface LoadTarget {
  readonly port: number;
  readonly pid: number;
}

/** The orchestrator's core and the servers' core. */
const CORES = [0, 1];
const machineTimes = (): CoreTimes =>
  CORES.map(coreTimes).reduce((sum, times) => ({ processes: sum.processes + times.processes, steal: sum.steal + times.steal }));
const ownMicros = (): number => {
  const { user, system } = process.cpuUsage();
  return user + system;
};

export interface LoadOptions {
  readonly durationSeconds: number;
  readonly connections: number;
}

export interface Measurement {
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuMicrosPerRequest: number;
  /** Server CPU time over wall time: well below 1 means the server was not the bottleneck. */
  readonly serverCpuShare: number;
  /** CPU time of both cores used by processes other than the server and the load generator, over wall time. */
  readonly foreignCpuShare: number;
  /** CPU time of both cores the hypervisor gave to other guests, over wall time. */
  readonly stealShare: number;
  readonly responses: number;
  readonly statusCounts: Readonly<Record<string, number>>;
  readonly errors: number;
}

/** The request headers that send a token ({@link NO_TOKEN}: none). */
export function bearer(token: string): Record<string, string> {
  return token === NO_TOKEN ? {} : { authorization: `Bearer ${token}` };
}

export function requestsFor(feed: TokenFeed): autocannon.Request[] {
  if ('pool' in feed) return feed.pool.map((token) => ({ method: 'GET', path: ROUTE, headers: bearer(token) }));
  return [{ method: 'GET', path: ROUTE, setupRequest: (request) => ({ ...request, headers: bearer(feed.next()) }) }];
}

const QUIET_PROBE_MS = 150;
const QUIET_SHARE = 0.2;

/**
 * Waits, at most `maxWaitMs`, until other processes use less than a fifth of a core, so that a
 * colleague's test run does not land in a measurement. Returns how long it waited.
 */
export async function awaitQuiet(maxWaitMs: number): Promise<number> {
  const started = Date.now();
  for (;;) {
    const waited = Date.now() - started;
    if (waited >= maxWaitMs) return waited;
    const before = machineTimes().processes;
    const ownBefore = ownMicros();
    await new Promise((resolve) => setTimeout(resolve, QUIET_PROBE_MS));
    const others = machineTimes().processes - before - (ownMicros() - ownBefore);
    if (others / (QUIET_PROBE_MS * 1000) < QUIET_SHARE) return Date.now() - started;
  }
}

export async function measure(target: LoadTarget, feed: TokenFeed, options: LoadOptions): Promise<Measurement> {
  const latencies: number[] = [];
  const cpuBefore = processCpuMicros(target.pid);
  const machineBefore = machineTimes();
  const ownBefore = ownMicros();
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: `http://127.0.0.1:${target.port}`,
        connections: options.connections,
        duration: options.durationSeconds,
        // autocannon checks for the end of the run every sampleInt ms (default 1000).
        sampleInt: 100,
        requests: requestsFor(feed),
      },
      (error: unknown, done) => (error ? reject(error) : resolve(done)),
    );
    instance.on('response', (_client, _status, _bytes, responseTime) => latencies.push(responseTime));
  });
  const cpuUsed = processCpuMicros(target.pid) - cpuBefore;
  const machineAfter = machineTimes();
  const othersUsed = machineAfter.processes - machineBefore.processes - cpuUsed - (ownMicros() - ownBefore);
  const wallMicros = result.duration * 1e6;
  const statusCounts = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([status, { count }]) => [status, count ?? 0]),
  );
  const responses = latencies.length;
  latencies.sort((a, b) => a - b);
  return {
    requestsPerSecond: responses / result.duration,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    cpuMicrosPerRequest: responses ? cpuUsed / responses : Number.NaN,
    serverCpuShare: cpuUsed / wallMicros,
    foreignCpuShare: Math.max(0, othersUsed) / wallMicros,
    stealShare: (machineAfter.steal - machineBefore.steal) / wallMicros,
    responses,
    statusCounts,
    errors: result.errors,
  };
}
