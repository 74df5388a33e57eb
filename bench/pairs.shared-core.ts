/**
 * Two servers under load at the same time, sharing the server core: a side-by-side comparison that a
 * noisy VM disturbs far less than the throughput run, whose servers take turns. There, a neighbour's
 * burst lands on whichever server is being measured; here both meet it in the same milliseconds, as the
 * scheduler switches between them every few requests. Each round starts both servers anew, loads them
 * together (one autocannon each, a pool of repeated tokens of the kind named for that server), and
 * compares the server CPU time each spent per request; the figure is the median over rounds of the
 * reference's CPU per request over the variant's, read as a throughput ratio (below 1, the variant costs
 * more). Naming the same server with two token kinds compares its challenge path with its allowed path.
 * The regime is not the throughput run's: every switch evicts the other server's code and data from the
 * core's caches, so a variant pays more for what it touches than when it runs alone. Read its ratios
 * side by side with the A/A pair (`--pair none,none-control`) of the same session, not against the
 * targets. Run: `npm run bench:pairs -- --pair none,stepup [--adapter express] [--baseline <dir>]`, or
 * `--pair stepup,stepup:no-mfa` for the challenge path.
 */
import { parseArgs } from 'node:util';
import { LocalIssuer, REQUEST_KINDS, type RequestKind } from './issuer.local.js';
import { type Measurement, measure } from './load.autocannon.js';
import { expectedStatus } from './matrix.rounds.js';
import { ADAPTERS, ALGORITHMS, VARIANT_IDS, type VariantId } from './scenario.shared.js';
import { pinOrchestrator, RunningServer } from './servers.pool.js';
import { parseBaselineDir, parseOne, parsePositive } from './settings.cli.js';
import { median, quantile } from './stats.math.js';
import { serverSpecs } from './variants.registry.js';

const USAGE = `npm run bench:pairs -- [options]
  --pair <a,b>        the reference, then the variant compared with it (default none,stepup): ${VARIANT_IDS.join(', ')};
                      each may name its tokens as variant:kind, kind one of ${REQUEST_KINDS.join(', ')} (default allowed)
  --adapter <name>    ${ADAPTERS.join(' or ')} (default fastify)
  --alg <name>        ${ALGORITHMS.join(' or ')} (default ES256)
  --baseline <dir>    the build of the library (a copy of dist/) that stepup-baseline serves
  --rounds <n>        rounds, each with two new server processes (default 10)
  --duration <s>      seconds of load measured per round (default 4), after 2 s unrecorded
  --connections <n>   autocannon connections per server (default 5)`;

const WARMUP_SECONDS = 2;
const POOL_SIZE = 10;

interface Side {
  readonly variant: VariantId;
  readonly tokens: RequestKind;
  readonly label: string;
}

function settings(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      pair: { type: 'string', default: 'none,stepup' },
      adapter: { type: 'string', default: 'fastify' },
      alg: { type: 'string', default: 'ES256' },
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
  const sides = values.pair.split(',').map((side): Side => {
    const [variant = '', tokens = 'allowed'] = side.trim().split(':');
    return {
      variant: parseOne(variant, VARIANT_IDS, '--pair', USAGE),
      tokens: parseOne(tokens, REQUEST_KINDS, '--pair', USAGE),
      label: tokens === 'allowed' ? variant : `${variant} (${tokens})`,
    };
  });
  if (sides.length !== 2) throw new Error(`--pair takes two variants, the reference first\n\n${USAGE}`);
  const pair = sides as [Side, Side];
  const baselineDir = parseBaselineDir(values.baseline, USAGE);
  if (pair.some((side) => side.variant === 'stepup-baseline') && baselineDir === undefined) throw new Error(`stepup-baseline needs --baseline <dir>\n\n${USAGE}`);
  return {
    pair,
    adapter: parseOne(values.adapter, ADAPTERS, '--adapter', USAGE),
    alg: parseOne(values.alg, ALGORITHMS, '--alg', USAGE),
    baselineDir,
    rounds: parsePositive(values.rounds, 10, '--rounds', { integer: true, usage: USAGE }),
    durationSeconds: parsePositive(values.duration, 4, '--duration', { usage: USAGE }),
    connections: parsePositive(values.connections, 5, '--connections', { integer: true, usage: USAGE }),
  };
}

