/**
 * Instructions per request, counted by valgrind's callgrind: a figure that neighbours on a shared
 * machine cannot disturb, for judging a change that throughput runs on a noisy VM cannot resolve.
 * Each server runs under callgrind and takes repeated tokens (cache on) until its code is optimised;
 * then the counters are dumped after each of several equal parts of load, every thread counted (the
 * compiler's and the GC's too). Compilation dies down over the first parts, and an occasional major GC
 * or recompilation only ever adds, so a process's figure is the least of its last three parts. A process
 * can also stay in a slower state for its whole life (V8 left one allow-all server at 120 000 per request
 * against its usual 87 000, adding properties through the runtime), so each variant runs in several
 * processes and the median of their figures is reported. Instructions
 * are not time (they leave out cache misses and the kernel's work), but their ratios between variants
 * agree with the throughput runs' on a quiet machine (see BENCHMARKS.md).
 * With a refused kind (`--tokens no-mfa`, `no-scope` or `anonymous`), the challenge path is counted against the refusal floor.
 * Run: `npm run bench:instructions -- [--adapters fastify] [--only stepup] [--baseline <dir>] [--tokens no-mfa]`.
 */
import autocannon from 'autocannon';
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { callgrindLauncher, dumpedInstructions } from './callgrind.shared.js';
import { LocalIssuer, REQUEST_KINDS, type RequestKind } from './issuer.local.js';
import { requestsFor } from './load.autocannon.js';
import { expectedStatus } from './matrix.rounds.js';
import { ADAPTERS, type Adapter, isReference, type ServerSpec, VARIANT_IDS, type VariantId } from './scenario.shared.js';
import { RunningServer } from './servers.pool.js';
import { parseBaselineDir, parseList, parseOne, parsePositive } from './settings.cli.js';
import { median } from './stats.math.js';
import { serverSpecs } from './variants.registry.js';

/** Variants counted beside the references; the baseline comes with --baseline. */
const COUNTABLE = VARIANT_IDS.filter((id) => !isReference(id) && id !== 'stepup-baseline');

const USAGE = `npm run bench:instructions -- [options]
  --adapters <list>   ${ADAPTERS.join(', ')} (default: both)
  --only <ids>        variants besides the references (default: stepup): ${COUNTABLE.join(', ')}
  --baseline <dir>    also count this build of the library (a copy of dist/) as stepup-baseline
  --tokens <kind>     ${REQUEST_KINDS.join(', ')} (default allowed). A refused kind counts the challenge
                      path against a guard that refuses all with one prebuilt exception (the refusal
                      floor) instead of against none and the allow-all guard
  --requests <n>      requests per counted part (default 4000)
  --processes <n>     server processes per variant, the median is reported (default 3)
  --keep-dumps <dir>  keep each server's callgrind dumps and V8 perf map under <dir>, to read with
                      callgrind_annotate and bench's callgrind.jit (which names the JIT-compiled code)`;

const WARMUP_PARTS = 3;
const COUNTED_PARTS = 5;
const POOL_SIZE = 10;
const CONNECTIONS = 4;
/**
 * V8 sizes the young generation by its own heuristics, differently in each process, and every scavenge
 * costs a fixed ~200 000 instructions for its roots: unpinned, the same server counted 84 000–92 000 per
 * request from one process to the next. Both semi-spaces at V8's largest default (16 MiB on 64 bits)
 * leave each request's allocations counted but that fixed cost nearly constant.
 */
const NODE_OPTIONS = ['--min-semi-space-size=16', '--max-semi-space-size=16'];

interface Count {
  readonly adapter: Adapter;
  readonly variant: VariantId;
  /** Instructions per request in each counted part, in order. */
  readonly parts: readonly number[];
  readonly perRequest: number;
}

function settings(argv: readonly string[]) {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      adapters: { type: 'string' },
      only: { type: 'string' },
      baseline: { type: 'string' },
      requests: { type: 'string' },
      tokens: { type: 'string' },
      processes: { type: 'string' },
      'keep-dumps': { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) {
    console.log(USAGE);
    process.exit(0);
  }
  const baselineDir = parseBaselineDir(values.baseline, USAGE);
  const requests = parsePositive(values.requests, 4000, '--requests', { integer: true, usage: USAGE });
  const processes = parsePositive(values.processes, 3, '--processes', { integer: true, usage: USAGE });
  const only = values.only === undefined ? ['stepup' as const] : parseList(values.only, COUNTABLE, '--only', USAGE);
  const tokens = parseOne(values.tokens ?? 'allowed', REQUEST_KINDS, '--tokens', USAGE);
  const references: VariantId[] = tokens === 'allowed' ? ['none', 'allow-all-guard'] : ['refuse-all-guard'];
  const variants = [...references, ...only, ...(baselineDir === undefined ? [] : (['stepup-baseline'] as const))];
  return { adapters: parseList(values.adapters, ADAPTERS, '--adapters', USAGE), variants, algs: ['ES256' as const], baselineDir, requests, processes, tokens, keepDumps: values['keep-dumps'] };
}

/**
 * Counts one server. Each part gets a pool minted just before it, sent once (outside the count) so that
 * the part itself only repeats verified tokens: the route's max_age (300 s) outlasts a part, not a run.
 */
