import { generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { CompactSign, SignJWT, type JWTPayload } from 'jose';
import { KeySetUnavailableError, StaticKeySource, type KeySource } from './step-up.keys.js';
import { AccessTokenVerifier, TokenVerificationError, type AccessTokenVerifierOptions } from './step-up.verifier.js';

const NOW = Math.floor(Date.now() / 1000);
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ISSUER = 'https://id.example';
const AUDIENCE = 'https://api.example';

function sign(claims: JWTPayload = {}, header: Record<string, unknown> = {}, key: KeyObject = privateKey) {
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, iat: NOW, exp: NOW + 60, ...claims })
    .setProtectedHeader({ alg: 'ES256', typ: 'at+jwt', ...header } as never)
    .sign(key);
}

/** A key source whose key can be withdrawn, as a JWKS rotation would. */
class WithdrawableKeySource implements KeySource {
  private readonly source = new StaticKeySource([publicKey]);
  withdrawn = false;
  resolves = 0;
  resolve(selector: Parameters<KeySource['resolve']>[0]) {
    this.resolves++;
    return this.source.resolve(selector);
  }
  isCurrent(key: KeyObject) {
    return !this.withdrawn && this.source.isCurrent(key);
  }
  close() {}
}

function verifier(overrides: Partial<AccessTokenVerifierOptions> = {}) {
  const keys = new WithdrawableKeySource();
  const options: AccessTokenVerifierOptions = {
    issuer: ISSUER,
    audience: AUDIENCE,
    keys,
    algorithms: ['ES256'],
    clockTolerance: 5,
    cacheSize: 10,
    ...overrides,
  };
  return { keys, verifier: new AccessTokenVerifier(options) };
}

async function rejection(promise: Promise<unknown>): Promise<TokenVerificationError> {
  const error = await promise.then(() => undefined, (caught: unknown) => caught);
  expect(error).toBeInstanceOf(TokenVerificationError);
  return error as TokenVerificationError;
}

