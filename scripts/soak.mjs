#!/usr/bin/env node
/**
 * Soak test: boots a Nest app built with the library (from dist/, so run `npm run build` first; `npm run
 * soak` does), a JWKS endpoint, and a load generator, all in this process on 127.0.0.1, and drives mixed
 * traffic for a set time: valid tokens, tokens that need step-up, tokens without the scope, invalid
 * tokens (bad signature, expired, unsecured, unknown key, garbage), no credentials, malformed headers.
 * Every answer is checked against the decision the request calls for.
 *
 *   npm run soak                      # 60 s over Express
 *   npm run soak -- --seconds 10 --platform fastify --concurrency 8
 *
 * Reports requests, decisions by kind, wrong decisions, 5xx, and the heap at start and end. Exits 1 if
 * any decision was wrong or any answer was a 5xx (or nothing was sent at all). Stops by itself.
 */
import 'reflect-metadata';
import { createServer } from 'node:http';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { Controller, Get, Module, Post, HttpCode } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { ACR_MFA, parseStepUpChallenge, Public, RequireScope, RequireStepUp, StepUpModule } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '60' },
    platform: { type: 'string', default: 'express' },
    concurrency: { type: 'string', default: '16' },
  },
});
const seconds = Number(args.seconds);
const concurrency = Number(args.concurrency);
if (!Number.isFinite(seconds) || seconds <= 0 || seconds > 24 * 3600) throw new Error('--seconds must be between 1 and 86400');
if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw new Error('--concurrency must be 1..256');
if (!['express', 'fastify'].includes(args.platform)) throw new Error('--platform must be express or fastify');

const HOST = '127.0.0.1'; // loopback only: nothing here can be pointed elsewhere
const AUDIENCE = 'https://soak.example/api';
const mb = (bytes) => Math.round((bytes / 1048576) * 10) / 10;
const heap = () => {
  globalThis.gc?.();
  return mb(process.memoryUsage().heapUsed);
};

// ---- Issuer: signing keys and a JWKS endpoint on loopback ----
const signing = await generateKeyPair('ES256', { extractable: true });
const stranger = await generateKeyPair('ES256');
const jwk = { ...(await exportJWK(signing.publicKey)), kid: 'soak-1', alg: 'ES256', use: 'sig' };
const jwksServer = createServer((_request, response) => {
  response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: [jwk] }));
});
await new Promise((resolve) => jwksServer.listen(0, HOST, resolve));
const issuer = `http://${HOST}:${jwksServer.address().port}`;

// ---- The application (decorators applied by hand: this is plain JavaScript) ----
const decorate = (target, name, ...decorators) => {
  const descriptor = Object.getOwnPropertyDescriptor(target.prototype, name);
  for (const decorator of decorators.reverse()) decorator(target.prototype, name, descriptor);
};
class SoakController {
  health() {
    return { status: 'ok' };
  }
  profile() {
    return { ok: true };
  }
  balance() {
    return { balance: 100 };
  }
  transfer() {
    return { id: 'transfer-1' };
  }
}
decorate(SoakController, 'health', Get('health'), Public());
decorate(SoakController, 'profile', Get('profile'));
decorate(SoakController, 'balance', Get('balance'), RequireScope('read:balance'));
decorate(SoakController, 'transfer', Post('transfers'), HttpCode(201), RequireScope('transfer:funds'), RequireStepUp({ acr: ACR_MFA, maxAge: 300 }));
Controller('api')(SoakController);
class SoakModule {}
Module({
  imports: [StepUpModule.forRoot({ issuer, audience: AUDIENCE, jwksUri: `${issuer}/jwks`, tokenType: 'at+jwt', algorithms: ['ES256'] })],
  controllers: [SoakController],
})(SoakModule);

let adapter;
if (args.platform === 'fastify') {
  const { FastifyAdapter } = await import('@nestjs/platform-fastify');
  adapter = new FastifyAdapter();
}
const appOptions = { logger: ['error', 'warn'] };
const app = adapter ? await NestFactory.create(SoakModule, adapter, appOptions) : await NestFactory.create(SoakModule, appOptions);
await app.listen(0, HOST);
const base = (await app.getUrl()).replace('[::1]', HOST);

