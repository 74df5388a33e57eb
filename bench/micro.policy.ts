/**
 * Microbenchmark of the library's pure parts, run in its own process pinned to the idle core:
 * `evaluatePolicy` (the policy core) per outcome, and the challenge path (policy failure →
 * exception → `WWW-Authenticate` value, which the guard and filter then reuse). Prints JSON on stdout.
 */
import {
  compilePolicy,
  evaluatePolicy,
  formatBearerChallenge,
  InsufficientScopeException,
  type PolicyFailure,
  StepUpRequiredException,
} from 'nestjs-step-up';
import type { MicroResult } from './results.store.js';
import { ACR_MFA, AUDIENCE, MAX_AGE_SECONDS, REQUIRED_AMR, REQUIRED_SCOPE } from './scenario.shared.js';
import { median } from './stats.math.js';

const SAMPLES = 15;
const TARGET_SAMPLE_NS = 50e6;

let sink = 0;

/** Median ns per call over {@link SAMPLES} timed batches, after calibrating the batch size. */
function time(name: string, operation: () => number): MicroResult {
  let batch = 1000;
  for (;;) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) sink += operation();
    if (Number(process.hrtime.bigint() - start) > TARGET_SAMPLE_NS / 4) break;
    batch *= 2;
  }
  const perOp: number[] = [];
  for (let sample = 0; sample < SAMPLES; sample++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) sink += operation();
    perOp.push(Number(process.hrtime.bigint() - start) / batch);
  }
  return { name, nsPerOp: median(perOp) };
}

const policy = compilePolicy({ acr: ACR_MFA, amr: [REQUIRED_AMR], maxAge: MAX_AGE_SECONDS }, [REQUIRED_SCOPE]);
const now = Math.floor(Date.now() / 1000);
const context = { now, clockTolerance: 5, scopeClaims: ['scope', 'scp', 'permissions'] } as const;
const base = { iss: 'https://issuer.bench.local', sub: 'user-1', aud: AUDIENCE, iat: now - 5, exp: now + 3600, auth_time: now - 5 };
const claims = {
  allowed: Object.freeze({ ...base, acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'], scope: `openid ${REQUIRED_SCOPE}` }),
  noMfa: Object.freeze({ ...base, acr: 'urn:bench:acr:password', amr: ['pwd'], scope: `openid ${REQUIRED_SCOPE}` }),
  noScope: Object.freeze({ ...base, acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'], scope: 'openid profile' }),
};

function failureOf(token: Readonly<Record<string, unknown>>): PolicyFailure {
  const result = evaluatePolicy(token, policy, context);
  if (result.allowed) throw new Error('expected a policy failure');
  return result.failure;
}

/**
 * Building a refusal from scratch: exception plus header. The guard and the filter do this once per route
 * and failing rule, then reuse the result, so this is the cost of a route's first refusal of a kind.
 */
function challengeHeader(failure: PolicyFailure): string {
  const exception =
    failure.error === 'insufficient_scope'
      ? new InsufficientScopeException(failure.scope ?? [], failure.description)
      : new StepUpRequiredException({ ...failure, description: failure.description });
  return formatBearerChallenge({ realm: AUDIENCE, ...exception.challenge });
}

const noMfa = failureOf(claims.noMfa);
const noScope = failureOf(claims.noScope);
const noMfaChallenge = { realm: AUDIENCE, error: noMfa.error, errorDescription: noMfa.description, acrValues: noMfa.acrValues, maxAge: noMfa.maxAge };
const results = [
  time('evaluatePolicy: allowed', () => (evaluatePolicy(claims.allowed, policy, context).allowed ? 1 : 0)),
  time('evaluatePolicy: no MFA (401)', () => (evaluatePolicy(claims.noMfa, policy, context).allowed ? 1 : 0)),
  time('evaluatePolicy: no scope (403)', () => (evaluatePolicy(claims.noScope, policy, context).allowed ? 1 : 0)),
  time('formatBearerChallenge (401)', () => formatBearerChallenge(noMfaChallenge).length),
  time('first refusal of a kind: exception + header (401)', () => challengeHeader(noMfa).length),
  time('first refusal of a kind: exception + header (403)', () => challengeHeader(noScope).length),
];
process.stdout.write(JSON.stringify({ results, sink: sink % 2 }));
