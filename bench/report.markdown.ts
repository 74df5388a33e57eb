/**
 * Renders results into BENCHMARKS.md, between `<!-- bench:<section>:start -->` and `:end -->`
 * markers (sections: throughput, throughput-quick, soak), so the hand-written parts of the file stay
 * as they are and a quick run never replaces a full run's figures; also writes the chart
 * (bench/chart.svg, or bench/chart-quick.svg) and prints the rendered section. A narrowed run only prints.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { parseStepUpChallenge } from 'nestjs-step-up';
import { MODES, type ModeId } from './matrix.rounds.js';
import { ratioChart } from './report.chart.js';
import { type Row, summarize, targetChecks } from './report.summary.js';
import type { BehaviourCheck, Results, SoakResults, ThroughputResults } from './results.store.js';
import { ADAPTERS, ALGORITHMS, isReference, VARIANT_IDS, type VariantId } from './scenario.shared.js';
import { median } from './stats.math.js';
import { VARIANTS } from './variants.registry.js';

const REPORT = 'BENCHMARKS.md';
/** Below this server CPU share, the load generator (not the server) was the bottleneck. */
const SATURATED_SHARE = 0.9;
/** Above this share of a core used by other processes during a measurement, a figure is flagged. */
const FOREIGN_SHARE = 0.1;
/** A soak's heap is flat when its last sample is within this share of its first. */
const FLAT_HEAP_TOLERANCE = 0.1;

/** A Markdown table; `align` has one letter per column, `l` or `r`. */
const table = (header: readonly string[], align: string, rows: readonly (readonly string[])[]): string =>
  [
    `| ${header.join(' | ')} |`,
    `|${header.map((_, i) => (align[i] === 'r' ? ' ---: ' : ' --- ')).join('|')}|`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

const yesNo = (met: boolean): string => (met ? '✅ yes' : '❌ no');
const num = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : 'n/a');
const percent = (share: number): string => `${num(share * 100, 0)} %`;

function runLine(results: Results, what: string): string {
  const { environment: env } = results;
  return (
    `_${what}, ${results.startedAt.slice(0, 16).replace('T', ' ')} UTC. ${env.machine}; Node ${env.node}; ` +
    `${Object.entries(env.versions).map(([name, version]) => `${name} ${version}`).join(', ')}._`
  );
}

function notes(row: Row): string {
  return [
    row.foreignCpuShare > FOREIGN_SHARE ? `⚠ other processes used ${percent(row.foreignCpuShare)} of a core` : '',
    row.serverCpuShare < SATURATED_SHARE ? `server ${percent(row.serverCpuShare)} busy` : '',
    row.unexpected ? `⚠ ${row.unexpected} unexpected statuses` : '',
    row.reusedTokens ? `⚠ ${row.reusedTokens} requests reused a token` : '',
  ].filter(Boolean).join('; ');
}

function throughputTables(rows: readonly Row[]): string[] {
  const sections: string[] = [];
  for (const adapter of ADAPTERS) {
    for (const alg of ALGORITHMS) {
      const group = rows.filter((r) => r.adapter === adapter && r.alg === alg);
      if (!group.length) continue;
      const ordered = (Object.keys(MODES) as ModeId[]).flatMap((mode) =>
        VARIANT_IDS.flatMap((variant) => group.filter((r) => r.mode === mode && r.variant === variant)),
      );
      sections.push(
        `#### ${adapter === 'express' ? 'Express' : 'Fastify'} · ${alg}`,
        table(
          ['Variant', 'Tokens', 'req/s', '× none', '× allowed', 'p50 ms', 'p99 ms', 'CPU µs/req', 'Notes'],
          'llrrrrrrl',
          ordered.map((r) => [
            VARIANTS[r.variant].label,
            MODES[r.mode].label,
            num(r.requestsPerSecond, 0),
            num(r.ratioToNone, 2),
            r.ratioToAllowed === undefined ? '' : num(r.ratioToAllowed, 2),
            num(r.p50Ms, 2),
            num(r.p99Ms, 2),
            num(r.cpuMicrosPerRequest, 0),
            notes(r),
          ]),
        ),
      );
    }
  }
  return sections;
}

function checkCell(checks: readonly BehaviourCheck[], mode: ModeId): string {
  const check = checks.find((c) => c.mode === mode);
  if (!check) return '';
  const error = check.challenge ? (parseStepUpChallenge(check.challenge)?.error ?? 'Bearer, no error') : 'no WWW-Authenticate';
  return check.status === 200 ? '200' : `${check.status} · ${error}`;
}

