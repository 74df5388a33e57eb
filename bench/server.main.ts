/**
 * One benchmark server process: a Nest app serving one variant on one adapter for one algorithm.
 * Started by the orchestrator (pinned to its own core), reports its port over IPC and answers
 * memory probes (after a forced GC when started with --expose-gc).
 */
import 'reflect-metadata';
import { type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import type { AddressInfo } from 'node:net';
import { type OrchestratorMessage, SERVER_SPEC_ENV, type ServerMessage, type ServerSpec } from './scenario.shared.js';
import { VARIANTS } from './variants.registry.js';

function send(message: ServerMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const spec = JSON.parse(process.env[SERVER_SPEC_ENV] ?? '') as ServerSpec;
  const module = await VARIANTS[spec.variant].module(spec);
  const adapter = spec.adapter === 'express' ? new ExpressAdapter() : new FastifyAdapter();
  const app: INestApplication = await NestFactory.create(module, adapter, { logger: ['error'] });
  await app.listen(0, '127.0.0.1');
  process.on('message', (message: OrchestratorMessage) => {
    if (message.type !== 'memory') return;
    globalThis.gc?.();
    send({ type: 'memory', usage: process.memoryUsage() });
  });
  process.on('disconnect', () => void app.close().finally(() => process.exit(0)));
  send({ type: 'ready', port: (app.getHttpServer().address() as AddressInfo).port });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
