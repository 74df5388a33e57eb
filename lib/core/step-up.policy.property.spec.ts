import fc from 'fast-check';
import type { BearerErrorCode } from './step-up.constants.js';
import { formatBearerChallenge, parseStepUpChallenge, type BearerChallenge } from './step-up.challenge.js';
import { compilePolicy, evaluatePolicy, PolicyDecisions, type ScopeClaimName, type StepUpRequirement } from './step-up.policy.js';

/*
 * Property-based tests: the policy against an oracle written independently of it (plain arrays and
 * `split(' ')`, no sets, no index arithmetic), and the challenge writer against the exported parser.
 * Times are integers or halves, so every sum and difference is exact and the oracle cannot disagree
 * with the policy through rounding.
 */

const RUNS = { numRuns: 3000 };

const ACR = ['urn:pwd', 'urn:otp', 'urn:mfa', 'urn:hwk', 'http://schemas.openid.net/pape/policies/2007/06/multi-factor'];
const AMR = ['pwd', 'otp', 'mfa', 'hwk', 'sms'];
const SCOPES = ['read', 'write', 'admin', 'admin:audit', 'transfer:funds', 'transfer:fundsX', 'transfer:fund'];
const CLAIM_NAMES: readonly ScopeClaimName[] = ['scope', 'scp', 'permissions'];
const UNIT: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };

interface Route {
  readonly requirement: StepUpRequirement | undefined;
  readonly scopes: string[];
  readonly ranking: string[];
}

const durationArb = fc.oneof(
  fc.nat({ max: 200_000 }),
  fc.tuple(fc.nat({ max: 60 }), fc.constantFrom('s', 'm', 'h', 'd')).map(([n, unit]) => `${n}${unit}`),
);

const requirementArb: fc.Arbitrary<StepUpRequirement | undefined> = fc.option(
  fc.record(
    {
      acr: fc.oneof(fc.constantFrom(...ACR), fc.array(fc.constantFrom(...ACR), { minLength: 1, maxLength: 3 })),
      amr: fc.array(fc.constantFrom(...AMR), { minLength: 1, maxLength: 3 }),
      maxAge: durationArb,
    },
    { requiredKeys: [] },
  ),
  { nil: undefined },
);

const routeArb: fc.Arbitrary<Route> = fc.record({
  requirement: requirementArb,
  scopes: fc.array(fc.constantFrom(...SCOPES), { maxLength: 3 }),
  ranking: fc.uniqueArray(fc.constantFrom(...ACR), { maxLength: ACR.length }),
});

/** A value of any JSON type (and a few a JSON parser never yields), for claims of the wrong type. */
const junkArb = fc.oneof(
  fc.string({ maxLength: 6 }),
  fc.integer(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
);

const scopeStringArb = fc
  .array(fc.tuple(fc.constantFrom(...SCOPES, 'other', ''), fc.constantFrom(' ', ' ', ' ', '  ', '\t', '\n', ',')), { maxLength: 4 })
  .map((parts) => parts.map(([scope, separator]) => scope + separator).join('').trimEnd());
const scopeArrayArb = fc.array(fc.oneof(fc.constantFrom(...SCOPES, 'other', 'read write'), junkArb), { maxLength: 4 });

/** Offsets from `now`, so that times cluster around the interesting boundaries. */
const offsetArb = fc.oneof(
  fc.integer({ min: -300_000, max: 300_000 }),
  fc.integer({ min: -5000, max: 5000 }).map((n) => n + 0.5),
  fc.integer({ min: -100, max: 100 }),
);

interface ClaimsRecipe {
  readonly acr?: unknown;
  readonly amr?: unknown;
  readonly authTime?: { readonly offset: number } | { readonly raw: unknown };
  readonly scope?: unknown;
  readonly scp?: unknown;
  readonly permissions?: unknown;
}

const claimsArb: fc.Arbitrary<ClaimsRecipe> = fc.record(
  {
    acr: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...ACR, 'urn:other') }, { weight: 1, arbitrary: junkArb }, { weight: 1, arbitrary: fc.array(fc.constantFrom(...ACR)) }),
    amr: fc.oneof({ weight: 4, arbitrary: fc.array(fc.oneof(fc.constantFrom(...AMR), junkArb), { maxLength: 5 }) }, { weight: 1, arbitrary: junkArb }, { weight: 1, arbitrary: fc.constant('mfa hwk') }),
    authTime: fc.oneof(
      { weight: 5, arbitrary: offsetArb.map((offset) => ({ offset })) },
      { weight: 1, arbitrary: fc.oneof(junkArb, fc.constantFrom(-1, -0.5, 0, 0.5)).map((raw) => ({ raw })) },
    ),
    scope: fc.oneof({ weight: 4, arbitrary: scopeStringArb }, { weight: 1, arbitrary: scopeArrayArb }, { weight: 1, arbitrary: junkArb }),
    scp: fc.oneof(scopeStringArb, scopeArrayArb, junkArb),
    permissions: fc.oneof(scopeArrayArb, scopeStringArb, junkArb),
  },
  { requiredKeys: [] },
);