function behaviourTable(checks: readonly BehaviourCheck[]): string {
  const es256 = checks.filter((c) => c.server.alg === 'ES256' && !isReference(c.server.variant));
  const servers = [...new Set(es256.map((c) => `${c.server.variant}|${c.server.adapter}`))];
  return table(
    ['Variant', 'Adapter', 'MFA + scope', 'no MFA', 'no scope', 'no token'],
    'llllll',
    servers.map((key) => {
      const own = es256.filter((c) => `${c.server.variant}|${c.server.adapter}` === key);
      const { variant, adapter } = own[0]!.server;
      return [VARIANTS[variant].label, adapter, checkCell(own, 'repeated'), checkCell(own, 'challenge-401'), checkCell(own, 'challenge-403'), checkCell(own, 'challenge-anonymous')];
    }),
  );
}

interface Reference {
  readonly variant: VariantId;
  readonly ratio: (row: Row) => number | undefined;
  readonly unit: string;
  readonly sentence: (figures: string) => string;
}

/** The references that frame every ratio: the run's own noise, and what any guard or refusal costs in Nest. */
const REFERENCE_LINES: readonly Reference[] = [
  {
    variant: 'none-control',
    ratio: (r) => r.ratioToNone,
    unit: 'none',
    sentence: (figures) =>
      `**A/A control**: a second, identical unprotected server measured ${figures}. A ratio differs from 1.00 by ` +
      'this much with no library in the way, so two rows closer than that cannot be told apart by this run.',
  },
  {
    variant: 'allow-all-guard',
    ratio: (r) => r.ratioToNone,
    unit: 'none',
    sentence: (figures) =>
      `**Guard floor**: the route behind a global guard whose \`canActivate\` only returns \`true\` measured ${figures}. ` +
      'Nest runs a guarded route through its guard pipeline (an execution context and an `await`), so no guard, ' +
      'however little its own work, keeps more than this.',
  },
  {
    variant: 'refuse-all-guard',
    ratio: (r) => r.ratioToAllowed,
    unit: "nestjs-step-up's allowed path",
    sentence: (figures) =>
      `**Refusal floor**: a global guard that refuses with one prebuilt \`StepUpRequiredException\`, answered by the library's filter, measured ${figures}. ` +
      'That is the cost of refusing through Nest\'s exception flow with the standard answer (challenge header, problem+json body) ' +
      'and nothing else, so no challenge row can be faster than this by more than the noise.',
  },
];

function referenceLines(rows: readonly Row[]): string[] {
  return REFERENCE_LINES.flatMap(({ variant, ratio, unit, sentence }) => {
    const figures = rows
      .filter((r) => r.variant === variant)
      .map((r) => `${num(ratio(r) ?? Number.NaN, 2)} × ${unit} (${r.adapter} ${r.alg})`)
      .join(', ');
    return figures ? [sentence(figures), ''] : [];
  });
}

function baselineLines(rows: readonly Row[]): string[] {
  const figures = rows
    .filter((r) => !Number.isNaN(r.ratioToBaseline))
    .map((r) => `${num(r.ratioToBaseline, 2)} × (${r.adapter} ${r.alg}, ${MODES[r.mode].label})`)
    .join(', ');
  return figures ? [`**Against the baseline build** (\`--baseline\`), in the same rounds: nestjs-step-up measured ${figures}.`, ''] : [];
}