async function main(): Promise<void> {
  const { pair, adapter, alg, baselineDir, rounds, durationSeconds, connections } = settings(process.argv.slice(2));
  pinOrchestrator();
  const issuer = await LocalIssuer.start();
  const perRound: (readonly [Measurement, Measurement])[] = [];
  const [reference, compared] = pair.map((side) => side.label);
  try {
    const specs = pair.map(({ variant }) => serverSpecs({ variants: [variant], adapters: [adapter], algs: [alg], baselineDir }, issuer)[0]!);
    console.log(`${compared} beside ${reference} on ${adapter} (${alg}), both on one core: ${rounds} rounds of ${durationSeconds} s`);
    for (let round = 1; round <= rounds; round++) {
      const pools = pair.map(({ tokens }, index) => issuer.pool(alg, tokens, POOL_SIZE, `pairs-${round}-${index}`));
      const servers = await RunningServer.startAll(specs, {});
      try {
        // Each round starts the other server's load first.
        const order = round % 2 === 0 ? [1, 0] : [0, 1];
        const together = async (seconds: number) => {
          const results = await Promise.all(order.map((index) => measure(servers[index]!, { pool: pools[index]! }, { durationSeconds: seconds, connections })));
          return [results[order.indexOf(0)]!, results[order.indexOf(1)]!] as const;
        };
        await together(WARMUP_SECONDS);
        const results = await together(durationSeconds);
        results.forEach((result, index) => {
          const { variant, tokens, label } = pair[index]!;
          const expected = expectedStatus(variant, tokens);
          const answered = result.statusCounts[String(expected)] ?? 0;
          if (answered !== result.responses || result.errors > 0) {
            throw new Error(`${label}: ${result.responses - answered} of ${result.responses} responses not ${expected}, ${result.errors} errors`);
          }
        });
        perRound.push(results);
        const steal = Math.max(...results.map((result) => result.stealShare));
        const [referenceMicros, comparedMicros] = results.map((result) => result.cpuMicrosPerRequest) as [number, number];
        console.log(
          `round ${round}/${rounds}: ${reference} ${referenceMicros.toFixed(1)} µs/req, ${compared} ${comparedMicros.toFixed(1)} µs/req, ` +
            `ratio ${(referenceMicros / comparedMicros).toFixed(3)}` +
            (steal > 0.1 ? ` (steal ${(steal * 100).toFixed(0)} % of a core)` : ''),
        );
      } finally {
        await RunningServer.stopAll(servers);
      }
    }
  } finally {
    await issuer.close();
  }
  const ratios = perRound.map(([ofReference, ofCompared]) => ofReference.cpuMicrosPerRequest / ofCompared.cpuMicrosPerRequest).sort((a, b) => a - b);
  const micros = (index: 0 | 1) => median(perRound.map((results) => results[index].cpuMicrosPerRequest)).toFixed(1);
  const range = (low: number, high: number) => `${low.toFixed(3)}–${high.toFixed(3)}`;
  console.log(`\n| Pair (${adapter}, ${alg}, ${rounds} rounds) | ${reference} CPU µs/req | ${compared} CPU µs/req | ${reference} ÷ ${compared} | Quartiles | Range |`);
  console.log('| --- | ---: | ---: | ---: | --- | --- |');
  console.log(
    `| ${compared} beside ${reference} | ${micros(0)} | ${micros(1)} | **${median(ratios).toFixed(3)}** | ` +
      `${range(quantile(ratios, 0.25), quantile(ratios, 0.75))} | ${range(ratios[0]!, ratios.at(-1)!)} |`,
  );
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
