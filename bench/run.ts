/**
 * `npm run bench`: pins itself to core 0 (servers go on core 1), starts the local issuer, then runs
 * the throughput matrix or, with --soak-minutes, the memory soak; saves the results and renders
 * BENCHMARKS.md. `--render <file>` only re-renders from a saved results file.
 */
import { availableParallelism } from 'node:os';
import { LocalIssuer } from './issuer.local.js';
import { renderReport } from './report.markdown.js';
import { loadResults, saveResults } from './results.store.js';
import { parseSettings } from './settings.cli.js';
import { pinOrchestrator } from './servers.pool.js';
import { runSoak } from './soak.memory.js';
import { runThroughput } from './throughput.run.js';

async function main(): Promise<void> {
  const settings = parseSettings(process.argv.slice(2));
  if (settings.renderFrom) {
    renderReport(loadResults(settings.renderFrom));
    return;
  }
  if (availableParallelism() < 2) console.warn('Fewer than 2 cores: the load generator and the servers will share one.');
  pinOrchestrator();
  const issuer = await LocalIssuer.start();
  try {
    const results = settings.soakMinutes === undefined ? await runThroughput(settings, issuer) : await runSoak(settings.soakMinutes, issuer);
    console.log(`Results: ${saveResults(results)}`);
    renderReport(results, { write: settings.soakMinutes !== undefined || !settings.narrowed });
  } finally {
    await issuer.close();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