function throughputSection(results: ThroughputResults, rows: readonly Row[]): string {
  const { settings } = results;
  const foreign = results.samples.map((s) => s.foreignCpuShare);
  const steal = results.samples.map((s) => s.stealShare);
  const chart = chartPath(settings.quick);
  const mode = settings.quick
    ? '**Quick-mode figures** (`npm run bench:quick`): short measurements, for development only; use a full run for decisions.'
    : '**Full run** (`npm run bench`).';
  return [
    mode,
    '',
    runLine(results, 'Measured'),
    '',
    `${settings.rounds} interleaved rounds, each with new server processes warmed up by ${settings.warmupSeconds} s of unrecorded load per mode; ` +
      `${settings.durationSeconds} s per measurement${settings.settleSeconds ? `, each preceded by ${settings.settleSeconds} s of unrecorded load` : ''}; ` +
      `${settings.connections} connections, repeated pools of ${settings.poolSize} tokens. ` +
      'Figures are medians over rounds. Ratios are taken within each round, then averaged (geometric mean) over each two consecutive rounds, whose server order is reversed, then the median of those. ' +
      `During a measurement, other processes used a median ${percent(median(foreign))} of a core ` +
      `(highest ${percent(Math.max(...foreign))}) and the hypervisor took a median ${percent(median(steal))} (steal).`,
    '',
    '### Targets',
    '',
    table(
      ['Target', 'Where', 'Measured', 'Met', 'From server CPU/req'],
      'llrlr',
      targetChecks(results.samples, rows, results.micro).map((c) => [c.target, c.where, c.measured, yesNo(c.met), c.cpuBased]),
    ),
    '',
    '_Met_ is judged on throughput, as the issue states the targets. The last column gives the same ratio ' +
      'from server CPU time per request, which the load generator and other processes disturb less.',
    '',
    ...referenceLines(rows),
    ...baselineLines(rows),
    'The memory target is measured by the soak (see [Memory](#memory)).',
    '',
    '### Throughput',
    '',
    `![Throughput as a share of the unprotected endpoint](${chart})`,
    '',
    ...throughputTables(rows).flatMap((block) => [block, '']),
    '### Policy core and challenge path (micro-benchmark)',
    '',
    table(['Operation', 'ns/op'], 'lr', results.micro.map((m) => [m.name, num(m.nsPerOp, 0)])),
    '',
    '### What each variant answers (ES256, one request each)',
    '',
    behaviourTable(results.checks),
  ].join('\n');
}

function soakSection(results: SoakResults): string {
  const first = results.heap[0];
  const last = results.heap.at(-1);
  const flat = first && last ? last.heapUsedMiB <= first.heapUsedMiB * (1 + FLAT_HEAP_TOLERANCE) : false;
  return [
    runLine(results, `Soak of ${results.minutes} min`),
    '',
    `nestjs-step-up (cache on), Express, ES256, full load (10 connections): ${num(results.requestsPerSecond, 0)} req/s. ` +
      `Workload: ${results.workload}. Statuses: ${JSON.stringify(results.statusCounts)}.`,
    '',
    `Heap used after a forced GC: **${num(first?.heapUsedMiB ?? NaN, 1)} MiB at the start, ${num(last?.heapUsedMiB ?? NaN, 1)} MiB at the end** ` +
      `— flat (end within ${FLAT_HEAP_TOLERANCE * 100} % of start): ${yesNo(flat)}.`,
    '',
    table(
      ['Elapsed s', 'Heap used MiB', 'RSS MiB', 'Requests'],
      'rrrr',
      results.heap.map((p) => [String(p.elapsedSeconds), num(p.heapUsedMiB, 1), num(p.rssMiB, 1), String(p.requests)]),
    ),
  ].join('\n');
}

const chartPath = (quick: boolean): string => (quick ? 'bench/chart-quick.svg' : 'bench/chart.svg');

function sectionOf(results: Results): string {
  if (results.kind === 'soak') return 'soak';
  return results.settings.quick ? 'throughput-quick' : 'throughput';
}

/** Prints the results' section and, unless told not to, writes it into BENCHMARKS.md (and the chart). */
export function renderReport(results: Results, { write = true } = {}): void {
  const rows = results.kind === 'throughput' ? summarize(results.samples) : [];
  const body = results.kind === 'throughput' ? throughputSection(results, rows) : soakSection(results);
  if (!write) {
    console.log(`\n${body}\n\nA narrowed run: ${REPORT} left as it is.`);
    return;
  }
  if (results.kind === 'throughput') writeFileSync(chartPath(results.settings.quick), ratioChart(rows));
  const section = sectionOf(results);
  const start = `<!-- bench:${section}:start -->`;
  const end = `<!-- bench:${section}:end -->`;
  const block = `${start}\n${body}\n${end}`;
  const current = existsSync(REPORT) ? readFileSync(REPORT, 'utf8') : '';
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from ? current.slice(0, from) + block + current.slice(to + end.length) : `${current}\n${block}\n`;
  writeFileSync(REPORT, next);
  const chart = results.kind === 'throughput' ? ` and ${chartPath(results.settings.quick)}` : '';
  console.log(`\n${body}\n\nWritten to ${REPORT}${chart}.`);
}
