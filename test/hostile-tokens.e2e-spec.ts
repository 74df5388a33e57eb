import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey } from 'node:crypto';
import fc from 'fast-check';
import { CompactEncrypt } from 'jose';
import { ACR_MFA, parseStepUpChallenge, sameOriginPath } from 'nestjs-step-up';
import { createSigningKey, TestIssuer, type SigningKey } from './support/test-issuer.js';
import { AdminController, BankController, PLATFORMS, startTestApp, type TestApp } from './support/test-app.js';
import { catchAll, catchAllController } from './support/hostile-app.js';
import { rawGet, type RawResponse } from './support/hostile-http.js';
import { signHmac, signRaw, unsecured } from './support/hostile-tokens.js';

const now = () => Math.floor(Date.now() / 1000);
const realm = TestIssuer.audience;
/**
 * A return_to a login page can use safely: a path on this origin with no backslash or control
 * character, and still one (`/x`, not `//host` or `/\host`, no control character) if the page
 * percent-decodes it once more before redirecting.
 */
function expectLocalPath(path: string) {
  const origin = 'http://bank.example';
  expect(path).toMatch(/^\/(?![/\\])/);
  expect(path).not.toMatch(/[\x00-\x1f\x7f\\]/);
  expect(new URL(path, origin).origin).toBe(origin);
  const decoded = decodeOnce(path);
  expect(decoded).toMatch(/^\/(?![/\\])/);
  expect(decoded).not.toMatch(/[\x00-\x1f\x7f]/);
  expect(new URL(decoded, origin).origin).toBe(origin);
  expect(new URL(decoded, origin).pathname).toMatch(/^\/(?![/\\])/);
}

/** Percent-decodes once, as a careless login page would; leaves undecodable text as it is. */
const decodeOnce = (text: string) => {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
};

// RFC 6750 §3: every auth-param value we write is a quoted-string over %x20-21 / %x23-5B / %x5D-7E.
const SAFE_VALUE = '"[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]*"';
const SAFE_CHALLENGE = new RegExp(`^Bearer(?: [a-z_]+=${SAFE_VALUE}(?:, [a-z_]+=${SAFE_VALUE})*)?$`);

const D = {
  algorithm: 'The access token is signed with an algorithm that is not accepted',
  malformed: 'The access token is malformed',
  unknownKey: 'The access token is signed with an unknown key',
  signature: 'The access token signature is invalid',
  expired: 'The access token has expired',
  invalidClaim: 'The access token has an invalid claim',
  audience: 'The access token is not meant for this resource server',
  notYet: 'The access token is not valid yet',
  authTimeFuture: 'The access token states an authentication time in the future',
  acrMissing: 'The access token does not state how the user authenticated (acr)',
  amr: 'Additional authentication methods (amr) are required',
  authTimeMissing: 'The access token does not state when the user authenticated (auth_time)',
  scope: 'The access token lacks a scope this operation requires',
  oneHeader: 'Send exactly one Authorization header',
  empty: 'The Authorization header is empty',
  noToken: 'The Bearer credentials hold no token',
  oneToken: 'The Bearer credentials must be exactly one token',
  tooLong: 'The access token must not exceed 8192 characters',
  query: 'Send the access token in the Authorization header, not in the URL',
} as const;

type Refusal = readonly [status: number, error: string | undefined, description: string | undefined];

/** Status, challenge (parsed back with the exported parser) and problem body, all at once. */
async function expectRefusal(response: Response | RawResponse, [status, error, description]: Refusal) {
  const header = response instanceof Response ? response.headers.get('www-authenticate') : response.headers['www-authenticate'];
  const contentType = response instanceof Response ? response.headers.get('content-type') : response.headers['content-type'];
  const body = response instanceof Response ? await response.text() : response.body;
  expect({ status: response.status, header }).toEqual({ status, header: expect.stringMatching(SAFE_CHALLENGE) });
  if (error === undefined) {
    expect(header).toBe(`Bearer realm="${realm}"`);
  } else {
    expect(parseStepUpChallenge(header!)).toMatchObject({ realm, error, errorDescription: description });
  }
  expect(contentType).toMatch(/^application\/problem\+json/);
  expect(JSON.parse(body)).toMatchObject({ status, ...(error !== undefined && { error, detail: description }) });
}