const contextArb = fc.record({
  now: fc.integer({ min: 1_000_000_000, max: 4_000_000_000 }),
  clockTolerance: fc.oneof(fc.constant(0), fc.nat({ max: 600 })),
  scopeClaims: fc.subarray([...CLAIM_NAMES]),
});

function buildClaims(recipe: ClaimsRecipe, now: number): Record<string, unknown> {
  const claims: Record<string, unknown> = { sub: 'user' };
  for (const name of ['acr', 'amr', 'scope', 'scp', 'permissions'] as const) {
    if (name in recipe) claims[name] = recipe[name];
  }
  if (recipe.authTime !== undefined) claims.auth_time = 'offset' in recipe.authTime ? now + recipe.authTime.offset : recipe.authTime.raw;
  return claims;
}

// ---- The oracle: RFC 9470 / RFC 6749 / RFC 7519 as a reader would state them, step by step. ----

type Expected =
  | { readonly allowed: true }
  | { readonly allowed: false; readonly error: string; readonly claim: string; readonly reason: string; readonly scopeInChallenge: boolean };

function seconds(duration: number | string): number {
  if (typeof duration === 'number') return duration;
  return Number(duration.slice(0, -1)) * UNIT[duration.slice(-1)]!;
}

function unique(values: readonly string[]): string[] {
  const out: string[] = [];
  for (const value of values) if (!out.includes(value)) out.push(value);
  return out;
}

function grantedScopes(claims: Record<string, unknown>, names: readonly ScopeClaimName[]): unknown[] {
  const granted: unknown[] = [];
  for (const name of names) {
    const value = claims[name];
    // `scope` is a space-delimited string (RFC 9068 §2.2.3); `permissions` is an array (Auth0 style);
    // `scp` is either. Only a single space separates scope-tokens (RFC 6749 §3.3).
    if (typeof value === 'string' && (name === 'scope' || name === 'scp')) granted.push(...value.split(' '));
    if (Array.isArray(value) && (name === 'scp' || name === 'permissions')) granted.push(...value);
  }
  return granted;
}

function oracle(route: Route, claims: Record<string, unknown>, context: { now: number; clockTolerance: number; scopeClaims: ScopeClaimName[] }): Expected {
  const { now, clockTolerance } = context;
  const authTime = claims.auth_time;
  const validAuthTime = typeof authTime === 'number' && Number.isFinite(authTime) && authTime >= 0;
  if (validAuthTime && authTime > now + clockTolerance) {
    return { allowed: false, error: 'invalid_token', claim: 'auth_time', reason: 'in_future', scopeInChallenge: false };
  }

  const required = route.requirement?.acr === undefined ? [] : ([] as string[]).concat(route.requirement.acr);
  const rank = (value: unknown) => (typeof value === 'string' ? route.ranking.indexOf(value) : -1);
  const acrOk =
    required.length === 0 ||
    (typeof claims.acr === 'string' &&
      (required.includes(claims.acr) || (rank(claims.acr) >= 0 && required.some((value) => rank(value) >= 0 && rank(claims.acr) >= rank(value)))));
  const amr = claims.amr;
  const amrOk = (route.requirement?.amr ?? []).every((value) => Array.isArray(amr) && amr.some((held) => held === value));
  const maxAge = route.requirement?.maxAge === undefined ? undefined : seconds(route.requirement.maxAge);
  const ageOk = maxAge === undefined || (validAuthTime && Math.floor(now) - authTime <= maxAge + clockTolerance);

  const granted = grantedScopes(claims, context.scopeClaims);
  const scopeOk = route.scopes.every((scope) => granted.some((held) => held === scope));

  const stepUp = (claim: string, reason: string): Expected => ({
    allowed: false,
    error: 'insufficient_user_authentication',
    claim,
    reason,
    scopeInChallenge: !scopeOk,
  });
  if (!acrOk) return stepUp('acr', typeof claims.acr === 'string' ? 'not_accepted' : 'missing');
  if (!amrOk) return stepUp('amr', 'incomplete');
  if (!ageOk) return stepUp('auth_time', validAuthTime ? 'too_old' : 'missing');
  if (!scopeOk) return { allowed: false, error: 'insufficient_scope', claim: 'scope', reason: 'missing', scopeInChallenge: true };
  return { allowed: true };
}