// ---- Tokens, re-minted every minute so that auth_time stays within max_age on long runs ----
const now = () => Math.floor(Date.now() / 1000);
const sign = (claims, { key = signing.privateKey, header = {} } = {}) =>
  new SignJWT({ iss: issuer, aud: AUDIENCE, sub: 'soak-user', iat: now(), exp: now() + 900, jti: Math.random().toString(36).slice(2), ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'soak-1', typ: 'at+jwt', ...header })
    .sign(key);
const b64 = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const pool = async (count, make) => Promise.all(Array.from({ length: count }, make));
let tokens;
async function mint() {
  const mfa = () => ({ acr: ACR_MFA, amr: ['mfa', 'otp'], auth_time: now() });
  const valid = await pool(40, () => sign({ ...mfa(), scope: 'read:balance transfer:funds' }));
  tokens = {
    valid,
    password: await pool(20, () => sign({ acr: 'urn:password', amr: ['pwd'], auth_time: now(), scope: 'read:balance transfer:funds' })),
    stale: await pool(10, () => sign({ ...mfa(), auth_time: now() - 3600, scope: 'transfer:funds' })),
    noScope: await pool(20, () => sign({ ...mfa(), scope: 'read:profile transfer:fundsX' })),
    expired: await pool(10, () => sign({ ...mfa(), iat: now() - 7200, exp: now() - 3600 })),
    unknownKey: await pool(10, () => sign(mfa(), { key: stranger.privateKey, header: { kid: 'stranger' } })),
    forged: valid.slice(0, 10).map((token) => `${token.slice(0, token.lastIndexOf('.') + 1)}${Buffer.alloc(64, 7).toString('base64url')}`),
    unsecured: [`${b64({ alg: 'none', typ: 'at+jwt' })}.${b64({ iss: issuer, aud: AUDIENCE, exp: now() + 900, ...mfa() })}.`],
    wrongType: await pool(5, () => sign(mfa(), { header: { typ: 'JWT' } })),
  };
}
await mint();
const pick = (list) => list[Math.floor(Math.random() * list.length)];

// ---- Scenarios: what to send, and the decision it must get ----
const scenarios = [
  // [weight, kind, method, path, authorization, expected status, expected challenge error]
  [25, 'allowed', 'GET', '/api/profile', () => `Bearer ${pick(tokens.valid)}`, 200, null],
  [10, 'allowed', 'GET', '/api/balance', () => `Bearer ${pick(tokens.valid)}`, 200, null],
  [8, 'allowed', 'POST', '/api/transfers', () => `Bearer ${pick(tokens.valid)}`, 201, null],
  [5, 'allowed (fresh token)', 'POST', '/api/transfers', null, 201, null],
  [12, 'step-up required', 'POST', '/api/transfers', () => `Bearer ${pick(tokens.password)}`, 401, 'insufficient_user_authentication'],
  [6, 'step-up required', 'POST', '/api/transfers', () => `Bearer ${pick(tokens.stale)}`, 401, 'insufficient_user_authentication'],
  [10, 'insufficient scope', 'GET', '/api/balance', () => `Bearer ${pick(tokens.noScope)}`, 403, 'insufficient_scope'],
  [5, 'insufficient scope', 'POST', '/api/transfers', () => `Bearer ${pick(tokens.noScope)}`, 403, 'insufficient_scope'],
  [4, 'invalid token', 'GET', '/api/profile', () => `Bearer ${pick(tokens.expired)}`, 401, 'invalid_token'],
  [4, 'invalid token', 'GET', '/api/profile', () => `Bearer ${pick(tokens.forged)}`, 401, 'invalid_token'],
  [3, 'invalid token', 'GET', '/api/profile', () => `Bearer ${pick(tokens.unknownKey)}`, 401, 'invalid_token'],
  [2, 'invalid token', 'GET', '/api/profile', () => `Bearer ${pick(tokens.unsecured)}`, 401, 'invalid_token'],
  [2, 'invalid token', 'GET', '/api/profile', () => `Bearer ${pick(tokens.wrongType)}`, 401, 'invalid_token'],
  [2, 'invalid token', 'GET', '/api/profile', () => 'Bearer not.a.jwt', 401, 'invalid_token'],
  [2, 'no credentials', 'GET', '/api/profile', () => undefined, 401, undefined],
  [2, 'invalid request', 'GET', '/api/profile', () => 'Bearer two tokens', 400, 'invalid_request'],
  [1, 'public', 'GET', '/api/health', () => undefined, 200, null],
];
const totalWeight = scenarios.reduce((sum, [weight]) => sum + weight, 0);
function chooseScenario() {
  let roll = Math.random() * totalWeight;
  for (const scenario of scenarios) if ((roll -= scenario[0]) < 0) return scenario;
  return scenarios[0];
}

