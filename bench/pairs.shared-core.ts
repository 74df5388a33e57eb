/**
 * Two servers under load at the same time, sharing the server core: a side-by-side comparison that a
 * noisy VM disturbs far less than the throughput run, whose servers take turns. There, a neighbour's
 * burst lands on whichever server is being measured; here both meet it in the same milliseconds, as the
 * scheduler switches between them every few requests. Each round starts both servers anew, loads them
 * together (one autocannon each, repeated ES256 tokens that every variant answers 200), and compares the
 * server CPU time each spent per request; the figure is the median over rounds of reference ÷ variant.
 * The regime is not the throughput run's: every switch evicts the other server's code and data from the
 * core's caches, so a variant pays more for what it touches than when it runs alone. Read its ratios
 * side by side with the A/A pair (`--pair none,none-control`) of the same session, not against the
 * targets. Run: `npm run bench:pairs -- --pair none,stepup [--adapter express] [--baseline <dir>]`.
 */
import { parseArgs } from 'node:util';
import { LocalIssuer } from './issuer.local.js';
import { type Measurement, measure } from './load.autocannon.js';
import { MODES } from './matrix.rounds.js';
import { ADAPTERS, VARIANT_IDS, type VariantId } from './scenario.shared.js';
import { pinOrchestrator, RunningServer } from './servers.pool.js';
import { parseBaselineDir, parseList, parsePositive } from './settings.cli.js';
import { median, quantile } from './stats.math.js';
import { serverSpecs } from './variants.registry.js';

const USAGE = `npm run bench:pairs -- [options]
  --pair <a,b>        the reference, then the variant compared with it (default none,stepup): ${VARIANT_IDS.join(', ')}
  --adapter <name>    ${ADAPTERS.join(' or ')} (default fastify)
  --baseline <dir>    the build of the library (a copy of dist/) that stepup-baseline serves
  --rounds <n>        rounds, each with two new server processes (default 10)
  --duration <s>      seconds of load measured per round (default 4), after 2 s unrecorded
  --connections <n>   autocannon connections per server (default 5)`;

const WARMUP_SECONDS = 2;
const POOL_SIZE = 10;
const EXPECTED = MODES.repeated.expect;

function settings(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      pair: { type: 'string', default: 'none,stepup' },
      adapter: { type: 'string', default: 'fastify' },
      baseline: { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      connections: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const named = values.pair.split(',').map((id) => id.trim());
  parseList(values.pair, VARIANT_IDS, '--pair', USAGE);
  if (named.length !== 2) throw new Error(`--pair takes two variants, the reference first\n\n${USAGE}`);
  const pair = named as [VariantId, VariantId];
  const [adapter, ...more] = parseList(values.adapter, ADAPTERS, '--adapter', USAGE);
  if (adapter === undefined || more.length > 0) throw new Error(`--adapter takes one adapter\n\n${USAGE}`);
  const baselineDir = parseBaselineDir(values.baseline, USAGE);
  if (pair.includes('stepup-baseline') && baselineDir === undefined) throw new Error(`stepup-baseline needs --baseline <dir>\n\n${USAGE}`);
  return {
    pair,
    adapter,
    baselineDir,
    rounds: parsePositive(values.rounds, 10, '--rounds', { integer: true, usage: USAGE }),
    durationSeconds: parsePositive(values.duration, 4, '--duration', { usage: USAGE }),
    connections: parsePositive(values.connections, 5, '--connections', { integer: true, usage: USAGE }),
  };
}

async function main(): Promise<void> {
  const { pair, adapter, baselineDir, rounds, durationSeconds, connections } = settings(process.argv.slice(2));
  pinOrchestrator();
  const issuer = await LocalIssuer.start();
  const perRound: { reference: Measurement; variant: Measurement }[] = [];
  try {
    // serverSpecs lists variants in its own order; the pair's order is the user's.
    const specs = pair.map((variant) => serverSpecs({ variants: [variant], adapters: [adapter], algs: ['ES256'], baselineDir }, issuer)[0]!);
    console.log(`${pair[1]} beside ${pair[0]} on ${adapter}, both on one core: ${rounds} rounds of ${durationSeconds} s`);
    for (let round = 1; round <= rounds; round++) {
      const pool = issuer.mintMany('ES256', 'allowed', POOL_SIZE, `pairs-${round}`);
      const servers = await RunningServer.startAll(specs, {});
      try {
        // Each round starts the other server's load first.
        const order = round % 2 === 0 ? [...servers].reverse() : servers;
        const together = (seconds: number) => Promise.all(order.map((server) => measure(server, { pool }, { durationSeconds: seconds, connections })));
        await together(WARMUP_SECONDS);
        const results = await together(durationSeconds);
        const [reference, variant] = servers.map((server) => results[order.indexOf(server)]!);
        for (const [index, result] of [reference!, variant!].entries()) {
          const answered = result.statusCounts[String(EXPECTED)] ?? 0;
          if (answered !== result.responses || result.errors > 0) {
            throw new Error(`${pair[index]}: ${result.responses - answered} of ${result.responses} responses not ${EXPECTED}, ${result.errors} errors`);
          }
        }
        perRound.push({ reference: reference!, variant: variant! });
        const steal = Math.max(reference!.stealShare, variant!.stealShare);
        console.log(
          `round ${round}/${rounds}: ${pair[0]} ${reference!.cpuMicrosPerRequest.toFixed(1)} µs/req, ${pair[1]} ${variant!.cpuMicrosPerRequest.toFixed(1)} µs/req, ` +
            `ratio ${(reference!.cpuMicrosPerRequest / variant!.cpuMicrosPerRequest).toFixed(3)}${steal > 0.1 ? ` (steal ${(steal * 100).toFixed(0)} % of a core)` : ''}`,
        );
      } finally {
        await RunningServer.stopAll(servers);
      }
    }
  } finally {
    await issuer.close();
  }
  const ratios = perRound.map(({ reference, variant }) => reference.cpuMicrosPerRequest / variant.cpuMicrosPerRequest).sort((a, b) => a - b);
  const micros = (pick: 'reference' | 'variant') => median(perRound.map((round) => round[pick].cpuMicrosPerRequest)).toFixed(1);
  console.log(`\n| Pair (${adapter}, ES256, ${rounds} rounds) | ${pair[0]} CPU µs/req | ${pair[1]} CPU µs/req | ${pair[0]} ÷ ${pair[1]} | Quartiles | Range |`);
  console.log('| --- | ---: | ---: | ---: | --- | --- |');
  const range = (low: number, high: number) => `${low.toFixed(3)}–${high.toFixed(3)}`;
  console.log(
    `| ${pair[1]} beside ${pair[0]} | ${micros('reference')} | ${micros('variant')} | **${median(ratios).toFixed(3)}** | ` +
      `${range(quantile(ratios, 0.25), quantile(ratios, 0.75))} | ${range(ratios[0]!, ratios.at(-1)!)} |`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