async function count(spec: ServerSpec, issuer: LocalIssuer, tokens: RequestKind, requests: number, keepDumps?: string): Promise<Count> {
  const directory = mkdtempSync(join(keepDumps ?? tmpdir(), `${spec.adapter}-${spec.variant}-`));
  const file = join(directory, 'callgrind.out');
  const launcher = callgrindLauncher(file);
  // Every request of a part must get this answer, or the count is of something else.
  const expected = expectedStatus(spec.variant, tokens);
  // Unpinned: two servers sharing a core would each run at half speed, and work done per unit of time
  // (timers, idle-time GC) would then weigh twice as much per request.
  // callgrind names no JIT-compiled function; V8's perf map (/tmp/perf-<pid>.map) lets callgrind.jit.ts name them.
  // The flag also starts V8's own log, which would otherwise land in the working directory.
  const perfMap = ['--perf-basic-prof', `--logfile=${join(directory, 'v8.log')}`, '--no-logfile-per-isolate'];
  const nodeOptions = keepDumps === undefined ? NODE_OPTIONS : [...NODE_OPTIONS, ...perfMap];
  const server = await RunningServer.start(spec, { launcher, pinned: false, nodeOptions });
  const load = async (pool: readonly string[], amount: number, connections: number) => {
    // Under callgrind a first verification can outlast autocannon's default 10 s timeout.
    const result = await autocannon({ url: `http://127.0.0.1:${server.port}`, connections, amount, timeout: 120, requests: requestsFor({ pool }) });
    const answered = result.statusCodeStats?.[`${expected}`]?.count ?? 0;
    if (answered !== amount) throw new Error(`${spec.variant}/${spec.adapter}: ${answered} of ${amount} requests answered ${expected}`);
    execFileSync('callgrind_control', ['--dump', String(server.pid)], { stdio: 'ignore' });
  };
  const parts: number[] = [];
  try {
    for (let part = 1; part <= WARMUP_PARTS + COUNTED_PARTS; part++) {
      const pool = issuer.pool('ES256', tokens, POOL_SIZE, `callgrind-${spec.variant}-${spec.adapter}-${part}`);
      // One connection: autocannon walks the request list per connection, so with several, each would
      // send only the first few tokens here and the rest would be verified inside the counted part.
      await load(pool, POOL_SIZE, 1);
      await load(pool, requests, CONNECTIONS);
      if (part > WARMUP_PARTS) parts.push(dumpedInstructions(`${file}.${2 * part}`) / requests);
    }
  } finally {
    await server.stop();
    if (keepDumps === undefined) rmSync(directory, { recursive: true, force: true });
    else keepPerfMap(server.pid, directory);
  }
  return { adapter: spec.adapter, variant: spec.variant, parts, perRequest: Math.min(...parts.slice(-3)) };
}

/** Moves V8's perf map of a stopped server beside its dumps (V8 writes it to /tmp whatever TMPDIR says). */
function keepPerfMap(pid: number, directory: string): void {
  const map = `/tmp/perf-${pid}.map`;
  if (!existsSync(map)) return;
  copyFileSync(map, join(directory, 'perf.map'));
  rmSync(map);
}

/** Runs `tasks` with at most `limit` at a time, keeping their order in the result. */
async function pooled<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      results[index] = await tasks[index]!();
    }
  };
  await Promise.all(Array.from({ length: limit }, worker));
  return results;
}

async function main(): Promise<void> {
  const { requests, processes, tokens, keepDumps, ...selection } = settings(process.argv.slice(2));
  if (keepDumps !== undefined) mkdirSync(keepDumps, { recursive: true });
  const issuer = await LocalIssuer.start();
  try {
    const specs = serverSpecs(selection, issuer);
    const runs = Array.from({ length: processes }, () => specs).flat();
    console.log(`Counting ${runs.length} servers under callgrind, ${availableParallelism()} at a time (a few minutes each)...`);
    const counts = await pooled(runs.map((spec) => () => count(spec, issuer, tokens, requests, keepDumps)), availableParallelism());
    for (const adapter of selection.adapters) {
      const byVariant = selection.variants.map((variant) => {
        const own = counts.filter((entry) => entry.adapter === adapter && entry.variant === variant);
        return { variant, own, perRequest: median(own.map((entry) => entry.perRequest)) };
      });
      const reference = byVariant[0]!;
      const figure = (value: number) => Math.round(value).toLocaleString('en');
      console.log(`\n${adapter}: instructions per request (repeated ES256 tokens: ${tokens}), the median over ${processes} processes of each one's least of its last 3 of ${COUNTED_PARTS} parts of ${requests}`);
      console.log(`| Variant | Instructions | × ${reference.variant} (${reference.variant} ÷ variant) | Added to ${reference.variant} | Each process |`);
      console.log('| --- | ---: | ---: | ---: | --- |');
      for (const { variant, own, perRequest } of byVariant) {
        const each = own.map((entry) => figure(entry.perRequest)).join(', ');
        console.log(`| ${variant} | ${figure(perRequest)} | ${(reference.perRequest / perRequest).toFixed(3)} | ${figure(perRequest - reference.perRequest)} | ${each} |`);
      }
      console.log('\nCounted parts, per process:');
      for (const { variant, own } of byVariant) for (const entry of own) console.log(`- ${variant}: ${entry.parts.map(figure).join(', ')}`);
    }
  } finally {
    await issuer.close();
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