// ---- Drive ----
const stats = { requests: 0, byKind: {}, wrong: 0, serverErrors: 0, transportErrors: 0, examples: [] };
const heapStart = heap();
const started = Date.now();
const deadline = started + seconds * 1000;
const reminter = setInterval(() => void mint(), 60_000);

async function once() {
  const [, kind, method, path, authorization, status, error] = chooseScenario();
  const credentials = authorization === null ? `Bearer ${await sign({ acr: ACR_MFA, amr: ['mfa'], auth_time: now(), scope: 'transfer:funds' })}` : authorization();
  let response;
  try {
    response = await fetch(`${base}${path}`, { method, headers: credentials === undefined ? {} : { authorization: credentials } });
  } catch (cause) {
    stats.transportErrors++;
    if (stats.examples.length < 5) stats.examples.push({ kind, path, problem: `transport: ${cause.message}` });
    return;
  }
  const challenge = response.headers.get('www-authenticate');
  await response.arrayBuffer();
  stats.requests++;
  if (response.status >= 500) stats.serverErrors++;
  let actualError = null;
  try {
    actualError = challenge === null ? null : (parseStepUpChallenge(challenge)?.error ?? undefined);
  } catch {
    actualError = 'unparseable challenge';
  }
  const right = response.status === status && actualError === error;
  const bucket = (stats.byKind[kind] ??= { requests: 0, wrong: 0 });
  bucket.requests++;
  if (!right) {
    stats.wrong++;
    bucket.wrong++;
    if (stats.examples.length < 5) stats.examples.push({ kind, method, path, expected: [status, error], got: [response.status, actualError] });
  }
}

async function worker() {
  while (Date.now() < deadline) await once();
}

console.log(`soak: ${seconds} s over ${args.platform}, ${concurrency} concurrent clients, against ${base} (JWKS ${issuer}/jwks)`);
const progress = setInterval(() => {
  console.log(`  ${Math.round((Date.now() - started) / 1000)} s: ${stats.requests} requests, ${stats.wrong} wrong, ${stats.serverErrors} 5xx, heap ${mb(process.memoryUsage().heapUsed)} MB`);
}, 10_000);
await Promise.all(Array.from({ length: concurrency }, worker));
clearInterval(progress);
clearInterval(reminter);
const elapsed = (Date.now() - started) / 1000;
await sleep(50);
const heapEnd = heap();
await app.close();
await new Promise((resolve) => jwksServer.close(resolve));

const report = {
  platform: args.platform,
  seconds: Math.round(elapsed * 10) / 10,
  requests: stats.requests,
  requestsPerSecond: Math.round(stats.requests / elapsed),
  decisionsByKind: Object.fromEntries(Object.entries(stats.byKind).sort(([a], [b]) => a.localeCompare(b)).map(([kind, { requests, wrong }]) => [kind, wrong ? `${requests} (${wrong} wrong)` : requests])),
  wrongDecisions: stats.wrong,
  serverErrors5xx: stats.serverErrors,
  transportErrors: stats.transportErrors,
  heapMB: { start: heapStart, end: heapEnd },
  ...(stats.examples.length && { firstProblems: stats.examples }),
};
console.log(JSON.stringify(report, null, 2));
const failed = stats.wrong > 0 || stats.serverErrors > 0 || stats.transportErrors > 0 || stats.requests === 0;
console.log(failed ? 'soak: FAILED' : 'soak: OK (0 wrong decisions, 0 5xx)');
process.exit(failed ? 1 : 0);