const invalidToken = (description: string): Refusal => [401, 'invalid_token', description];
const stepUp = (description: string): Refusal => [401, 'insufficient_user_authentication', description];
const invalidRequest = (description: string): Refusal => [400, 'invalid_request', description];

/** A loopback server an attacker would point `jku`/`x5u` at: it counts every request it gets. */
async function startAttackerServer(): Promise<{ server: Server; url: string; hits: () => number }> {
  let hits = 0;
  const server = createServer((_request, response) => {
    hits++;
    response.writeHead(200, { 'content-type': 'application/json' }).end('{"keys":[]}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits: () => hits };
}

describe.each(PLATFORMS)('hostile input over %s', (platform) => {
  let issuer: TestIssuer;
  let api: TestApp;
  let key: SigningKey;
  let attacker: Awaited<ReturnType<typeof startAttackerServer>>;
  let attackerKey: SigningKey;

  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: issuer.issuer,
    aud: TestIssuer.audience,
    sub: 'user-1',
    iat: now(),
    exp: now() + 300,
    ...extra,
  });
  const header = (extra: Record<string, unknown> = {}) => ({ alg: 'ES256', kid: key.kid, typ: 'at+jwt', ...extra });
  /** Signed with the issuer's real key: only the field under test is hostile. */
  const signed = (payload: string | Record<string, unknown>, extraHeader: Record<string, unknown> = {}) =>
    signRaw(header(extraHeader), payload, key);
  /** Claims as JSON text, with `"@raw:<text>"` placeholders replaced by raw JSON (e.g. `1e309`). */
  const rawJson = (extra: Record<string, unknown>) => JSON.stringify(claims(extra)).replace(/"@raw:([^"]*)"/g, '$1');
  const MFA = () => ({ acr: ACR_MFA, amr: ['mfa', 'hwk'], auth_time: now() - 10, scope: 'transfer:funds read:balance' });
  const post = (path: string, token: string) => api.request(path, { method: 'POST', token });

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    key = issuer.keys[0]!;
    attacker = await startAttackerServer();
    attackerKey = await createSigningKey('ES256', 'attacker-key');
    api = await startTestApp(platform, issuer.moduleOptions, { controllers: [BankController, AdminController] });
    // One valid request so the key set is loaded before the counting tests begin.
    expect((await api.request('/api/profile', { token: await issuer.sign() })).status).toBe(200);
  });
  afterAll(async () => {
    await api.app.close();
    await issuer.close();
    await new Promise((resolve) => attacker.server.close(resolve));
  });

  describe('algorithms', () => {
    // An unsecured JWT (RFC 7519 §6) has an empty signature: refused as malformed when split, before its
    // alg is even read. With a signature tacked on, the allow-list refuses it. Either way, no key lookup.
    it.each(['none', 'None', 'NONE', 'nOnE'])('refuses an unsecured token with alg "%s" before looking up any key', async (alg) => {
      const before = issuer.jwksRequests;
      const token = unsecured(alg, claims(MFA()), { kid: 'nobody' });
      await expectRefusal(await post('/api/transfers', token), invalidToken(D.malformed));
      await expectRefusal(await post('/api/transfers', `${token}${'A'.repeat(86)}`), invalidToken(D.algorithm));
      expect(issuer.jwksRequests).toBe(before);
    });

    it.each([
      ['the PEM public key', () => createPublicKey({ key: key.publicJwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' })],
      ['the JWK JSON', () => JSON.stringify(key.publicJwk)],
      ['the JWK x coordinate', () => Buffer.from(key.publicJwk.x!, 'base64url')],
    ])('refuses HS256 signed with %s as the HMAC secret (algorithm confusion)', async (_name, secret) => {
      const token = signHmac(header({ alg: 'HS256' }), claims(MFA()), secret());
      await expectRefusal(await post('/api/transfers', token), invalidToken(D.algorithm));
    });

    it('refuses an asymmetric algorithm outside the allow-list (ES384), without fetching keys', async () => {
      const es384 = await createSigningKey('ES256');
      const before = issuer.jwksRequests;
      // The header says ES384; whatever the signature, the allow-list check comes first.
      const token = signRaw({ alg: 'ES384', kid: es384.kid, typ: 'at+jwt' }, claims(MFA()), es384);
      await expectRefusal(await post('/api/transfers', token), invalidToken(D.algorithm));
      expect(issuer.jwksRequests).toBe(before);
    });

    it('refuses RS256 in the header over the EC key the kid names (key/algorithm mismatch)', async () => {
      const token = signRaw(header({ alg: 'RS256' }), claims(MFA()), key);
      await expectRefusal(await post('/api/transfers', token), invalidToken(D.unknownKey));
    });

    it('refuses a JWE (five parts) where a JWS is expected', async () => {
      const jwe = await new CompactEncrypt(new TextEncoder().encode(JSON.stringify(claims(MFA()))))
        .setProtectedHeader({ alg: 'dir', enc: 'A256GCM', kid: key.kid, typ: 'at+jwt' })
        .encrypt(new Uint8Array(32));
      expect(jwe.split('.')).toHaveLength(5);
      await expectRefusal(await post('/api/transfers', jwe), invalidToken(D.malformed));
    });

    it.each([
      ['an unknown extension', { crit: ['urn:example:evil'], 'urn:example:evil': true }],
      ['an extension missing from the header', { crit: ['urn:example:absent'] }],
      ['an empty list', { crit: [] }],
      ['a registered name', { crit: ['kid'] }],
    ])('refuses a validly signed token whose crit names %s', async (_name, crit) => {
      await expectRefusal(await post('/api/transfers', signed(claims(MFA()), crit)), invalidToken(D.malformed));
    });

    describe('jku, x5u and embedded jwk are ignored, never fetched or trusted', () => {
      const hostileHeader = () => ({
        jku: `${attacker.url}/jwks.json`,
        x5u: `${attacker.url}/cert.pem`,
        jwk: attackerKey.publicJwk,
      });

      it('refuses a token signed by the attacker key the headers point to', async () => {
        const token = signRaw({ alg: 'ES256', kid: attackerKey.kid, typ: 'at+jwt', ...hostileHeader() }, claims(MFA()), attackerKey);
        await expectRefusal(await post('/api/transfers', token), invalidToken(D.unknownKey));
        expect(attacker.hits()).toBe(0);
      });

      it('refuses the same with the real kid: the real key checks the signature', async () => {
        const token = signRaw({ alg: 'ES256', kid: key.kid, typ: 'at+jwt', ...hostileHeader() }, claims(MFA()), attackerKey);
        await expectRefusal(await post('/api/transfers', token), invalidToken(D.signature));
        expect(attacker.hits()).toBe(0);
      });

      it('refuses the same without a kid: the embedded jwk is not used as the key', async () => {
        const token = signRaw({ alg: 'ES256', typ: 'at+jwt', ...hostileHeader() }, claims(MFA()), attackerKey);
        await expectRefusal(await post('/api/transfers', token), invalidToken(D.signature));
        expect(attacker.hits()).toBe(0);
      });
    });

    it.each([
      ['path traversal', '../../../../etc/passwd'],
      ['a URL', 'http://127.0.0.1:1/jwks'],
      ['CR LF and quotes', 'a"\r\nSet-Cookie: x=1'],
      ['5000 characters', 'k'.repeat(5000)],
      ['a number', 42],
      ['an object', { $ne: null }],
      ['an array holding the real kid', 'ARRAY_OF_REAL_KID'],
      ['null', null],
    ])('refuses a kid that is %s as signed with an unknown key', async (_name, kid) => {
      const value = kid === 'ARRAY_OF_REAL_KID' ? [key.kid] : kid;
      await expectRefusal(await post('/api/transfers', signed(claims(MFA()), { kid: value })), invalidToken(D.unknownKey));
    });

    it('refuses a 10 000-character kid by the token size limit, before parsing or fetching', async () => {
      const before = issuer.jwksRequests;
      const token = signed(claims(MFA()), { kid: 'k'.repeat(10_000) });
      await expectRefusal(await post('/api/transfers', token), invalidRequest(D.tooLong));
      expect(issuer.jwksRequests).toBe(before);
    });
  });

  describe('claims', () => {
    // Routes: /api/profile needs any valid token; /api/transfers needs acr MFA, auth_time within 5 min
    // and scope transfer:funds; /api/keys needs acr MFA and amr mfa + hwk.
    it.each<[string, Record<string, unknown>, Refusal | number]>([
      ['exp as a string', { exp: String(now() + 300) }, invalidToken(D.invalidClaim)],
      ['exp as a float', { exp: now() + 300.5 }, 200],
      ['exp negative', { exp: -1 }, invalidToken(D.expired)],
      ['exp zero', { exp: 0 }, invalidToken(D.expired)],
      // 1e309 is valid JSON text but no finite NumericDate (RFC 7519 §2): it must not mean "never expires".
      ['exp 1e309 (Infinity once parsed)', { exp: '@raw:1e309' }, invalidToken(D.invalidClaim)],
      ['exp as null', { exp: null }, invalidToken(D.invalidClaim)],
      ['exp as a boolean', { exp: true }, invalidToken(D.invalidClaim)],
      // RFC 7519 sets no upper bound on a token's lifetime: that is the issuer's policy, not ours.
      ['exp a century ahead', { exp: now() + 100 * 365 * 86400 }, 200],
      ['exp missing', { exp: '@raw:undefined' }, [401, 'invalid_token', 'The access token lacks a required claim']],
      ['nbf as a string', { nbf: String(now() - 10) }, invalidToken(D.invalidClaim)],
      ['nbf as a float', { nbf: now() - 0.5 }, 200],
      ['nbf negative', { nbf: -1 }, 200],
      ['nbf 1e309', { nbf: '@raw:1e309' }, invalidToken(D.invalidClaim)],
      ['nbf a century ahead', { nbf: now() + 100 * 365 * 86400 }, invalidToken(D.notYet)],
      ['iat as a string', { iat: String(now()) }, invalidToken(D.invalidClaim)],
      ['iat as a float', { iat: now() - 0.5 }, 200],
      // iat is informational (RFC 7519 §4.1.6; RFC 9068 §4 does not ask to check it): no bound applies.
      ['iat negative', { iat: -1 }, 200],
      ['iat a year ahead', { iat: now() + 365 * 86400 }, 200],
      ['iat 1e309', { iat: '@raw:1e309' }, invalidToken(D.invalidClaim)],
      ['auth_time a century ahead, on a route without max_age', { auth_time: now() + 100 * 365 * 86400 }, invalidToken(D.authTimeFuture)],
      ['aud as an array holding ours', { aud: ['https://other.example', TestIssuer.audience] }, 200],
      ['aud as an array without ours', { aud: ['https://other.example'] }, invalidToken(D.audience)],
      ['aud as an empty array', { aud: [] }, invalidToken(D.audience)],
      ['aud as a number', { aud: 42 }, invalidToken(D.audience)],
      ['aud as a prefix of ours', { aud: TestIssuer.audience.slice(0, -1) }, invalidToken(D.audience)],
      ['aud as ours with a suffix', { aud: `${TestIssuer.audience}/` }, invalidToken(D.audience)],
    ])('GET /api/profile with %s', async (_name, extra, expected) => {
      const payload = rawJson(extra).replace(/,"exp":undefined/, '');
      const response = await api.request('/api/profile', { token: signed(payload) });
      if (typeof expected === 'number') expect(response.status).toBe(expected);
      else await expectRefusal(response, expected);
    });

    it.each<[string, Record<string, unknown>, Refusal | number]>([
      ['auth_time as a string', { auth_time: String(now() - 10) }, stepUp(D.authTimeMissing)],
      ['auth_time as a float', { auth_time: now() - 10.5 }, 201],
      // A NumericDate before 1970 cannot state a recent login: treated as absent, so step up.
      ['auth_time negative', { auth_time: -1 }, stepUp(D.authTimeMissing)],
      ['auth_time 1e309', { auth_time: '@raw:1e309' }, stepUp(D.authTimeMissing)],
      ['auth_time an hour ahead', { auth_time: now() + 3600 }, invalidToken(D.authTimeFuture)],
      ['auth_time within the clock tolerance ahead', { auth_time: now() + 3 }, 201],
      ['auth_time as an array', { auth_time: [now()] }, stepUp(D.authTimeMissing)],
      ['acr as an array', { acr: [ACR_MFA] }, stepUp(D.acrMissing)],
      ['acr as a number', { acr: 2 }, stepUp(D.acrMissing)],
      ['acr as an object', { acr: { value: ACR_MFA } }, stepUp(D.acrMissing)],
      ['acr with a trailing space', { acr: `${ACR_MFA} ` }, stepUp('A stronger authentication context (acr) is required')],
      ['acr in another case', { acr: ACR_MFA.toUpperCase() }, stepUp('A stronger authentication context (acr) is required')],
      ['scope with a tab instead of a space', { scope: 'read:balance\ttransfer:funds' }, [403, 'insufficient_scope', D.scope]],
      ['scope with a newline instead of a space', { scope: 'read:balance\ntransfer:funds' }, [403, 'insufficient_scope', D.scope]],
      ['scope with a near match', { scope: 'transfer:fundsX' }, [403, 'insufficient_scope', D.scope]],
      ['scope with a prefix', { scope: 'transfer:fund' }, [403, 'insufficient_scope', D.scope]],
      ['scope in another case', { scope: 'TRANSFER:FUNDS' }, [403, 'insufficient_scope', D.scope]],
      ['scope with a wildcard', { scope: 'transfer:* *' }, [403, 'insufficient_scope', D.scope]],
      // RFC 9068 §2.2.3: `scope` is a space-separated string; an array there is not read.
      ['scope as an array', { scope: ['transfer:funds'] }, [403, 'insufficient_scope', D.scope]],
      ['scope duplicated', { scope: 'transfer:funds transfer:funds' }, 201],
      ['scope with doubled spaces', { scope: 'read:balance  transfer:funds' }, 201],
      ['permissions as a string', { scope: undefined, permissions: 'transfer:funds' }, [403, 'insufficient_scope', D.scope]],
    ])('POST /api/transfers with %s', async (_name, extra, expected) => {
      const response = await post('/api/transfers', signed(claims({ ...MFA(), ...extra })));
      if (typeof expected === 'number') {
        expect(response.status).toBe(expected);
      } else {
        await expectRefusal(response, expected);
        if (expected[1] === 'insufficient_scope') {
          expect(parseStepUpChallenge(response.headers.get('www-authenticate')!)?.scope).toEqual(['transfer:funds']);
        }
      }
    });

    it.each<[string, unknown, Refusal | number]>([
      ['amr as a string', 'mfa hwk', stepUp(D.amr)],
      ['amr as an object', { 0: 'mfa', 1: 'hwk', length: 2 }, stepUp(D.amr)],
      ['amr holding one of two', ['hwk'], stepUp(D.amr)],
      ['amr holding both among others', ['pwd', 'hwk', 'mfa'], 200],
    ])('GET /api/keys with %s', async (_name, amr, expected) => {
      const response = await api.request('/api/keys', { token: signed(claims({ acr: ACR_MFA, amr })) });
      if (typeof expected === 'number') expect(response.status).toBe(expected);
      else await expectRefusal(response, expected);
    });

    describe('__proto__ and constructor claims', () => {
      const hostile = () =>
        rawJson({ scope: 'read:balance' }).replace(
          /}$/,
          `,"__proto__":{"acr":${JSON.stringify(ACR_MFA)},"amr":["mfa","hwk"],"auth_time":${now()},"scope":"transfer:funds","polluted":"yes"},` +
            `"constructor":{"prototype":{"polluted":"yes","acr":${JSON.stringify(ACR_MFA)}}}}`,
        );

      afterEach(() => {
        expect(Object.prototype).not.toHaveProperty('polluted');
        expect(({} as Record<string, unknown>).polluted).toBeUndefined();
        expect(({} as Record<string, unknown>).acr).toBeUndefined();
        expect(Object.getOwnPropertyNames(Object.prototype)).not.toContain('acr');
      });

      it('grants nothing through them: step-up is still required, with the missing scope', async () => {
        const response = await post('/api/transfers', signed(hostile()));
        await expectRefusal(response, stepUp(D.acrMissing));
        expect(parseStepUpChallenge(response.headers.get('www-authenticate')!)).toMatchObject({
          acrValues: [ACR_MFA],
          maxAge: 300,
          scope: ['transfer:funds'],
        });
      });

      it('grants nothing on an amr route either', async () => {
        await expectRefusal(await api.request('/api/keys', { token: signed(hostile()) }), stepUp(D.acrMissing));
      });

      it('lets the token through where only authentication is needed, the claims intact', async () => {
        const response = await api.request('/api/profile', { token: signed(hostile()) });
        expect(response.status).toBe(200);
        expect(await response.json()).toEqual({ subject: 'user-1' });
      });
    });
  });

  describe('transport', () => {
    let token: string;
    beforeAll(async () => {
      token = await issuer.sign();
    });
    const raw = (lines: readonly string[], target = '/api/profile') => rawGet(api.url, target, lines);

    it('answers no Authorization header with a bare challenge', async () => {
      await expectRefusal(await api.request('/api/profile'), [401, undefined, undefined]);
    });

    it.each([
      ['empty', 'Authorization:'],
      ['blank', 'Authorization:    '],
    ])('refuses an %s Authorization header as invalid_request (RFC 9110: credentials need a scheme)', async (_name, line) => {
      await expectRefusal(await raw([line]), invalidRequest(D.empty));
    });

    // Node keeps only the first Authorization line in `headers`; RFC 9110 §5.3 forbids repeating a
    // non-list field, and an intermediary may pick the other one, so the request is refused outright.
    it.each([
      ['a valid one then junk', () => [`Authorization: Bearer ${token}`, 'Authorization: Bearer junk']],
      ['junk then a valid one', () => ['Authorization: Bearer junk', `Authorization: Bearer ${token}`]],
      ['the same valid one twice', () => [`Authorization: Bearer ${token}`, `Authorization: Bearer ${token}`]],
      ['a valid one and another scheme', () => [`Authorization: Bearer ${token}`, 'authorization: Basic dXNlcjpwYXNz']],
      ['the second spelt in capitals', () => [`Authorization: Bearer ${token}`, `AUTHORIZATION: Bearer ${token}`]],
      ['both spelt in mixed case', () => [`aUTHORIZATION: Bearer ${token}`, `AuThOrIzAtIoN: Bearer ${token}`]],
    ])('refuses two Authorization headers (%s) over a raw socket', async (_name, lines) => {
      await expectRefusal(await raw(lines()), invalidRequest(D.oneHeader));
    });

    it.each([
      ['lower-case bearer', () => `bearer ${token}`],
      ['upper-case BEARER', () => `BEARER ${token}`],
      ['several spaces after the scheme (1*SP)', () => `Bearer    ${token}`],
      ['spaces around the whole value (OWS, stripped by HTTP)', () => `   Bearer ${token}   `],
    ])('accepts %s', async (_name, value) => {
      const response = await raw([`Authorization: ${value()}`]);
      expect(response.status).toBe(200);
      expect(JSON.parse(response.body)).toEqual({ subject: 'user-1' });
    });

    it.each<[string, () => string, Refusal]>([
      ['the scheme alone', () => 'Bearer', invalidRequest(D.noToken)],
      ['a tab after the scheme (RFC 6750 allows only SP)', () => `Bearer\t${token}`, invalidRequest(D.oneToken)],
      ['two tokens', () => `Bearer ${token} ${token}`, invalidRequest(D.oneToken)],
      ['a comma-joined pair', () => `Bearer ${token}, Bearer ${token}`, invalidRequest(D.oneToken)],
      ['a character outside b64token', () => `Bearer ${token}!`, invalidRequest(D.oneToken)],
      ['padding in the middle', () => `Bearer abc=def`, invalidRequest(D.oneToken)],
      ['a quoted token', () => `Bearer "${token}"`, invalidRequest(D.oneToken)],
      ['the scheme glued to the token (another scheme)', () => `Bearer${token}`, [401, undefined, undefined]],
      ['another scheme', () => `DPoP ${token}`, [401, undefined, undefined]],
      ['a non-JWT b64token', () => 'Bearer mF_9.B5f-4.1JqM', invalidToken(D.malformed)],
      ['bad base64 in the header segment', () => 'Bearer e30.e30.e30', invalidToken(D.malformed)],
    ])('answers %s', async (_name, value, expected) => {
      await expectRefusal(await raw([`Authorization: ${value()}`]), expected);
    });

    it.each([
      ['alone', (t: string) => `/api/profile?access_token=${t}`],
      ['after another parameter', (t: string) => `/api/profile?page=2&access_token=${t}`],
      ['empty', () => `/api/profile?access_token=`],
      // Query parsers decode the name, so an encoded name still puts a token in the URL (and in logs).
      ['with a percent-encoded name', (t: string) => `/api/profile?access%5Ftoken=${t}`],
    ])('refuses a token in the query string (%s), even with a valid header (RFC 6750 §2.3)', async (_name, path) => {
      await expectRefusal(await api.request(path(token), { token }), invalidRequest(D.query));
    });

    it('accepts a query parameter that only looks similar', async () => {
      expect((await api.request('/api/profile?my_access_token=x', { token })).status).toBe(200);
    });

    it.each([
      ['one character over the limit', 8193],
      ['far over the limit (12 000 characters)', 12_000],
    ])('refuses a token %s before parsing it or fetching keys', async (_name, length) => {
      const before = issuer.jwksRequests;
      // A real token, padded: it would fail to parse, but it must be refused for its size first.
      const oversized = `${token}${'A'.repeat(length - token.length)}`;
      expect(oversized).toHaveLength(length);
      await expectRefusal(await raw([`Authorization: Bearer ${oversized}`]), invalidRequest(D.tooLong));
      expect(issuer.jwksRequests).toBe(before);
    });

    it('reads a token exactly at the size limit (and refuses its padded signature)', async () => {
      const padded = `${token}${'A'.repeat(8192 - token.length)}`;
      await expectRefusal(await raw([`Authorization: Bearer ${padded}`]), invalidToken(D.signature));
    });

    it.each([
      ['a 20 KiB Authorization header', () => [`Authorization: Bearer ${'a'.repeat(20_000)}`]],
      ['3000 small headers', () => Array.from({ length: 3000 }, (_, i) => `X-Filler-${i}: v`)],
    ])('leaves %s to Node (431), never a 2xx or 5xx from us', async (_name, lines) => {
      const response = await raw([`Authorization: Bearer ${token}`, ...lines()]);
      expect(response.status).toBe(431);
      expect(response.headers['www-authenticate']).toBeUndefined();
    });
  });

  describe('output', () => {
    it('writes only RFC 6750 characters in every challenge, whatever the route, token or path', async () => {
      const hostileStrings = ['"', '\\', '\r\nX-Injected: 1', '\u0000', 'é', '\u2028', ', error="none"'];
      const tokens: Array<string | undefined> = [
        undefined,
        'garbage',
        await issuer.sign(),
        await issuer.sign({ exp: now() - 100 }),
        await issuer.sign({ acr: 'urn:password', amr: ['pwd'], auth_time: now() }),
        await issuer.sign({ ...MFA(), scope: 'nothing' }),
        await issuer.sign({ ...MFA(), auth_time: now() - 10_000 }),
        await issuer.sign({ ...MFA(), auth_time: now() + 10_000 }),
        ...hostileStrings.map((text) => signed(claims({ acr: text, amr: [text], scope: text, sub: text, aud: [TestIssuer.audience, text] }))),
        ...hostileStrings.map((text) => signed(claims(MFA()), { kid: text })),
        ...hostileStrings.map((text) => signed(claims(MFA()), { typ: text, cty: text })),
      ];
      const routes: Array<[string, string]> = [
        ['GET', '/api/profile'],
        ['GET', '/api/accounts/balance'],
        ['POST', '/api/transfers'],
        ['GET', '/api/keys'],
        ['GET', '/admin/audit-logs'],
        ['PATCH', '/admin/permissions'],
        ['GET', '/api/profile?q=%22%0D%0AX-Injected:%201'],
        ['GET', '/api/profile/%22%5C'],
      ];
      const seen = new Set<string>();
      for (const [method, path] of routes) {
        for (const token of tokens) {
          const response = await api.request(path, { method, ...(token !== undefined && { token }) });
          await response.arrayBuffer();
          expect(response.status).not.toBeGreaterThanOrEqual(500);
          expect(response.headers.get('x-injected')).toBeNull();
          const challenge = response.headers.get('www-authenticate');
          if (challenge === null) {
            expect([200, 201, 404]).toContain(response.status);
            continue;
          }
          expect(challenge).toMatch(SAFE_CHALLENGE);
          expect(parseStepUpChallenge(challenge)).toMatchObject({ realm });
          seen.add(parseStepUpChallenge(challenge)?.error ?? 'none');
        }
      }
      // The battery reached every kind of challenge, so the check above was not vacuous.
      expect([...seen].sort()).toEqual(['insufficient_scope', 'insufficient_user_authentication', 'invalid_token', 'none']);
    });
  });

  describe('return_to never leaves the origin', () => {
    let browserApi: TestApp;
    let absoluteApi: TestApp;
    let passwordToken: string;

    beforeAll(async () => {
      const controllers = [BankController, catchAllController(platform)];
      browserApi = await startTestApp(platform, { ...issuer.moduleOptions, reauthenticateUrl: '/login/step-up?app=bank' }, { controllers });
      absoluteApi = await startTestApp(platform, { ...issuer.moduleOptions, reauthenticateUrl: 'https://id.example/step-up' }, { controllers });
      passwordToken = await issuer.sign({ acr: 'urn:password', amr: ['pwd'], auth_time: now() });
      catchAll.calls = 0;
    });
    afterAll(async () => {
      await browserApi.app.close();
      await absoluteApi.app.close();
    });

    const ORIGIN = 'http://bank.example';

    /** The return_to of a 303, checked as a login page might use it: as given and once more decoded. */
    function expectSameOriginReturnTo(response: RawResponse, page: string): string {
      expect(response.status).toBe(303);
      const location = response.headers.location!;
      expect(location).toMatch(/^[\x21-\x7e]+$/);
      expect(location.startsWith(page.includes('?') ? `${page}&` : `${page}?`)).toBe(true);
      const returnTo = new URL(location, ORIGIN).searchParams.get('return_to')!;
      expect(catchAll.calls).toBe(0);
      expectLocalPath(returnTo);
      return returnTo;
    }

    it.each([
      '//evil.com',
      '//evil.com/x',
      '/\\evil.com',
      '/\\/evil.com',
      '/%2F%2Fevil.com',
      '/%2F/evil.com',
      '/%5C%5Cevil.com',
      '/%5Cevil.com',
      '/a/..//evil.com',
      '/a/%2e%2e//evil.com',
      '/./..//evil.com',
      '/%09/evil.com',
      '/x?next=//evil.com',
      'http://evil.com/x',
      'https://evil.com//evil.com',
      'http://evil.com/%2F%2Fevil.com',
    ])('keeps return_to on the origin for the request target %s (raw socket)', async (target) => {
      for (const [app, page] of [
        [browserApi, '/login/step-up?app=bank'],
        [absoluteApi, 'https://id.example/step-up'],
      ] as const) {
        const response = await rawGet(app.url, target, ['Accept: text/html', `Authorization: Bearer ${passwordToken}`]);
        expectSameOriginReturnTo(response, page);
      }
    });

    it('keeps an ordinary return_to as it was', async () => {
      const response = await rawGet(browserApi.url, '/account/settings?tab=2&x=%2F', ['Accept: text/html', `Authorization: Bearer ${passwordToken}`]);
      expect(expectSameOriginReturnTo(response, '/login/step-up?app=bank')).toBe('/account/settings?tab=2&x=%2F');
    });

    it('sends API clients (JSON) the challenge, not a redirect', async () => {
      const response = await rawGet(browserApi.url, '//evil.com', ['Accept: application/json', `Authorization: Bearer ${passwordToken}`]);
      await expectRefusal(response, stepUp('A stronger authentication context (acr) is required'));
      expect(response.headers.location).toBeUndefined();
    });
  });
});

describe('sameOriginPath, for any request target', () => {
  const pieces = fc.constantFrom('/', '//', '\\', '.', '..', '%2F', '%2f', '%5C', '%2e', '%2E%2E', 'evil.com', '@', ':', '?', '#', '%', '%0d%0a', '\t', ' ', 'http:', 'a');

  it('returns a path that stays on the origin, even if decoded once more', () => {
    fc.assert(
      fc.property(fc.oneof(fc.array(pieces, { maxLength: 8 }).map((parts) => parts.join('')), fc.string()), (target) => {
        expectLocalPath(sameOriginPath(target));
      }),
      { numRuns: 5000 },
    );
  });
});
