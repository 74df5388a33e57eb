/** What the two callgrind tools share: how a process is put under callgrind, and how a dump is read. */
import { readFileSync } from 'node:fs';

/** valgrind's callgrind in front of a command; its dumps go to `outFile.1`, `outFile.2`, … */
export function callgrindLauncher(outFile: string): string[] {
  return ['valgrind', '--tool=callgrind', '--smc-check=all-non-file', '--quiet', `--callgrind-out-file=${outFile}`];
}

/** The instructions, all threads together, that one callgrind dump file records. */
export function dumpedInstructions(file: string): number {
  const total = /^(?:summary|totals): (\d+)$/m.exec(readFileSync(file, 'utf8'))?.[1];
  if (total === undefined) throw new Error(`callgrind dump ${file} has no total`);
  return Number(total);
}
