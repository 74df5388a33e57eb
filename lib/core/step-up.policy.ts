import type { BearerErrorCode } from './step-up.constants.js';
import { assertChallengeItems } from './step-up.challenge.js';
import { parseDurationSeconds } from './step-up.duration.js';

/** Where a token may carry its granted scopes. */
export type ScopeClaimName = 'scope' | 'scp' | 'permissions';

/** What a route asks of the user's authentication, as written on `@RequireStepUp()`. */
export interface StepUpRequirement {
  /** The token's `acr` must be one of these (or rank at or above one of them, see `acrRanking`). */
  readonly acr?: string | readonly string[];
  /** The token's `amr` must contain every one of these. */
  readonly amr?: readonly string[];
  /** The user must have authenticated at most this long ago: seconds, or `'90s'`, `'5m'`, `'1h'`. */
  readonly maxAge?: number | string;
}

const REQUIREMENT_FIELDS: ReadonlySet<string> = new Set(['acr', 'amr', 'maxAge']);

/**
 * An inner requirement (a method's, a subclass's) laid over an outer one (its class's, its base's): each
 * field the inner one sets replaces the outer one's, and the fields it leaves out stay. So `{ maxAge: 60 }`
 * on a method of an MFA class asks for a recent MFA, not for a recent sign-in of any kind.
 */
export function layerRequirements(outer: StepUpRequirement | undefined, inner: StepUpRequirement | undefined): StepUpRequirement | undefined {
  if (outer === undefined || inner === undefined) return inner ?? outer;
  const layered: { -readonly [field in keyof StepUpRequirement]: StepUpRequirement[field] } = { ...outer };
  if (inner.acr !== undefined) layered.acr = inner.acr;
  if (inner.amr !== undefined) layered.amr = inner.amr;
  if (inner.maxAge !== undefined) layered.maxAge = inner.maxAge;
  return layered;
}

/** A route's requirements, checked and prepared once so evaluation allocates nothing on success. */
export interface CompiledPolicy {
  /** Acr values to ask for in a challenge, as the route declared them. */
  readonly acrValues: readonly string[];
  /** Every acr value that satisfies the route (declared values and those ranked above them). */
  readonly acceptedAcr: ReadonlySet<string> | undefined;
  readonly amr: readonly string[];
  readonly maxAge: number | undefined;
  readonly scopes: readonly string[];
}

export interface PolicyOptions {
  /** Acr values from lowest to highest assurance: a higher one satisfies a route asking for a lower one. */
  readonly acrRanking?: readonly string[];
}

export interface EvaluationContext {
  /** Current time in seconds since the epoch. */
  readonly now: number;
  /** Seconds of clock skew tolerated on `auth_time`. */
  readonly clockTolerance: number;
  /** Claims read for granted scopes, in order. */
  readonly scopeClaims: readonly ScopeClaimName[];
}

export type FailedClaim = 'acr' | 'amr' | 'auth_time' | 'scope';
export type FailureReason = 'missing' | 'not_accepted' | 'incomplete' | 'too_old' | 'in_future';

/** Why a token does not satisfy a route, and the challenge that tells the client how to fix it. */
export interface PolicyFailure {
  readonly error: Exclude<BearerErrorCode, 'invalid_request'>;
  readonly claim: FailedClaim;
  readonly reason: FailureReason;
  /** Fixed text: never holds anything read from the token. */
  readonly description: string;
  readonly acrValues?: readonly string[];
  readonly maxAge?: number;
  readonly scope?: readonly string[];
}

export type PolicyResult = { readonly allowed: true } | { readonly allowed: false; readonly failure: PolicyFailure };

const ALLOWED: PolicyResult = Object.freeze({ allowed: true });

function checkedItems(values: readonly string[], what: string): readonly string[] {
  assertChallengeItems(values, what);
  return Object.freeze([...new Set(values)]);
}

