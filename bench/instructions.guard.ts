/**
 * Instructions per `StepUpGuard.canActivate()` call on a cache hit, counted by callgrind inside one
 * process: the guard alone, without the server around it, so a change of a few hundred instructions
 * shows. Each build runs in a child under callgrind: a Nest application context with the bench's
 * StepUpModule and route, a real request object captured from the adapter (Express or Fastify), and a
 * pool of ten verified tokens whose `Authorization` values are fresh string copies on every call, as the
 * HTTP parser hands them over. The loop itself is never optimised, so the guard is compiled on its own,
 * as when Nest's guard consumer calls it. Parts with and without the guard alternate between callgrind
 * dumps; a figure is a part with the guard minus the next part without, and the least of six is kept
 * (a GC or a recompilation only ever adds).
 * Run: `npm run bench:guard -- [--adapters fastify] [--baseline <dir>]`.
 */
import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import express from 'express';
import Fastify from 'fastify';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { callgrindLauncher, dumpedInstructions } from './callgrind.shared.js';
import { LocalIssuer } from './issuer.local.js';
import { ADAPTERS, type Adapter, ROUTE } from './scenario.shared.js';
import { parseBaselineDir, parseList, parsePositive } from './settings.cli.js';
import { libraryFor, StepUpBenchModule } from './variants.stepup.js';

const USAGE = `npm run bench:guard -- [options]
  --adapters <list>   ${ADAPTERS.join(', ')} (default: both)
  --baseline <dir>    also count this build of the library (a copy of dist/)
  --calls <n>         calls per part (default 30000)`;

const PARTS = 6;
const CHILD_FLAG = '--child';
const DUMP_FILE_ENV = 'BENCH_GUARD_DUMP_FILE';

