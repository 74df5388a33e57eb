/** Result files in .bench-results/ (gitignored) and the facts about the machine that produced them. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem } from 'node:os';
import { join } from 'node:path';
import type { ModeId, Sample } from './matrix.rounds.js';
import type { ServerSpec } from './scenario.shared.js';
import type { RunSettings } from './settings.cli.js';

const RESULTS_DIR = '.bench-results';

export interface Environment {
  readonly machine: string;
  readonly node: string;
  readonly versions: Readonly<Record<string, string>>;
}

/** One micro-benchmark figure. */
export interface MicroResult {
  readonly name: string;
  readonly nsPerOp: number;
}

/** What one request of each mode got back: shows who sends which challenge. */
export interface BehaviourCheck {
  readonly server: ServerSpec;
  readonly mode: ModeId;
  readonly status: number;
  readonly challenge: string | null;
}

export interface ThroughputResults {
  readonly kind: 'throughput';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly settings: RunSettings;
  readonly environment: Environment;
  readonly micro: readonly MicroResult[];
  readonly checks: readonly BehaviourCheck[];
  readonly samples: readonly Sample[];
}

export interface HeapPoint {
  readonly elapsedSeconds: number;
  readonly heapUsedMiB: number;
  readonly rssMiB: number;
  readonly requests: number;
}

export interface SoakResults {
  readonly kind: 'soak';
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly minutes: number;
  readonly workload: string;
  readonly environment: Environment;
  readonly requestsPerSecond: number;
  readonly statusCounts: Readonly<Record<string, number>>;
  readonly heap: readonly HeapPoint[];
}

export type Results = ThroughputResults | SoakResults;

const PACKAGES = [
  'nestjs-step-up',
  '@nestjs/core',
  '@nestjs/platform-express',
  '@nestjs/platform-fastify',
  'express-oauth2-jwt-bearer',
  '@nestjs/passport',
  'passport-jwt',
  'jsonwebtoken',
  'jose',
  'autocannon',
];

export function environment(): Environment {
  const versionOf = (name: string): string => {
    const path = name === 'nestjs-step-up' ? 'package.json' : join('node_modules', name, 'package.json');
    return (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  };
  const cpu = cpus();
  return {
    machine: `${cpu[0]?.model ?? 'unknown CPU'}, ${cpu.length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Linux ${release()}`,
    node: process.version,
    versions: Object.fromEntries(PACKAGES.map((name) => [name, versionOf(name)])),
  };
}

export function saveResults(results: Results): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const path = join(RESULTS_DIR, `${results.kind}-${results.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(path, JSON.stringify(results, null, 1));
  return path;
}

export function loadResults(path: string): Results {
  return JSON.parse(readFileSync(path, 'utf8')) as Results;
}
