/**
 * What it costs a guard to record something on the request object, per platform: adding one property,
 * or a WeakMap entry keyed by the request, timed around that one operation inside a real request
 * handler under load. Express gives every request a hidden class of its own, so adding a property
 * there builds a new one each time; this is why the guard attaches claims only where they are read.
 * Run: `npm run bench:request-writes`. The load generator shares the process, so absolute figures
 * are inflated by cold caches; compare the rows with each other.
 */
import autocannon from 'autocannon';
import express from 'express';
import fastify from 'fastify';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

type Operation = (request: object) => void;

const recorded = Object.freeze({ sub: 'user-1' });
const byRequest = new WeakMap<object, object>();
const OPERATIONS: Readonly<Record<string, Operation>> = {
  'nothing (timer floor)': () => {},
  'add a property': (request) => {
    (request as { user?: object }).user = recorded;
  },
  'WeakMap entry': (request) => {
    byRequest.set(request, recorded);
  },
};

const WARMUP_REQUESTS = 20_000;
const MEASURED_REQUESTS = 40_000;

interface Platform {
  /** Starts a server whose one route runs `timed` on its request object, and answers 200. */
  listen(timed: (request: object) => void): Promise<{ port: number; close: () => Promise<void> }>;
}

const onLoopback = async (server: Server) => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};

const PLATFORMS: Readonly<Record<string, Platform>> = {
  'node:http': {
    listen: (timed) => onLoopback(createServer((request, response) => (timed(request), response.end('ok')))),
  },
  express: {
    listen: (timed) => {
      const app = express();
      app.get('/', (request, response) => (timed(request), response.send('ok')));
      return onLoopback(createServer(app));
    },
  },
  fastify: {
    listen: async (timed) => {
      const app = fastify();
      app.get('/', async (request) => (timed(request), 'ok'));
      await app.listen({ port: 0, host: '127.0.0.1' });
      return { port: (app.server.address() as AddressInfo).port, close: () => app.close() };
    },
  },
};

const load = (port: number, amount: number) =>
  new Promise<void>((resolve, reject) =>
    autocannon({ url: `http://127.0.0.1:${port}/`, connections: 8, amount }, (error: unknown) => (error ? reject(error) : resolve())),
  );

async function nsPerOperation(platform: Platform, operation: Operation): Promise<number> {
  let total = 0n;
  let count = 0;
  const server = await platform.listen((request) => {
    const start = process.hrtime.bigint();
    operation(request);
    total += process.hrtime.bigint() - start;
    count++;
  });
  await load(server.port, WARMUP_REQUESTS);
  total = 0n;
  count = 0;
  await load(server.port, MEASURED_REQUESTS);
  await server.close();
  return Number(total) / count;
}

const names = Object.keys(OPERATIONS);
console.log(`| platform | ${names.join(' | ')} |\n| --- |${' ---: |'.repeat(names.length)}`);
for (const [platformName, platform] of Object.entries(PLATFORMS)) {
  const cells: string[] = [];
  for (const operation of Object.values(OPERATIONS)) cells.push(`${Math.round(await nsPerOperation(platform, operation))} ns`);
  console.log(`| ${platformName} | ${cells.join(' | ')} |`);
}
