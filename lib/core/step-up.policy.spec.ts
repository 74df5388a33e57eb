import { ACR_MFA } from './step-up.constants.js';
import { compilePolicy, evaluatePolicy, layerRequirements, PolicyDecisions, type EvaluationContext } from './step-up.policy.js';

const NOW = 1_800_000_000;
const context: EvaluationContext = { now: NOW, clockTolerance: 5, scopeClaims: ['scope', 'scp', 'permissions'] };
const MFA_CLAIMS = { acr: ACR_MFA, amr: ['mfa', 'otp'], auth_time: NOW - 60 };

function failureOf(claims: Record<string, unknown>, policy = compilePolicy({ acr: ACR_MFA, maxAge: 300 }), at = context) {
  const result = evaluatePolicy(claims, policy, at);
  return result.allowed ? undefined : result.failure;
}

describe('compilePolicy', () => {
  it('normalises acr to a list and maxAge to seconds', () => {
    const policy = compilePolicy({ acr: ACR_MFA, maxAge: '5m', amr: ['mfa'] }, ['transfer:funds']);
    expect(policy).toMatchObject({ acrValues: [ACR_MFA], amr: ['mfa'], maxAge: 300, scopes: ['transfer:funds'] });
    expect([...policy.acceptedAcr!]).toEqual([ACR_MFA]);
  });

  it('freezes the policy and its lists, which every refusal shares', () => {
    const policy = compilePolicy({ acr: ACR_MFA, amr: ['mfa'], maxAge: 300 }, ['transfer:funds']);
    expect([policy, policy.acrValues, policy.amr, policy.scopes].every(Object.isFrozen)).toBe(true);
    const refusal = evaluatePolicy({}, policy, context);
    expect(!refusal.allowed && Object.isFrozen(refusal.failure.acrValues) && Object.isFrozen(refusal.failure.scope)).toBe(true);
  });

  it('expands acr through the ranking: higher assurance satisfies lower', () => {
    const policy = compilePolicy({ acr: 'silver' }, [], { acrRanking: ['bronze', 'silver', 'gold'] });
    expect([...policy.acceptedAcr!].sort()).toEqual(['gold', 'silver']);
    expect(policy.acrValues).toEqual(['silver']);
  });

  it('keeps unranked acr values exact', () => {
    const policy = compilePolicy({ acr: ['custom', 'gold'] }, [], { acrRanking: ['silver', 'gold'] });
    expect([...policy.acceptedAcr!].sort()).toEqual(['custom', 'gold']);
  });

  it.each([
    [{ acr: 'has space' }, /acr "has space" is not valid/],
    [{ acr: 'quote"' }, /acr "quote\\"" is not valid/],
    [{ acr: [] }, /acr must name at least one value/],
    [{ amr: [] }, /amr must name at least one value/],
    [{ amr: ['back\\slash'] }, /amr "back\\\\slash" is not valid/],
    [{ acr: [42] }, /acr 42 is not valid/],
    [{ amr: [null] }, /amr null is not valid/],
    [{ maxAge: -1 }, /maxAge must be a whole number of seconds/],
    [{ acr: ACR_MFA, max_age: 300 }, /"max_age" is not a step-up requirement: use acr, amr and maxAge \(maxAge, in seconds or a duration\)/],
    [{ acrValues: [ACR_MFA] }, /"acrValues" is not a step-up requirement: use acr, amr and maxAge$/],
    [{ amr: 'mfa' }, /amr must be given as a list of strings, not "mfa"/],
    [{ maxAge: '5 minutes' }, /maxAge must be seconds \(300\) or a duration string/],
  ])('refuses %j', (requirement, message) => {
    expect(() => compilePolicy(requirement as never)).toThrow(message);
  });

  it('refuses a scope outside the challenge character set', () => {
    expect(() => compilePolicy(undefined, ['transfer funds'])).toThrow(/scope "transfer funds" is not valid/);
  });
});

describe('layerRequirements', () => {
  it('lays each field an inner requirement sets over the outer one, and keeps the rest', () => {
    const outer = { acr: ACR_MFA, amr: ['mfa'], maxAge: 300 };
    expect(layerRequirements(outer, { maxAge: 60 })).toEqual({ acr: ACR_MFA, amr: ['mfa'], maxAge: 60 });
    expect(layerRequirements(outer, { acr: 'urn:gold', amr: ['hwk'] })).toEqual({ acr: 'urn:gold', amr: ['hwk'], maxAge: 300 });
    expect(layerRequirements({ acr: ACR_MFA }, { maxAge: '1m', acr: undefined })).toEqual({ acr: ACR_MFA, maxAge: '1m' });
  });

  it('returns either one when the other is absent', () => {
    const only = { acr: ACR_MFA };
    expect(layerRequirements(only, undefined)).toBe(only);
    expect(layerRequirements(undefined, only)).toBe(only);
    expect(layerRequirements(undefined, undefined)).toBeUndefined();
  });
});

describe('evaluatePolicy', () => {
  it('allows a fresh MFA token', () => {
    const result = evaluatePolicy(MFA_CLAIMS, compilePolicy({ acr: ACR_MFA, maxAge: 300 }), context);
    expect(result).toEqual({ allowed: true });
    expect(Object.isFrozen(result)).toBe(true); // shared by every allowed request
  });

  it('allows any valid token when the route asks for nothing', () => {
    expect(evaluatePolicy({}, compilePolicy(undefined), context).allowed).toBe(true);
  });

  describe('acr', () => {
    it('challenges a missing acr', () => {
      expect(failureOf({ auth_time: NOW })).toEqual({
        error: 'insufficient_user_authentication',
        claim: 'acr',
        reason: 'missing',
        description: 'The access token does not state how the user authenticated (acr)',
        acrValues: [ACR_MFA],
        maxAge: 300,
      });
    });

    it.each([[[ACR_MFA]], [42], [{ value: ACR_MFA }], [null]])('treats acr %j (wrong type) as missing', (acr) => {
      expect(failureOf({ ...MFA_CLAIMS, acr })).toMatchObject({ claim: 'acr', reason: 'missing' });
    });

    it('challenges an acr that is not accepted', () => {
      expect(failureOf({ ...MFA_CLAIMS, acr: 'urn:password' })).toMatchObject({ claim: 'acr', reason: 'not_accepted' });
    });

    it('accepts a higher-ranked acr and refuses a lower-ranked one', () => {
      const policy = compilePolicy({ acr: 'silver' }, [], { acrRanking: ['bronze', 'silver', 'gold'] });
      expect(evaluatePolicy({ acr: 'gold' }, policy, context).allowed).toBe(true);
      expect(failureOf({ acr: 'bronze' }, policy)).toMatchObject({ claim: 'acr', reason: 'not_accepted', acrValues: ['silver'] });
    });

    it('does not match acr by prefix or case', () => {
      expect(failureOf({ ...MFA_CLAIMS, acr: `${ACR_MFA}x` })).toMatchObject({ reason: 'not_accepted' });
      expect(failureOf({ ...MFA_CLAIMS, acr: ACR_MFA.toUpperCase() })).toMatchObject({ reason: 'not_accepted' });
    });
  });

  describe('amr', () => {
    const policy = compilePolicy({ acr: ACR_MFA, amr: ['mfa', 'hwk'] });

    it('requires every listed method', () => {
      expect(evaluatePolicy({ acr: ACR_MFA, amr: ['hwk', 'mfa', 'user'] }, policy, context).allowed).toBe(true);
      expect(failureOf({ acr: ACR_MFA, amr: ['mfa', 'otp'] }, policy)).toEqual({
        error: 'insufficient_user_authentication',
        claim: 'amr',
        reason: 'incomplete',
        description: 'Additional authentication methods (amr) are required',
        acrValues: [ACR_MFA],
      });
    });

    it('names in the challenge only what the route asks for: no acr_values nor max_age for an amr-only route', () => {
      expect(failureOf({ amr: ['pwd'] }, compilePolicy({ amr: ['mfa'] }))).toStrictEqual({
        error: 'insufficient_user_authentication',
        claim: 'amr',
        reason: 'incomplete',
        description: 'Additional authentication methods (amr) are required',
      });
    });

    it.each([['mfa hwk'], [undefined], [{ 0: 'mfa', 1: 'hwk' }]])('treats amr %j (not an array) as missing', (amr) => {
      expect(failureOf({ acr: ACR_MFA, amr }, policy)).toMatchObject({ claim: 'amr' });
    });
  });

  describe('auth_time and maxAge', () => {
    it('allows an authentication exactly maxAge old, and up to the tolerance beyond', () => {
      expect(failureOf({ ...MFA_CLAIMS, auth_time: NOW - 300 })).toBeUndefined();
      expect(failureOf({ ...MFA_CLAIMS, auth_time: NOW - 305 })).toBeUndefined();
    });

    it('counts whole seconds, so maxAge 0 without tolerance accepts an authentication of this very second', () => {
      const policy = compilePolicy({ maxAge: 0 });
      const at = { ...context, now: NOW + 0.7, clockTolerance: 0 };
      expect(evaluatePolicy({ auth_time: NOW }, policy, at)).toEqual({ allowed: true });
      expect(evaluatePolicy({ auth_time: NOW - 1 }, policy, at)).toMatchObject({ allowed: false, failure: { reason: 'too_old' } });
    });

    it('challenges an authentication older than maxAge plus tolerance', () => {
      expect(failureOf({ ...MFA_CLAIMS, auth_time: NOW - 306 })).toMatchObject({
        claim: 'auth_time',
        reason: 'too_old',
        description: 'The user must authenticate again (max_age exceeded)',
        maxAge: 300,
      });
    });

    it.each([['1799999990'], [-5], [Number.NaN], [Number.POSITIVE_INFINITY], [null]])(
      'treats auth_time %j (not a NumericDate) as missing',
      (authTime) => {
        expect(failureOf({ ...MFA_CLAIMS, auth_time: authTime })).toMatchObject({ claim: 'auth_time', reason: 'missing' });
      },
    );

    it('accepts a fractional NumericDate', () => {
      expect(failureOf({ ...MFA_CLAIMS, auth_time: NOW - 10.5 })).toBeUndefined();
    });

    it('does not need auth_time when the route sets no maxAge', () => {
      expect(failureOf({ acr: ACR_MFA }, compilePolicy({ acr: ACR_MFA }))).toBeUndefined();
    });

    it('calls an auth_time in the future beyond tolerance an invalid token, whatever the route', () => {
      const expected = { error: 'invalid_token', claim: 'auth_time', reason: 'in_future' };
      expect(failureOf({ ...MFA_CLAIMS, auth_time: NOW + 6 })).toMatchObject(expected);
      expect(failureOf({ auth_time: NOW + 6 }, compilePolicy(undefined))).toMatchObject(expected);
      expect(failureOf({ ...MFA_CLAIMS, auth_time: NOW + 5 })).toBeUndefined();
    });
  });

  describe('scopes', () => {
    const policy = compilePolicy(undefined, ['transfer:funds', 'read:balance']);

    it.each([
      ['scope string', { scope: 'read:balance transfer:funds openid' }],
      ['scp string', { scp: 'transfer:funds read:balance' }],
      ['scp array', { scp: ['transfer:funds', 'read:balance'] }],
      ['permissions array', { permissions: ['transfer:funds', 'read:balance'] }],
      ['several claims together', { scope: 'read:balance', permissions: ['transfer:funds'] }],
    ])('reads granted scopes from a %s', (_name, claims) => {
      expect(evaluatePolicy(claims, policy, context).allowed).toBe(true);
    });

    it.each([
      ['a near-match', { scope: 'transfer:fundsX read:balance' }],
      ['a prefix', { scope: 'transfer read:balance' }],
      ['a tab separator', { scope: 'transfer:funds\tread:balance' }],
      ['a newline separator', { scope: 'transfer:funds\nread:balance' }],
      ['scope as an array', { scope: ['transfer:funds', 'read:balance'] }],
      ['permissions as a string', { permissions: 'transfer:funds read:balance' }],
      ['non-string entries', { scp: [['transfer:funds'], 'read:balance'] }],
    ])('does not accept %s', (_name, claims) => {
      expect(failureOf(claims, policy)).toEqual({
        error: 'insufficient_scope',
        claim: 'scope',
        reason: 'missing',
        description: 'The access token lacks a scope this operation requires',
        scope: ['transfer:funds', 'read:balance'],
      });
    });

    it('reads only the configured claims', () => {
      const scopeOnly = { ...context, scopeClaims: ['scope'] as const };
      expect(failureOf({ permissions: ['transfer:funds', 'read:balance'] }, policy, scopeOnly)).toMatchObject({ error: 'insufficient_scope' });
    });

    it('checks step-up before scope, and names the missing scope in the step-up challenge', () => {
      const both = compilePolicy({ acr: ACR_MFA, maxAge: 300 }, ['transfer:funds']);
      expect(failureOf({ scope: 'read:balance' }, both)).toMatchObject({
        error: 'insufficient_user_authentication',
        acrValues: [ACR_MFA],
        maxAge: 300,
        scope: ['transfer:funds'],
      });
      expect(failureOf({ scope: 'transfer:funds' }, both)).not.toHaveProperty('scope');
    });
  });

  it('gives the same frozen result for the same policy and outcome, and another for another outcome or policy', () => {
    const policy = compilePolicy({ acr: ACR_MFA, maxAge: 300 }, ['transfer:funds']);
    const weak = evaluatePolicy({ acr: 'basic', auth_time: NOW }, policy, context);
    expect(evaluatePolicy({ acr: 'other', auth_time: NOW - 10 }, policy, context)).toBe(weak);
    expect(Object.isFrozen(weak)).toBe(true);
    expect(weak.allowed || Object.isFrozen(weak.failure)).toBe(true);
    expect(evaluatePolicy({ acr: 'basic', auth_time: NOW, scope: 'transfer:funds' }, policy, context)).not.toBe(weak);
    expect(evaluatePolicy({ acr: 'basic', auth_time: NOW }, compilePolicy({ acr: ACR_MFA, maxAge: 300 }, ['transfer:funds']), context)).not.toBe(weak);
  });
});

describe('PolicyDecisions', () => {
  const policy = compilePolicy({ acr: ACR_MFA, amr: ['mfa'], maxAge: 300 }, ['transfer:funds']);
  const fresh = () => ({ ...MFA_CLAIMS, amr: [...MFA_CLAIMS.amr], scope: 'transfer:funds' });
  const deepFrozen = () => {
    const claims = fresh();
    Object.freeze(claims.amr);
    return Object.freeze(claims);
  };
  const deepFrozenCopy = (): Record<string, unknown> => ({ ...fresh(), amr: Object.freeze([...MFA_CLAIMS.amr]) });
  const decisions = () => new PolicyDecisions({ clockTolerance: context.clockTolerance, scopeClaims: context.scopeClaims });

  it('allows again claims it allowed, and stops when max_age runs out (auth_time 60 s ago, max_age 300 s, 5 s tolerance)', () => {
    const memo = decisions();
    const claims = deepFrozen();
    expect(memo.evaluate(claims, policy, NOW).allowed).toBe(true);
    expect(memo.evaluate(claims, policy, NOW + 245).allowed).toBe(true);
    expect(memo.evaluate(claims, policy, NOW + 246)).toMatchObject({ allowed: false, failure: { claim: 'auth_time', reason: 'too_old' } });
  });

  it('refuses an auth_time in the future when the clock goes back after an allowed request', () => {
    const memo = decisions();
    const claims = deepFrozen();
    expect(memo.evaluate(claims, policy, NOW).allowed).toBe(true);
    expect(memo.evaluate(claims, policy, NOW - 66)).toMatchObject({ allowed: false, failure: { error: 'invalid_token', reason: 'in_future' } });
    expect(memo.evaluate(claims, policy, NOW - 65).allowed).toBe(true);
  });

  it('decides each policy on its own for the same claims', () => {
    const memo = decisions();
    const claims = deepFrozen();
    const audit = compilePolicy({ acr: ACR_MFA }, ['admin:audit']);
    expect(memo.evaluate(claims, policy, NOW).allowed).toBe(true);
    expect(memo.evaluate(claims, audit, NOW)).toMatchObject({ allowed: false, failure: { error: 'insufficient_scope' } });
    expect(memo.evaluate(claims, policy, NOW).allowed).toBe(true);
  });

  it('remembers a refusal as well, and the clock still moves it: no scope is a 403, then past max_age a 401 that asks for the scope too', () => {
    const memo = decisions();
    const claims = Object.freeze({ ...deepFrozenCopy(), scope: 'account:read' });
    const noScope = memo.evaluate(claims, policy, NOW);
    expect(noScope).toMatchObject({ allowed: false, failure: { error: 'insufficient_scope', scope: ['transfer:funds'] } });
    expect(memo.evaluate(claims, policy, NOW)).toBe(noScope);
    expect(memo.evaluate(claims, policy, NOW + 246)).toMatchObject({
      allowed: false,
      failure: { error: 'insufficient_user_authentication', claim: 'auth_time', reason: 'too_old', scope: ['transfer:funds'] },
    });
    expect(memo.evaluate(claims, policy, NOW - 66)).toMatchObject({ allowed: false, failure: { error: 'invalid_token', reason: 'in_future' } });
    expect(memo.evaluate(claims, policy, NOW + 245)).toBe(noScope);
  });

  it.each([
    ['a claims object that is not frozen', () => fresh()],
    ['a frozen claims object whose amr array is not', () => Object.freeze(fresh())],
    ['a frozen claims object that inherits its amr', () => Object.freeze(Object.create(fresh()) as ReturnType<typeof fresh>)],
  ])('does not remember %s: a change to it is seen', (_name, make) => {
    const memo = decisions();
    const claims = make();
    expect(memo.evaluate(claims, policy, NOW).allowed).toBe(true);
    claims.amr.splice(0, claims.amr.length, 'pwd');
    expect(memo.evaluate(claims, policy, NOW)).toMatchObject({ allowed: false, failure: { claim: 'amr', reason: 'incomplete' } });
  });

  it('does not remember a claims object that is not frozen itself, though its arrays are: a new acr is seen', () => {
    const memo = decisions();
    const claims = deepFrozenCopy();
    expect(memo.evaluate(claims, policy, NOW).allowed).toBe(true);
    claims.acr = 'urn:pwd';
    expect(memo.evaluate(claims, policy, NOW)).toMatchObject({ allowed: false, failure: { claim: 'acr', reason: 'not_accepted' } });
  });

  it('does not remember a frozen claims object with a getter: what it returns next is seen', () => {
    const memo = decisions();
    let acr = ACR_MFA;
    const claims = Object.freeze(Object.defineProperty(deepFrozenCopy(), 'acr', { get: () => acr, enumerable: true }));
    expect(memo.evaluate(claims, policy, NOW).allowed).toBe(true);
    acr = 'urn:pwd';
    expect(memo.evaluate(claims, policy, NOW)).toMatchObject({ allowed: false, failure: { claim: 'acr', reason: 'not_accepted' } });
  });
});