describe('evaluatePolicy (property-based, against an independent oracle)', () => {
  it('allows exactly when every rule holds, and refuses with the error, claim and challenge the rules call for', () => {
    fc.assert(
      fc.property(routeArb, claimsArb, contextArb, (route, recipe, context) => {
        const policy = compilePolicy(route.requirement, route.scopes, { acrRanking: route.ranking });
        const claims = buildClaims(recipe, context.now);
        const result = evaluatePolicy(claims, policy, context);
        const expected = oracle(route, claims, context);

        expect(result.allowed).toBe(expected.allowed);
        if (result.allowed || expected.allowed) return;
        const { failure } = result;
        expect({ error: failure.error, claim: failure.claim, reason: failure.reason }).toEqual({
          error: expected.error,
          claim: expected.claim,
          reason: expected.reason,
        });
        // The challenge tells the client how to fix everything at once (RFC 9470 §3): the route's acr
        // values and max_age, and the missing scopes when they are missing too.
        if (expected.error === 'insufficient_user_authentication') {
          const acr = route.requirement?.acr === undefined ? [] : unique(([] as string[]).concat(route.requirement.acr));
          expect(failure.acrValues ?? []).toEqual(acr);
          expect(failure.maxAge).toBe(route.requirement?.maxAge === undefined ? undefined : seconds(route.requirement.maxAge));
        }
        expect(failure.scope ?? []).toEqual(expected.scopeInChallenge ? unique(route.scopes) : []);
        // Descriptions are fixed text: nothing read from the token can reach the challenge.
        expect(failure.description).toMatch(/^[\x20\x21\x23-\x5B\x5D-\x7E]+$/);
      }),
      RUNS,
    );
  });

  it('gives, through PolicyDecisions, the answer evaluatePolicy gives at every moment, however the clock moves', () => {
    const frozen = (claims: Record<string, unknown>) => {
      for (const value of Object.values(claims)) if (Array.isArray(value)) Object.freeze(value);
      return Object.freeze(claims);
    };
    fc.assert(
      fc.property(fc.array(routeArb, { minLength: 1, maxLength: 3 }), claimsArb, contextArb, fc.array(fc.tuple(fc.nat({ max: 2 }), offsetArb), { maxLength: 12 }), (routes, recipe, context, steps) => {
        const policies = routes.map((route) => compilePolicy(route.requirement, route.scopes, { acrRanking: route.ranking }));
        const claims = frozen(buildClaims(recipe, context.now));
        const decisions = new PolicyDecisions(context);
        for (const [route, offset] of steps) {
          const policy = policies[route % policies.length]!;
          const at = { ...context, now: context.now + offset };
          expect(decisions.evaluate(claims, policy, at.now)).toBe(evaluatePolicy(claims, policy, at));
        }
      }),
      RUNS,
    );
  });

  it('never throws, whatever the claims hold', () => {
    const anyClaims = fc.dictionary(fc.constantFrom('acr', 'amr', 'auth_time', 'scope', 'scp', 'permissions', '__proto__', 'constructor'), fc.anything(), {
      maxKeys: 6,
    });
    fc.assert(
      fc.property(routeArb, anyClaims, contextArb, (route, claims, context) => {
        const policy = compilePolicy(route.requirement, route.scopes, { acrRanking: route.ranking });
        const result = evaluatePolicy(claims, policy, context);
        expect(typeof result.allowed).toBe('boolean');
      }),
      RUNS,
    );
  });

  it('allows a route with no requirement for any claims, and a route with requirements never for empty claims', () => {
    fc.assert(
      fc.property(routeArb, contextArb, (route, context) => {
        const open = compilePolicy(undefined, []);
        expect(evaluatePolicy({}, open, context).allowed).toBe(true);
        const policy = compilePolicy(route.requirement, route.scopes, { acrRanking: route.ranking });
        const demanding =
          route.scopes.length > 0 ||
          route.requirement?.acr !== undefined ||
          (route.requirement?.amr?.length ?? 0) > 0 ||
          route.requirement?.maxAge !== undefined;
        expect(evaluatePolicy({}, policy, context).allowed).toBe(!demanding);
      }),
      RUNS,
    );
  });

  it('accepts as acr, amr or scope exactly the strings a challenge can carry', () => {
    const item = (value: string) => value.length > 0 && [...value].every((char) => char >= '!' && char <= '~' && char !== '"' && char !== '\\');
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 8 }), (value) => {
        const compiles = (build: () => unknown) => {
          try {
            build();
            return true;
          } catch (error) {
            expect(error).toBeInstanceOf(TypeError);
            return false;
          }
        };
        expect(compiles(() => compilePolicy({ acr: value }))).toBe(item(value));
        expect(compiles(() => compilePolicy({ amr: [value] }))).toBe(item(value));
        expect(compiles(() => compilePolicy(undefined, [value]))).toBe(item(value));
      }),
      { numRuns: 1000 },
    );
  });
});