describe('AccessTokenVerifier', () => {
  it('returns the claims of a valid token frozen all the way down, as every repeat of the token shares them', async () => {
    const claims = await verifier().verifier.verify(await sign({ sub: 'alice', amr: ['mfa'], realm_access: { roles: ['user'] } }), NOW);
    expect(claims).toMatchObject({ sub: 'alice', amr: ['mfa'], iss: ISSUER });
    expect(Object.isFrozen(claims)).toBe(true);
    expect(Object.isFrozen(claims.amr)).toBe(true);
    const roles = (claims.realm_access as { roles: string[] }).roles;
    expect(() => roles.push('admin')).toThrow(TypeError);
  });

  it('freezes a payload nested thousands deep without exhausting the stack', async () => {
    // Written out, as JSON.stringify would itself recurse that deep.
    const depth = 20_000;
    const payload = `{"iss":"${ISSUER}","aud":"${AUDIENCE}","exp":${NOW + 60},"nested":${'['.repeat(depth)}"leaf"${']'.repeat(depth)}}`;
    const token = await new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    const claims = await verifier().verifier.verify(token, NOW);
    let innermost = claims.nested;
    while (Array.isArray(innermost)) {
      expect(Object.isFrozen(innermost)).toBe(true);
      innermost = innermost[0];
    }
    expect(innermost).toBe('leaf');
  });

  it('requires exp', async () => {
    const error = await rejection(verifier().verifier.verify(await sign({ exp: undefined }), NOW));
    expect(error).toMatchObject({ claim: 'exp', reason: 'missing', description: 'The access token lacks a required claim' });
  });

  it('checks typ when asked (RFC 9068 §4)', async () => {
    const { verifier: strict } = verifier({ tokenType: 'at+jwt' });
    await expect(strict.verify(await sign(), NOW)).resolves.toBeDefined();
    await expect(strict.verify(await sign({}, { typ: 'application/at+jwt' }), NOW)).resolves.toBeDefined();
    const error = await rejection(strict.verify(await sign({}, { typ: 'JWT' }), NOW));
    expect(error).toMatchObject({ claim: 'typ', description: 'The access token is not of the expected type' });
  });

  it('refuses an algorithm outside the allow-list', async () => {
    const error = await rejection(verifier({ algorithms: ['RS256'] }).verifier.verify(await sign(), NOW));
    expect(error).toMatchObject({ reason: 'algorithm' });
  });

  it('calls garbage malformed', async () => {
    const error = await rejection(verifier().verifier.verify('not.a.jwt', NOW));
    expect(error).toMatchObject({ reason: 'malformed', description: 'The access token is malformed' });
  });

  describe('verified-token cache', () => {
    it('verifies a repeated token once', async () => {
      const { keys, verifier: cached } = verifier();
      const token = await sign();
      await cached.verify(token, NOW);
      await cached.verify(token, NOW + 1);
      expect(keys.resolves).toBe(1);
    });

    it('verifies every time when turned off', async () => {
      const { keys, verifier: uncached } = verifier({ cacheSize: 0 });
      const token = await sign();
      await uncached.verify(token, NOW);
      await uncached.verify(token, NOW);
      expect(keys.resolves).toBe(2);
    });

    it('never serves a token past its exp', async () => {
      const { verifier: cached } = verifier();
      const token = await sign({ exp: NOW + 10 });
      await cached.verify(token, NOW);
      const error = await rejection(cached.verify(token, NOW + 16));
      expect(error).toMatchObject({ claim: 'exp', description: 'The access token has expired' });
    });

    it('drops a token whose key left the key set', async () => {
      const { keys, verifier: cached } = verifier();
      const token = await sign();
      await cached.verify(token, NOW);
      keys.withdrawn = true;
      await cached.verify(token, NOW);
      expect(keys.resolves).toBe(2);
    });

    it('stays within its size, evicting the least recently used token', async () => {
      const { keys, verifier: small } = verifier({ cacheSize: 2 });
      const [a, b, c] = await Promise.all([sign({ jti: 'a' }), sign({ jti: 'b' }), sign({ jti: 'c' })]);
      await small.verify(a, NOW);
      await small.verify(b, NOW);
      await small.verify(a, NOW); // a is now the most recent
      await small.verify(c, NOW); // evicts b
      expect(keys.resolves).toBe(3);
      await small.verify(a, NOW);
      expect(keys.resolves).toBe(3);
      await small.verify(b, NOW);
      expect(keys.resolves).toBe(4);
    });

    it('does not confuse a token crafted to share the end of a cached one, nor let it evict that one', async () => {
      const { keys, verifier: cached } = verifier();
      const token = await sign();
      await cached.verify(token, NOW);
      const [, payload, signature] = token.split('.');
      const crafted = `${Buffer.from(JSON.stringify({ alg: 'ES256' })).toString('base64url')}.${payload}.${signature}`;
      expect(cached.cached(crafted, NOW)).toBeUndefined();
      await rejection(cached.verify(crafted, NOW));
      expect(cached.cached(token, NOW)).toBeDefined();
      expect(keys.resolves).toBe(2);
    });

    it('does not remember a token that failed', async () => {
      const { keys, verifier: cached } = verifier();
      const token = await sign({ aud: 'https://other.example' });
      await rejection(cached.verify(token, NOW));
      await rejection(cached.verify(token, NOW));
      expect(keys.resolves).toBe(2);
    });

    it('does not serve a cached token before its nbf when the clock goes back', async () => {
      const { verifier: cached } = verifier();
      const token = await sign({ nbf: NOW });
      await cached.verify(token, NOW);
      expect(cached.cached(token, NOW - 6)).toBeUndefined();
      expect(await rejection(cached.verify(token, NOW - 6))).toMatchObject({ claim: 'nbf', reason: 'check_failed' });
    });

    it('gives a used token one second chance only: unused again, it is the next to go', async () => {
      const { keys, verifier: small } = verifier({ cacheSize: 2 });
      const [a, b, c, d] = await Promise.all([sign({ jti: 'a' }), sign({ jti: 'b' }), sign({ jti: 'c' }), sign({ jti: 'd' })]);
      await small.verify(a, NOW);
      await small.verify(b, NOW);
      await small.verify(a, NOW); // a used
      await small.verify(c, NOW); // a goes round once more, unused now; b is evicted
      await small.verify(d, NOW); // a, unused since, is evicted
      expect(keys.resolves).toBe(4);
      await small.verify(c, NOW);
      await small.verify(d, NOW);
      expect(keys.resolves).toBe(4);
      await small.verify(a, NOW);
      expect(keys.resolves).toBe(5);
    });

    it('drops an entry that is no longer valid when it is looked up, so it holds no place in the cache', async () => {
      const { keys, verifier: small } = verifier({ cacheSize: 2 });
      const [a, b, c] = await Promise.all([sign({ jti: 'a', exp: NOW + 10 }), sign({ jti: 'b' }), sign({ jti: 'c' })]);
      await small.verify(a, NOW);
      await small.verify(a, NOW); // a used: it would outlive b in the eviction queue
      await small.verify(b, NOW);
      expect(small.cached(a, NOW + 20)).toBeUndefined(); // expired: dropped
      await small.verify(c, NOW + 20); // room left: b stays
      expect(keys.resolves).toBe(3);
      expect(small.cached(b, NOW + 20)).toBeDefined();
    });
  });
});