/** A request object as the adapter builds it for an HTTP request, taken from a real one on loopback. */
async function capturedRequest(adapter: Adapter, authorization: string): Promise<Record<string, unknown>> {
  let captured: Record<string, unknown> | undefined;
  let server: { port: number; close: () => Promise<unknown> };
  if (adapter === 'fastify') {
    const app = Fastify();
    app.get(ROUTE, (request, reply) => void ((captured = request as unknown as Record<string, unknown>), reply.send({})));
    await app.listen({ port: 0, host: '127.0.0.1' });
    server = { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
  } else {
    const app = express();
    app.get(ROUTE, (request, response) => void ((captured = request as unknown as Record<string, unknown>), response.json({})));
    const listening = await new Promise<ReturnType<typeof app.listen>>((resolve) => {
      const instance = app.listen(0, '127.0.0.1', () => resolve(instance));
    });
    server = { port: (listening.address() as AddressInfo).port, close: () => new Promise((resolve) => listening.close(resolve)) };
  }
  await new Promise<void>((resolve, reject) => {
    const request = httpRequest({ port: server.port, path: ROUTE, headers: { authorization } }, (response: IncomingMessage) => {
      response.resume().on('end', resolve);
    });
    request.on('error', reject).end();
  });
  await server.close();
  return captured!;
}

/** The child: runs under callgrind, asks it for a dump between parts, and waits until the dump is written. */
async function child(adapter: Adapter, libraryDir: string | undefined, calls: number): Promise<void> {
  const issuer = await LocalIssuer.start();
  const spec = { variant: 'stepup' as const, adapter, alg: 'ES256' as const, issuer: issuer.issuer, jwksUri: issuer.jwksUri, libraryDir };
  const module = await StepUpBenchModule.forSpec(spec, true);
  const app = await NestFactory.createApplicationContext(module, { logger: ['error'] });
  const guard = app.get((await libraryFor(spec)).StepUpGuard);
  const controller = module.controllers![0]! as new () => object;
  const handler = (controller.prototype as Record<string, (...args: never[]) => unknown>)['transfer']!;
  const tokens = issuer.mintMany('ES256', 'allowed', 10, 'guard');
  const request = await capturedRequest(adapter, `Bearer ${tokens[0]}`);
  // Nest's adapters have built the request's `headers` object before any guard runs: only its value changes.
  const raw = (request.raw ?? request) as { headers: Record<string, string>; rawHeaders: string[] };
  const valueIndex = raw.rawHeaders.findIndex((name) => name.toLowerCase() === 'authorization') + 1;
  // Distinct flat strings, as the parser makes: a string the guard saw before would compare by identity.
  const headers = Array.from({ length: 1000 }, (_, index) => Buffer.from(`Bearer ${tokens[index % tokens.length]}`, 'latin1').toString('latin1'));
  /** A new context for the request, which now carries `header`, as Nest makes one per request. */
  const contextWith = (header: string) => {
    raw.rawHeaders[valueIndex] = header;
    raw.headers.authorization = header;
    return new ExecutionContextHost([request, {}, () => undefined], controller as never, handler);
  };
  let allowed = 0;
  let checksum = 0;
  const run = (count: number, guarded: boolean) => {
    for (let call = 0; call < count; call++) {
      const header = headers[call % headers.length]!;
      const context = contextWith(header);
      if (guarded) allowed += guard.canActivate(context) === true ? 1 : 0;
      else checksum += header.length + context.getArgs().length;
    }
  };
  for (const header of headers.slice(0, tokens.length)) await guard.canActivate(contextWith(header));
  // V8's natives syntax (the child runs with --allow-natives-syntax) is not TypeScript: hence the Function.
  (new Function('fn', '%NeverOptimizeFunction(fn)') as (fn: unknown) => void)(run);
  let dumps = 0;
  const keepAlive = setInterval(() => undefined, 5);
  const dump = async () => {
    await promisify(execFile)('callgrind_control', ['--dump', String(process.pid)]);
    dumps++;
    while (!existsSync(`${process.env[DUMP_FILE_ENV]}.${dumps}`)) await new Promise((resolve) => setTimeout(resolve, 20));
  };
  run(calls, true);
  run(calls, false);
  await dump();
  for (let part = 0; part < PARTS; part++) {
    run(calls, true);
    await dump();
    run(calls, false);
    await dump();
  }
  clearInterval(keepAlive);
  await app.close();
  await issuer.close();
  if (allowed !== (PARTS + 1) * calls) throw new Error(`the guard allowed ${allowed} of ${(PARTS + 1) * calls} calls`);
  process.stdout.write(`${checksum % 2}\n`);
}

/** Instructions per guard call for one build on one adapter: each guarded part minus the part after it. */
async function count(adapter: Adapter, libraryDir: string | undefined, calls: number): Promise<number[]> {
  const directory = mkdtempSync(join(tmpdir(), 'step-up-guard-'));
  const file = join(directory, 'callgrind.out');
  try {
    const [valgrind, ...options] = callgrindLauncher(file);
    await promisify(execFile)(
      valgrind!,
      [...options, process.execPath, '--single-threaded', '--allow-natives-syntax', fileURLToPath(import.meta.url), CHILD_FLAG, adapter, libraryDir ?? '', String(calls)],
      { env: { ...process.env, [DUMP_FILE_ENV]: file } },
    );
    const part = (index: number) => dumpedInstructions(`${file}.${index}`);
    return Array.from({ length: PARTS }, (_, index) => (part(2 * index + 2) - part(2 * index + 3)) / calls);
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { adapters: { type: 'string' }, baseline: { type: 'string' }, calls: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) return void console.log(USAGE);
  const baseline = parseBaselineDir(values.baseline, USAGE);
  const calls = parsePositive(values.calls, 30000, '--calls', { integer: true, usage: USAGE });
  const builds = [{ name: 'nestjs-step-up', dir: undefined }, ...(baseline === undefined ? [] : [{ name: `baseline (${baseline})`, dir: baseline }])];
  console.log(`Counting under callgrind, about a minute per build and adapter...\n`);
  console.log('| Adapter | Build | Instructions per call | Parts |');
  console.log('| --- | --- | ---: | --- |');
  for (const adapter of parseList(values.adapters, ADAPTERS, '--adapters', USAGE)) {
    // One child per core: callgrind counts instructions, so two children side by side do not disturb each other.
    const counts = await Promise.all(builds.map((build) => count(adapter, build.dir, calls)));
    builds.forEach((build, index) => {
      const parts = counts[index]!;
      console.log(`| ${adapter} | ${build.name} | ${Math.round(Math.min(...parts)).toLocaleString('en')} | ${parts.map((part) => Math.round(part).toLocaleString('en')).join(', ')} |`);
    });
  }
}

if (process.argv[2] === CHILD_FLAG) {
  const [, , , adapter, libraryDir, calls] = process.argv;
  child(adapter as Adapter, libraryDir || undefined, Number(calls)).catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
} else {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