// ---- Challenges ----

// RFC 6750 §3: %x20-21 / %x23-5B / %x5D-7E; an acr value or scope-token is the same set without space.
const textChar = fc.integer({ min: 0x20, max: 0x7e }).filter((code) => code !== 0x22 && code !== 0x5c).map((code) => String.fromCharCode(code));
const itemChar = fc.integer({ min: 0x21, max: 0x7e }).filter((code) => code !== 0x22 && code !== 0x5c).map((code) => String.fromCharCode(code));
const textArb = fc.string({ unit: textChar, maxLength: 40 });
const itemArb = fc.string({ unit: itemChar, minLength: 1, maxLength: 16 });
const ERRORS: BearerErrorCode[] = ['invalid_request', 'invalid_token', 'insufficient_scope', 'insufficient_user_authentication'];
const SAFE_VALUE = '"[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]*"';
const SAFE_CHALLENGE = new RegExp(`^Bearer(?: [a-z_]+=${SAFE_VALUE}(?:, [a-z_]+=${SAFE_VALUE})*)?$`);

const challengeArb: fc.Arbitrary<BearerChallenge> = fc.record(
  {
    realm: textArb,
    error: fc.constantFrom(...ERRORS),
    errorDescription: textArb,
    acrValues: fc.array(itemArb, { maxLength: 4 }),
    maxAge: fc.oneof(fc.nat(), fc.constant(Number.MAX_SAFE_INTEGER)),
    scope: fc.array(itemArb, { maxLength: 4 }),
  },
  { requiredKeys: [] },
);

describe('formatBearerChallenge and parseStepUpChallenge (property-based)', () => {
  it('parses every challenge it writes back to the same values', () => {
    fc.assert(
      fc.property(challengeArb, (challenge) => {
        const header = formatBearerChallenge(challenge);
        expect(header).toMatch(SAFE_CHALLENGE);
        expect(parseStepUpChallenge(header)).toEqual({
          ...(challenge.realm !== undefined && { realm: challenge.realm }),
          ...(challenge.error !== undefined && { error: challenge.error }),
          ...(challenge.errorDescription !== undefined && { errorDescription: challenge.errorDescription }),
          acrValues: challenge.acrValues ?? [],
          ...(challenge.maxAge !== undefined && { maxAge: challenge.maxAge }),
          scope: challenge.scope ?? [],
        });
      }),
      RUNS,
    );
  });

  it('parses it back also beside other challenges in the same header (RFC 9110 §11.6.1)', () => {
    const other = fc.constantFrom('Basic realm="x"', 'DPoP algs="ES256 PS256"', 'Negotiate', 'Newauth realm="apps", type=1, title="Login"');
    fc.assert(
      fc.property(challengeArb, other, fc.boolean(), (challenge, foreign, before) => {
        const bearer = formatBearerChallenge(challenge);
        const header = before ? `${foreign}, ${bearer}` : `${bearer}, ${foreign}`;
        expect(parseStepUpChallenge(header)).toEqual(parseStepUpChallenge(bearer));
      }),
      RUNS,
    );
  });

  it('refuses to write anything outside the character set, and writes only that set otherwise', () => {
    const anyText = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 12 }), textArb.map((text) => `${text}"\r\n`));
    fc.assert(
      fc.property(
        fc.record({ realm: anyText, errorDescription: anyText, acrValues: fc.array(anyText, { maxLength: 3 }), scope: fc.array(anyText, { maxLength: 3 }) }, { requiredKeys: [] }),
        (challenge) => {
          let header: string;
          try {
            header = formatBearerChallenge(challenge);
          } catch (error) {
            expect(error).toBeInstanceOf(TypeError);
            return;
          }
          expect(header).toMatch(SAFE_CHALLENGE);
          expect(() => parseStepUpChallenge(header)).not.toThrow();
        },
      ),
      RUNS,
    );
  });
});