describe('AccessTokenVerifier claim checks', () => {
  it.each([
    ['exp as a string', { exp: String(NOW + 60) }, 'exp', 'invalid'],
    ['nbf as a string', { nbf: String(NOW) }, 'nbf', 'invalid'],
    ['iat as an object', { iat: { n: 1 } }, 'iat', 'invalid'],
    ['no iss', { iss: undefined }, 'iss', 'missing'],
    ['iss as an array', { iss: [ISSUER] }, 'iss', 'check_failed'],
    ['no aud', { aud: undefined }, 'aud', 'missing'],
    ['aud as a list without us', { aud: ['https://a.example', 'https://b.example'] }, 'aud', 'check_failed'],
  ])('refuses %s', async (_name, claims, claim, reason) => {
    const error = await rejection(verifier().verifier.verify(await sign(claims as JWTPayload), NOW));
    expect(error).toMatchObject({ claim, reason });
  });

  it('accepts an aud list that includes us', async () => {
    await expect(verifier().verifier.verify(await sign({ aud: ['https://a.example', AUDIENCE] }), NOW)).resolves.toBeDefined();
  });

  it('tolerates clock skew on exp and nbf', async () => {
    const { verifier: tolerant } = verifier();
    await expect(tolerant.verify(await sign({ exp: NOW - 4 }), NOW)).resolves.toBeDefined();
    await expect(tolerant.verify(await sign({ nbf: NOW + 5 }), NOW)).resolves.toBeDefined();
    await rejection(tolerant.verify(await sign({ exp: NOW - 5 }), NOW));
  });

  it('refuses a payload that is not a JSON object', async () => {
    const token = await new CompactSign(new TextEncoder().encode('[1,2]')).setProtectedHeader({ alg: 'ES256' }).sign(privateKey);
    expect(await rejection(verifier().verifier.verify(token, NOW))).toMatchObject({ reason: 'malformed' });
  });

  it('refuses a key that does not fit the algorithm', async () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const token = await new SignJWT({ iss: ISSUER, aud: AUDIENCE, exp: NOW + 60 }).setProtectedHeader({ alg: 'RS256' }).sign(rsa.privateKey);
    const { verifier: ecOnly } = verifier({ algorithms: ['ES256', 'RS256'] });
    expect(await rejection(ecOnly.verify(token, NOW))).toMatchObject({ reason: 'unknown_key' });
  });
});