/** Validates a route's requirements and prepares them for {@link evaluatePolicy}. Throws on any mistake. */
export function compilePolicy(
  requirement: StepUpRequirement | undefined,
  scopes: readonly string[] = [],
  options: PolicyOptions = {},
): CompiledPolicy {
  for (const field of Object.keys(requirement ?? {})) {
    if (!REQUIREMENT_FIELDS.has(field)) {
      throw new TypeError(`${JSON.stringify(field)} is not a step-up requirement: use acr, amr and maxAge${field === 'max_age' ? ' (maxAge, in seconds or a duration)' : ''}`);
    }
  }
  const acrValues = checkedItems(
    requirement?.acr === undefined ? [] : typeof requirement.acr === 'string' ? [requirement.acr] : requirement.acr,
    'acr',
  );
  if (requirement?.acr !== undefined && acrValues.length === 0) {
    throw new TypeError('acr must name at least one value; leave it out to accept any acr');
  }
  const amr = checkedItems(requirement?.amr ?? [], 'amr');
  if (requirement?.amr !== undefined && amr.length === 0) {
    throw new TypeError('amr must name at least one value; leave it out to accept any amr');
  }
  return Object.freeze({
    acrValues,
    acceptedAcr: acrValues.length ? acceptedAcrValues(acrValues, options.acrRanking ?? []) : undefined,
    amr,
    maxAge: requirement?.maxAge === undefined ? undefined : parseDurationSeconds(requirement.maxAge, 'maxAge'),
    scopes: checkedItems(scopes, 'scope'),
  });
}

function acceptedAcrValues(required: readonly string[], ranking: readonly string[]): ReadonlySet<string> {
  const accepted = new Set(required);
  const ranks = required.map((value) => ranking.indexOf(value)).filter((rank) => rank >= 0);
  if (ranks.length) ranking.slice(Math.min(...ranks)).forEach((value) => accepted.add(value));
  return accepted;
}

