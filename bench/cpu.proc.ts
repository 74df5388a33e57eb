/** CPU time from /proc: a process's own (user + system), and a core's. */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
const ticksToMicros = (ticks: number): number => (ticks * 1e6) / TICKS_PER_SECOND;

export function processCpuMicros(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after "comm" (which may hold spaces) start at field 3, so utime (14) and stime (15) are at 11 and 12.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ticksToMicros(Number(fields[11]) + Number(fields[12]));
}

export interface CoreTimes {
  /** user + nice + system: time processes ran (interrupt handling, such as loopback networking, excluded). */
  readonly processes: number;
  /** Time the hypervisor gave this virtual core to someone else. */
  readonly steal: number;
}

/** CPU time of one core since boot, whoever used it. */
export function coreTimes(core: number): CoreTimes {
  const line = readFileSync('/proc/stat', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`cpu${core} `));
  if (!line) throw new Error(`no cpu${core} in /proc/stat`);
  const [user, nice, system, , , , , steal] = line.split(/\s+/).slice(1).map(Number);
  return { processes: ticksToMicros(user! + nice! + system!), steal: ticksToMicros(steal!) };
}
