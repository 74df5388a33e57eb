/**
 * The throughput run: the micro-benchmark, then rounds. Every round starts a new process for every
 * server: identical Nest processes were seen to differ by 10–25 % in CPU per request for their whole
 * life, so one process per variant would make its luck the result; the median over rounds is then
 * a median over processes. The first round's servers are also checked for the answers they give.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { LocalIssuer } from './issuer.local.js';
import { bearer } from './load.autocannon.js';
import { Matrix, measurementsPerRound, MODES, type ModeId } from './matrix.rounds.js';
import { type BehaviourCheck, environment, type MicroResult, type ThroughputResults } from './results.store.js';
import { ROUTE } from './scenario.shared.js';
import { RunningServer, SERVER_CORE } from './servers.pool.js';
import type { RunSettings } from './settings.cli.js';
import { serverSpecs } from './variants.registry.js';

const MICRO_ENTRY = fileURLToPath(new URL('./micro.policy.js', import.meta.url));

async function runMicro(): Promise<MicroResult[]> {
  const { stdout } = await promisify(execFile)('taskset', ['-c', String(SERVER_CORE), process.execPath, MICRO_ENTRY]);
  return (JSON.parse(stdout) as { results: MicroResult[] }).results;
}

async function check(server: RunningServer, issuer: LocalIssuer): Promise<BehaviourCheck[]> {
  const modes = (Object.keys(MODES) as ModeId[]).filter((mode) => mode !== 'fresh');
  return Promise.all(
    modes.map(async (mode) => {
      const [token] = issuer.pool(server.spec.alg, MODES[mode].kind, 1, `check-${mode}`);
      const response = await fetch(`http://127.0.0.1:${server.port}${ROUTE}`, { headers: bearer(token!) });
      await response.arrayBuffer();
      return { server: server.spec, mode, status: response.status, challenge: response.headers.get('www-authenticate') };
    }),
  );
}

export async function runThroughput(settings: RunSettings, issuer: LocalIssuer): Promise<ThroughputResults> {
  const startedAt = new Date().toISOString();
  console.log('Micro-benchmark of the policy core and the challenge path…');
  const micro = await runMicro();
  for (const { name, nsPerOp } of micro) console.log(`  ${name.padEnd(40)} ${nsPerOp.toFixed(0).padStart(6)} ns/op`);

  const specs = serverSpecs(settings, issuer);
  const perRound = measurementsPerRound(specs);
  const seconds = perRound * (settings.warmupSeconds + settings.settleSeconds + settings.durationSeconds);
  console.log(`${specs.length} servers, new processes each round; ${perRound} measurements per round, ${settings.rounds} rounds: about ${((settings.rounds * seconds) / 60).toFixed(1)} min of load`);
  const matrix = new Matrix(issuer, settings);
  let checks: BehaviourCheck[] = [];
  for (let round = 1; round <= settings.rounds; round++) {
    const servers = await RunningServer.startAll(specs, {});
    try {
      if (round === 1) checks = (await Promise.all(servers.map((server) => check(server, issuer)))).flat();
      await matrix.round(round, servers);
    } finally {
      await RunningServer.stopAll(servers);
    }
  }
  return { kind: 'throughput', startedAt, finishedAt: new Date().toISOString(), settings, environment: environment(), micro, checks, samples: matrix.samples };
}