/** A NumericDate (RFC 7519 §2): a finite, non-negative number. Anything else counts as absent. */
function numericDate(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

// The loops below index rather than use for-of: the arrays they walk are frozen, and V8 does not
// inline the iterator protocol over frozen arrays, which cost a builtin call per element per request.

function hasAllAmr(amr: unknown, required: readonly string[]): boolean {
  if (!Array.isArray(amr)) return false;
  for (let index = 0; index < required.length; index++) if (!amr.includes(required[index])) return false;
  return true;
}

/** Whether a space-delimited scope string holds `scope` as a whole scope-token (RFC 6749 §3.3). */
function hasScopeToken(granted: string, scope: string): boolean {
  // Only single spaces separate scope-tokens: a tab or newline is part of a token, so it never matches.
  for (let at = granted.indexOf(scope); at !== -1; at = granted.indexOf(scope, at + 1)) {
    const end = at + scope.length;
    if ((at === 0 || granted.charCodeAt(at - 1) === 32) && (end === granted.length || granted.charCodeAt(end) === 32)) {
      return true;
    }
  }
  return false;
}

function isGranted(claims: Readonly<Record<string, unknown>>, names: readonly ScopeClaimName[], scope: string): boolean {
  for (let index = 0; index < names.length; index++) {
    const name = names[index]!;
    const value = claims[name];
    if (typeof value === 'string' ? name !== 'permissions' && hasScopeToken(value, scope) : name !== 'scope' && Array.isArray(value) && value.includes(scope)) {
      return true;
    }
  }
  return false;
}

function missingScopes(claims: Readonly<Record<string, unknown>>, policy: CompiledPolicy, scopeClaims: readonly ScopeClaimName[]): boolean {
  const { scopes } = policy;
  for (let index = 0; index < scopes.length; index++) if (!isGranted(claims, scopeClaims, scopes[index]!)) return true;
  return false;
}

type Refused = Extract<PolicyResult, { allowed: false }>;
type StepUpRule = readonly [FailedClaim, FailureReason, string];

const refused = (failure: PolicyFailure): Refused => Object.freeze({ allowed: false, failure: Object.freeze(failure) });

const AUTH_TIME_IN_FUTURE = refused({
  error: 'invalid_token',
  claim: 'auth_time',
  reason: 'in_future',
  description: 'The access token states an authentication time in the future',
});

const STEP_UP_RULES = {
  acrMissing: ['acr', 'missing', 'The access token does not state how the user authenticated (acr)'],
  acrNotAccepted: ['acr', 'not_accepted', 'A stronger authentication context (acr) is required'],
  amrIncomplete: ['amr', 'incomplete', 'Additional authentication methods (amr) are required'],
  authTimeMissing: ['auth_time', 'missing', 'The access token does not state when the user authenticated (auth_time)'],
  authTimeTooOld: ['auth_time', 'too_old', 'The user must authenticate again (max_age exceeded)'],
} as const satisfies Record<string, StepUpRule>;
type StepUpRuleId = keyof typeof STEP_UP_RULES;
/** The step-up rules whose outcome time cannot change. */
type FixedRuleId = Exclude<StepUpRuleId, 'authTimeTooOld'>;
const FIXED_RULES: readonly FixedRuleId[] = ['acrMissing', 'acrNotAccepted', 'amrIncomplete', 'authTimeMissing'];

/**
 * What a policy answers a claims object once every rule that does not depend on time has been applied:
 * the answer while its `auth_time` is within `maxAge`, and the answer once it is not.
 */
interface Verdict {
  readonly timely: PolicyResult;
  readonly tooOld: PolicyResult;
}

/** Every verdict a policy can give, built once: evaluation then allocates nothing and a refusal keeps its identity. */
interface Verdicts {
  readonly allowed: Verdict;
  readonly scopeMissing: Verdict;
  readonly fixed: Readonly<Record<FixedRuleId, Verdict>>;
  /** The same, when the token also lacks a scope: the challenge asks for that too. */
  readonly fixedAndScope: Readonly<Record<FixedRuleId, Verdict>>;
}

const verdictsByPolicy = new WeakMap<CompiledPolicy, Verdicts>();

function buildVerdicts(policy: CompiledPolicy): Verdicts {
  const stepUp = (scopeAlsoMissing: boolean) =>
    Object.fromEntries(
      Object.entries(STEP_UP_RULES).map(([id, [claim, reason, description]]) => [
        id,
        refused({
          error: 'insufficient_user_authentication',
          claim,
          reason,
          description,
          ...(policy.acrValues.length && { acrValues: policy.acrValues }),
          ...(policy.maxAge !== undefined && { maxAge: policy.maxAge }),
          ...(scopeAlsoMissing && { scope: policy.scopes }),
        }),
      ]),
    ) as Record<StepUpRuleId, Refused>;
  // A fixed rule's refusal stands whatever the clock says.
  const fixedVerdicts = (refusals: Record<StepUpRuleId, Refused>) =>
    Object.fromEntries(FIXED_RULES.map((id) => [id, { timely: refusals[id], tooOld: refusals[id] }])) as Record<FixedRuleId, Verdict>;
  const [alone, withScope] = [stepUp(false), stepUp(true)];
  const scope = refused({
    error: 'insufficient_scope',
    claim: 'scope',
    reason: 'missing',
    description: 'The access token lacks a scope this operation requires',
    scope: policy.scopes,
  });
  return {
    allowed: { timely: ALLOWED, tooOld: alone.authTimeTooOld },
    scopeMissing: { timely: scope, tooOld: withScope.authTimeTooOld },
    fixed: fixedVerdicts(alone),
    fixedAndScope: fixedVerdicts(withScope),
  };
}

function failedFixedRule(claims: Readonly<Record<string, unknown>>, policy: CompiledPolicy, authTime: number | undefined): FixedRuleId | undefined {
  const { acceptedAcr } = policy;
  const acr = claims.acr;
  if (acceptedAcr && typeof acr !== 'string') return 'acrMissing';
  if (acceptedAcr && !acceptedAcr.has(acr as string)) return 'acrNotAccepted';
  if (policy.amr.length && !hasAllAmr(claims.amr, policy.amr)) return 'amrIncomplete';
  if (policy.maxAge !== undefined && authTime === undefined) return 'authTimeMissing';
  return undefined;
}

/** Applies every rule that does not depend on time. */
function verdictOf(
  claims: Readonly<Record<string, unknown>>,
  policy: CompiledPolicy,
  authTime: number | undefined,
  scopeClaims: readonly ScopeClaimName[],
): Verdict {
  const rule = failedFixedRule(claims, policy, authTime);
  const scopeMissing = missingScopes(claims, policy, scopeClaims);
  let verdicts = verdictsByPolicy.get(policy);
  if (verdicts === undefined) verdictsByPolicy.set(policy, (verdicts = buildVerdicts(policy)));
  if (rule === undefined) return scopeMissing ? verdicts.scopeMissing : verdicts.allowed;
  return (scopeMissing ? verdicts.fixedAndScope : verdicts.fixed)[rule];
}

/** Applies the only two rules whose outcome changes with time alone: auth_time not in the future, then maxAge. */
function answerAt(verdict: Verdict, authTime: number | undefined, maxAge: number | undefined, now: number, clockTolerance: number): PolicyResult {
  if (authTime !== undefined && authTime > now + clockTolerance) return AUTH_TIME_IN_FUTURE;
  // Whole seconds elapsed, as auth_time counts them: with a fractional clock, maxAge 0 and no tolerance
  // would refuse every token, however fresh, and send the user round the step-up for ever.
  return maxAge !== undefined && Math.floor(now) - (authTime as number) > maxAge + clockTolerance ? verdict.tooOld : verdict.timely;
}

/**
 * Decides whether verified token claims satisfy a route. Pure and synchronous: the token's signature,
 * issuer, audience and lifetime must already have been checked. Checks, in order: `auth_time` not in the
 * future, then step-up (`acr`, `amr`, `auth_time` against `maxAge`), then scopes. A claim of the wrong
 * type counts as absent, so it leads to a challenge, never to an exception. Results are frozen and
 * shared: the same outcome for the same policy is the same object, so callers may key caches on it.
 */
export function evaluatePolicy(
  claims: Readonly<Record<string, unknown>>,
  policy: CompiledPolicy,
  context: EvaluationContext,
): PolicyResult {
  const authTime = numericDate(claims.auth_time);
  return answerAt(verdictOf(claims, policy, authTime, context.scopeClaims), authTime, policy.maxAge, context.now, context.clockTolerance);
}

/**
 * Whether the rules would read the same values from these claims forever: a frozen plain object of data
 * properties (no getters, nothing inherited but `Object.prototype`'s), whose arrays are frozen too.
 */
function isImmutable(claims: Readonly<Record<string, unknown>>): boolean {
  const prototype = Object.getPrototypeOf(claims);
  return (
    Object.isFrozen(claims) &&
    (prototype === Object.prototype || prototype === null) &&
    Object.values(Object.getOwnPropertyDescriptors(claims)).every(
      (property) => 'value' in property && (!Array.isArray(property.value) || Object.isFrozen(property.value)),
    )
  );
}

/** What {@link PolicyDecisions} keeps of one claims object. */
interface Remembered {
  readonly authTime: number | undefined;
  /** What each policy answers these claims, apart from the clock. */
  readonly verdicts: Map<CompiledPolicy, Verdict>;
}

/**
 * {@link evaluatePolicy} for claims seen before, by two comparisons of the clock. Every rule but two depends
 * on the claims and the policy alone, so what they decide for a claims object and a policy is decided once,
 * allowed or refused; `auth_time` not in the future and `maxAge` are evaluated on every call, and the
 * answer is always the one (the same object) `evaluatePolicy` would give.
 * Claims are remembered by identity, so only immutable ones are (frozen data with frozen arrays, as the
 * verifier's are), and they are forgotten when their object is collected.
 */
export class PolicyDecisions {
  private readonly remembered = new WeakMap<object, Remembered>();

  constructor(private readonly options: Omit<EvaluationContext, 'now'>) {}

  /** @param now seconds since the epoch */
  evaluate(claims: Readonly<Record<string, unknown>>, policy: CompiledPolicy, now: number): PolicyResult {
    const { clockTolerance, scopeClaims } = this.options;
    const known = this.remembered.get(claims);
    if (known !== undefined) {
      const verdict = known.verdicts.get(policy);
      if (verdict !== undefined) return answerAt(verdict, known.authTime, policy.maxAge, now, clockTolerance);
    }
    const authTime = numericDate(claims.auth_time);
    const decided = verdictOf(claims, policy, authTime, scopeClaims);
    if (isImmutable(claims)) {
      if (known === undefined) this.remembered.set(claims, { authTime, verdicts: new Map([[policy, decided]]) });
      else known.verdicts.set(policy, decided);
    }
    return answerAt(decided, authTime, policy.maxAge, now, clockTolerance);
  }
}