describe('AccessTokenVerifier trust and lifetime checks', () => {
  /** Signs a payload written out by hand, for JSON a claims object cannot hold (1e309 parses as Infinity). */
  const signRaw = (payload: string, header: Record<string, unknown> = { alg: 'ES256' }) =>
    new CompactSign(new TextEncoder().encode(payload)).setProtectedHeader(header as never).sign(privateKey);

  it('refuses a token from an issuer it does not trust', async () => {
    const error = await rejection(verifier().verifier.verify(await sign({ iss: 'https://evil.example' }), NOW));
    expect(error).toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'iss', reason: 'check_failed' });
  });

  it('accepts any one of several configured issuers and audiences', async () => {
    const { verifier: several } = verifier({ issuer: ['https://other-id.example', ISSUER], audience: ['https://other-api.example', AUDIENCE] });
    await expect(several.verify(await sign(), NOW)).resolves.toMatchObject({ iss: ISSUER, aud: AUDIENCE });
    await expect(several.verify(await sign({ iss: 'https://other-id.example', aud: 'https://other-api.example' }), NOW)).resolves.toBeDefined();
  });

  it('refuses a token not valid yet, beyond the tolerance only', async () => {
    const { verifier: tolerant } = verifier();
    await expect(tolerant.verify(await sign({ nbf: NOW + 5 }), NOW)).resolves.toMatchObject({ nbf: NOW + 5 });
    const error = await rejection(tolerant.verify(await sign({ nbf: NOW + 6 }), NOW));
    expect(error).toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'nbf', reason: 'check_failed', description: 'The access token is not valid yet' });
  });

  it('refuses an exp, nbf or iat that parses as Infinity (1e309)', async () => {
    const base = `"iss":"${ISSUER}","aud":"${AUDIENCE}"`;
    for (const [claim, payload] of [
      ['exp', `{${base},"exp":1e309}`],
      ['nbf', `{${base},"exp":${NOW + 60},"nbf":1e309}`],
      ['iat', `{${base},"exp":${NOW + 60},"iat":1e309}`],
    ]) {
      expect(await rejection(verifier().verifier.verify(await signRaw(payload!), NOW))).toMatchObject({ claim, reason: 'invalid' });
    }
  });

  it('requires the configured requiredClaims as well', async () => {
    const { verifier: strict } = verifier({ requiredClaims: ['sub', 'jti'] });
    await expect(strict.verify(await sign({ sub: 'alice', jti: '1' }), NOW)).resolves.toBeDefined();
    expect(await rejection(strict.verify(await sign({ sub: 'alice' }), NOW))).toMatchObject({ claim: 'jti', reason: 'missing' });
  });

  it('counts only claims the token has as present, not what every object inherits', async () => {
    const { verifier: strict } = verifier({ requiredClaims: ['constructor', 'toString'] });
    expect(await rejection(strict.verify(await sign(), NOW))).toMatchObject({ claim: 'constructor', reason: 'missing' });
    await expect(strict.verify(await sign({ constructor: 'c', toString: 't' }), NOW)).resolves.toMatchObject({ constructor: 'c' });
  });

  it('compares typ case-insensitively, and refuses a token without typ when one is required', async () => {
    const { verifier: strict } = verifier({ tokenType: 'at+jwt' });
    await expect(strict.verify(await sign({}, { typ: 'AT+JWT' }), NOW)).resolves.toBeDefined();
    await expect(strict.verify(await sign({}, { typ: 'Application/At+Jwt' }), NOW)).resolves.toBeDefined();
    const error = await rejection(strict.verify(await sign({}, { typ: undefined }), NOW));
    expect(error).toMatchObject({ code: 'ERR_JWT_CLAIM_VALIDATION_FAILED', claim: 'typ', reason: 'check_failed' });
  });

  it('gives each refusal its stable code', async () => {
    const { verifier: v } = verifier({ algorithms: ['ES256', 'ES384'] });
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const codes = async (token: string | Promise<string>) => {
      const { code, reason } = await rejection(v.verify(await token, NOW));
      return [code, reason];
    };
    expect(await codes('not.a.jwt')).toEqual(['ERR_JWS_INVALID', 'malformed']);
    const crit = `${Buffer.from(JSON.stringify({ alg: 'ES256', crit: ['x'], x: 1 })).toString('base64url')}.e30.c2ln`;
    expect(await codes(crit)).toEqual(['ERR_JOSE_NOT_SUPPORTED', 'unsupported']);
    expect(await codes(sign({}, { alg: 'ES512' }, generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey))).toEqual(['ERR_JOSE_ALG_NOT_ALLOWED', 'algorithm']);
    expect(await codes(sign({}, { alg: 'ES384' }, generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey))).toEqual(['ERR_NO_MATCHING_KEY', 'unknown_key']);
    expect(await codes(sign({}, {}, other))).toEqual(['ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'bad_signature']);
    expect(await codes(sign({ exp: NOW - 10 }))).toEqual(['ERR_JWT_EXPIRED', 'check_failed']);
  });

  it('refuses without a stack trace, and leaves Error.stackTraceLimit as it found it', async () => {
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 17;
    try {
      const error = await rejection(verifier().verifier.verify('not.a.jwt', NOW));
      expect(Error.stackTraceLimit).toBe(17);
      expect(error.stack).not.toMatch(/\n\s+at /);
    } finally {
      Error.stackTraceLimit = limit;
    }
  });

  it('lets a key set fault through as it is: not a token the client must replace', async () => {
    const unavailable = new KeySetUnavailableError(30);
    const keys: KeySource = { resolve: () => Promise.reject(unavailable), isCurrent: () => true, close: () => undefined };
    const error = await verifier({ keys }).verifier.verify(await sign(), NOW).catch((caught: unknown) => caught);
    expect(error).toBe(unavailable);
  });

  it('refuses a key that does not fit the algorithm even when a key source hands it over (RSA under 2048 bits)', async () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const signingInput = `${Buffer.from(JSON.stringify({ alg: 'RS256' })).toString('base64url')}.${Buffer.from(
      JSON.stringify({ iss: ISSUER, aud: AUDIENCE, exp: NOW + 60 }),
    ).toString('base64url')}`;
    const token = `${signingInput}.${nodeSign('sha256', Buffer.from(signingInput), weak.privateKey).toString('base64url')}`;
    const keys: KeySource = { resolve: () => weak.publicKey, isCurrent: () => true, close: () => undefined };
    const error = await rejection(verifier({ keys, algorithms: ['RS256'] }).verifier.verify(token, NOW));
    expect(error).toMatchObject({ code: 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED', reason: 'bad_signature' });
  });
});
