import { ACR_MFA } from './step-up.constants.js';
import { ChallengeParseError, formatBearerChallenge, parseChallenges, parseStepUpChallenge } from './step-up.challenge.js';

describe('formatBearerChallenge', () => {
  it('writes the RFC 9470 step-up challenge', () => {
    expect(
      formatBearerChallenge({
        realm: 'bank',
        error: 'insufficient_user_authentication',
        errorDescription: 'A stronger authentication context (acr) is required',
        acrValues: [ACR_MFA, 'urn:gold'],
        maxAge: 300,
        scope: ['transfer:funds', 'read:balance'],
      }),
    ).toBe(
      'Bearer realm="bank", error="insufficient_user_authentication", ' +
        'error_description="A stronger authentication context (acr) is required", ' +
        `acr_values="${ACR_MFA} urn:gold", max_age="300", scope="transfer:funds read:balance"`,
    );
  });

  it('writes a bare challenge without parameters', () => {
    expect(formatBearerChallenge({})).toBe('Bearer');
    expect(formatBearerChallenge({ realm: 'api' })).toBe('Bearer realm="api"');
    expect(formatBearerChallenge({ acrValues: [], scope: [] })).toBe('Bearer');
  });

  it.each(['a"b', 'a\\b', 'a\r\nSet-Cookie: x=1', 'é', 'a\tb', 'a\x7fb'])('refuses to write %j', (value) => {
    expect(() => formatBearerChallenge({ errorDescription: value })).toThrow(/outside RFC 6750's set/);
  });
});

describe('parseChallenges', () => {
  it('reads several challenges, token68 and quoted-pairs (RFC 9110 §11.6.1)', () => {
    expect(parseChallenges('Newauth realm="apps", type=1, title="Login to \\"apps\\"", Basic realm="simple", Negotiate abc==, DPoP')).toEqual([
      { scheme: 'Newauth', params: { realm: 'apps', type: '1', title: 'Login to "apps"' } },
      { scheme: 'Basic', params: { realm: 'simple' } },
      { scheme: 'Negotiate', token68: 'abc==', params: {} },
      { scheme: 'DPoP', params: {} },
    ]);
  });

  it('reads parameter names case-insensitively, with whitespace around "="', () => {
    expect(parseChallenges('Bearer Realm = "x" ,  ERROR=invalid_token')).toEqual([
      { scheme: 'Bearer', params: { realm: 'x', error: 'invalid_token' } },
    ]);
    expect(parseChallenges('Bearer realm\t=\t"x"')).toEqual([{ scheme: 'Bearer', params: { realm: 'x' } }]);
  });

  it('reads parameters named after Object.prototype members as any other', () => {
    const [challenge] = parseChallenges('Bearer constructor="x", __proto__="y", toString=z');
    expect(Object.entries(challenge!.params)).toEqual([
      ['constructor', 'x'],
      ['__proto__', 'y'],
      ['tostring', 'z'],
    ]);
  });

  it.each([
    ['Bearer realm="unterminated', /unterminated quoted-string/],
    ['Bearer realm="a", realm="b"', /parameter "realm" repeated/],
    ['Bearer realm="a" error="b"', /expected "," between parameters/],
    ['=x', /expected an auth-scheme/],
    ['Bearer ===', /expected auth-params or a token68/],
    ['Bearer =x', /expected auth-params or a token68/],
    ['Negotiate abc def', /expected auth-params or a token68/],
    ['Bearer realm="a\\', /unterminated quoted-pair/],
  ])('refuses %j', (header, message) => {
    expect(() => parseChallenges(header)).toThrow(ChallengeParseError);
    expect(() => parseChallenges(header)).toThrow(message);
  });
});

describe('parseStepUpChallenge', () => {
  it('reads back what formatBearerChallenge wrote', () => {
    const challenge = {
      realm: 'bank',
      error: 'insufficient_user_authentication',
      errorDescription: 'Authenticate again',
      acrValues: [ACR_MFA],
      maxAge: 60,
      scope: ['admin:users'],
    } as const;
    expect(parseStepUpChallenge(formatBearerChallenge(challenge))).toEqual(challenge);
  });

  it('finds the Bearer challenge among others, whatever its case', () => {
    expect(parseStepUpChallenge('DPoP algs="ES256", bearer error="invalid_token", error_uri="https://x.example/e"')).toEqual({
      error: 'invalid_token',
      errorUri: 'https://x.example/e',
      acrValues: [],
      scope: [],
    });
  });

  it('drops the empty items of runs of spaces, and sets no member for an absent parameter', () => {
    expect(parseStepUpChallenge('Bearer acr_values="gold  silver ", scope=" read"')).toStrictEqual({ acrValues: ['gold', 'silver'], scope: ['read'] });
  });

  it('returns undefined without a Bearer challenge', () => {
    expect(parseStepUpChallenge('Basic realm="x"')).toBeUndefined();
  });

  it('refuses a max_age that is not a non-negative integer', () => {
    expect(() => parseStepUpChallenge('Bearer max_age="-1"')).toThrow(/max_age is not a non-negative integer/);
    expect(() => parseStepUpChallenge('Bearer max_age="100000000000000000000"')).toThrow(/max_age is not a non-negative integer/);
    expect(() => parseStepUpChallenge('Bearer max_age=""')).toThrow(/max_age is not a non-negative integer/);
    expect(() => parseStepUpChallenge('Bearer realm="x", max_age="5m"')).toThrow(expect.objectContaining({ position: 18 }));
  });
});
