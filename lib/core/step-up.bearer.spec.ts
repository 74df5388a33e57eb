import fc from 'fast-check';
import { isB64Token, readBearerCredentials } from './step-up.bearer.js';

const TOKEN = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln';

describe('readBearerCredentials', () => {
  it.each([
    [`Bearer ${TOKEN}`],
    [`bearer ${TOKEN}`],
    [`BEARER   ${TOKEN}`],
    [`Bearer ${TOKEN}  `],
    [[`Bearer ${TOKEN}`]],
  ])('reads the token from %j', (header) => {
    expect(readBearerCredentials(header, 8192)).toEqual({ kind: 'token', token: TOKEN });
  });

  it('accepts b64token padding', () => {
    expect(readBearerCredentials('Bearer abc+/==', 100)).toEqual({ kind: 'token', token: 'abc+/==' });
  });

  it.each([[undefined], [[]], ['Basic dXNlcjpwYXNz'], ['DPoP abc'], ['Bearerabc'], ['Digest abc'], ['Beare abc'], ['Bearex abc'], ['Bearer-x abc']])(
    'sees no bearer credentials in %j',
    (header) => {
      expect(readBearerCredentials(header, 8192)).toEqual({ kind: 'none' });
    },
  );

  it.each([
    ['', 'The Authorization header is empty'],
    ['   ', 'The Authorization header is empty'],
    ['Bearer', 'The Bearer credentials hold no token'],
    ['Bearer ', 'The Bearer credentials hold no token'],
    [`Bearer\t${TOKEN}\n`, 'The Bearer credentials must be exactly one token'],
    [[`Bearer ${TOKEN}`, `Bearer ${TOKEN}`], 'Send exactly one Authorization header'],
  ])('calls %j malformed', (header, description) => {
    expect(readBearerCredentials(header, 8192)).toEqual({ kind: 'malformed', description });
  });

  it.each([[`${TOKEN} ${TOKEN}`], [`${TOKEN},${TOKEN}`], [`${TOKEN}\t${TOKEN}`]])(
    'leaves the separators in %j to isB64Token, which refuses them',
    (credentials) => {
      expect(readBearerCredentials(`Bearer ${credentials}`, 8192)).toEqual({ kind: 'token', token: credentials });
      expect(isB64Token(credentials)).toBe(false);
    },
  );

  // "Bearer <token>" with nothing to trim takes a shortcut; whitespace in front, which HTTP strips (OWS),
  // sends the same header down the general parse, so the two must agree on every header.
  it('answers a header the same with or without whitespace in front (shortcut and general parse agree)', () => {
    const scheme = fc.constantFrom('Bearer ', 'Bearer  ', 'bearer ', 'BEARER ', 'Bearer', 'Bearer\t', 'Basic ', 'Bearerx ', '');
    const credentials = fc.string({ unit: fc.constantFrom('a', 'Z', '9', '-', '.', '_', '~', '+', '/', '=', ' ', '\t', ',', '"', 'é', '\u00a0') });
    fc.assert(
      fc.property(scheme, credentials, fc.integer({ min: 1, max: 40 }), (prefix, rest, limit) => {
        const header = prefix + rest;
        expect(readBearerCredentials(header, limit)).toEqual(readBearerCredentials(` ${header}`, limit));
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses an oversized token before looking at it', () => {
    expect(readBearerCredentials(`Bearer ${'a'.repeat(257)}`, 256)).toEqual({
      kind: 'malformed',
      description: 'The access token must not exceed 256 characters',
    });
    expect(readBearerCredentials(`Bearer ${'"'.repeat(100_000)}`, 256)).toEqual({
      kind: 'malformed',
      description: 'The access token must not exceed 256 characters',
    });
    expect(readBearerCredentials(`Bearer ${'a'.repeat(256)}`, 256).kind).toBe('token');
  });

  it('refuses a header longer than the limit plus 64 characters of spaces, whatever the token', () => {
    const token = 'abcdefghij';
    expect(readBearerCredentials(`Bearer${' '.repeat(58)}${token}`, 10)).toEqual({ kind: 'token', token });
    expect(readBearerCredentials(`Bearer${' '.repeat(59)}${token}`, 10)).toEqual({
      kind: 'malformed',
      description: 'The access token must not exceed 10 characters',
    });
    expect(readBearerCredentials(`Bearer${' '.repeat(100_000)}a`, 10)).toMatchObject({ kind: 'malformed' });
  });

  it('sees no bearer credentials in another scheme, however long (RFC 6750 §3.1: the bare challenge)', () => {
    expect(readBearerCredentials(`Negotiate ${'a'.repeat(20_000)}`, 256)).toEqual({ kind: 'none' });
  });
});

describe('isB64Token', () => {
  it.each([[TOKEN], ['abc+/=='], ['mF_9.B5f-4.1JqM'], ['a~b']])('accepts %j', (token) => {
    expect(isB64Token(token)).toBe(true);
  });

  it.each([['"abc"'], ['a=b'], ['=abc'], ['abc!'], ['é'], ['']])('refuses %j', (token) => {
    expect(isB64Token(token)).toBe(false);
  });
});
