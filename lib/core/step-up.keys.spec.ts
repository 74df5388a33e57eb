import { jest } from '@jest/globals';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  JWS_ALGORITHMS,
  keyFitsAlgorithm,
  KeySetUnavailableError,
  NoMatchingKeyError,
  RemoteKeySource,
  StaticKeySource,
  staticKeyProblems,
} from './step-up.keys.js';

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = (key: typeof ec.publicKey, extra: Record<string, unknown>) => ({ ...key.export({ format: 'jwk' }), ...extra });

describe('keyFitsAlgorithm', () => {
  it('binds each key type to its algorithms', () => {
    expect(keyFitsAlgorithm(ec.publicKey, 'ES256')).toBe(true);
    expect(keyFitsAlgorithm(ec.publicKey, 'ES384')).toBe(false);
    expect(keyFitsAlgorithm(ec.publicKey, 'RS256')).toBe(false);
    expect(keyFitsAlgorithm(rsa.publicKey, 'RS256')).toBe(true);
    expect(keyFitsAlgorithm(rsa.publicKey, 'PS512')).toBe(true);
    expect(keyFitsAlgorithm(rsa.publicKey, 'HS256')).toBe(false);
    expect(keyFitsAlgorithm(rsa.publicKey, 'none')).toBe(false);
  });

  it('binds each curve to its one algorithm, and Ed25519 to EdDSA and Ed25519', () => {
    const fits = (key: KeyObject) => JWS_ALGORITHMS.filter((alg) => keyFitsAlgorithm(key, alg));
    expect(fits(ec.publicKey)).toEqual(['ES256']);
    expect(fits(generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey)).toEqual(['ES384']);
    expect(fits(generateKeyPairSync('ec', { namedCurve: 'P-521' }).publicKey)).toEqual(['ES512']);
    expect(fits(generateKeyPairSync('ed25519').publicKey)).toEqual(['EdDSA', 'Ed25519']);
    expect(keyFitsAlgorithm(rsa.publicKey, 'RS256x')).toBe(false);
  });

  it('binds an RSA-PSS key to PS algorithms only, and refuses one under 2048 bits', () => {
    const pss = generateKeyPairSync('rsa-pss', { modulusLength: 2048 }).publicKey;
    expect(JWS_ALGORITHMS.filter((alg) => keyFitsAlgorithm(pss, alg))).toEqual(['PS256', 'PS384', 'PS512']);
    expect(keyFitsAlgorithm(generateKeyPairSync('rsa-pss', { modulusLength: 1024 }).publicKey, 'PS256')).toBe(false);
  });
});

describe('StaticKeySource', () => {
  it('takes JWKs, PEM strings and KeyObjects, and matches by kid and algorithm', () => {
    const pem = rsa.publicKey.export({ format: 'pem', type: 'spki' }) as string;
    const source = new StaticKeySource([jwk(ec.publicKey, { kid: 'ec-1' }), pem]);
    expect(source.resolve({ alg: 'ES256', kid: 'ec-1' }).asymmetricKeyType).toBe('ec');
    expect(source.resolve({ alg: 'RS256' }).asymmetricKeyType).toBe('rsa');
    expect(() => source.resolve({ alg: 'ES256', kid: 'other' })).toThrow(NoMatchingKeyError);
    expect(() => source.resolve({ alg: 'HS256' })).toThrow(NoMatchingKeyError);
  });

  it('refuses a private key in any form: a resource server must not hold the signing key', () => {
    const refusal = 'keys[1] is a private key: pass only its public half (createPublicKey(key))';
    const pkcs8 = ec.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
    const pkcs1 = rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }) as string;
    for (const privateKey of [ec.privateKey, pkcs8, pkcs1, ec.privateKey.export({ format: 'jwk' })]) {
      expect(() => new StaticKeySource([ec.publicKey, privateKey])).toThrow(new TypeError(refusal));
    }
  });

  it('refuses, naming it, a PEM string that holds no readable key', () => {
    expect(() => new StaticKeySource(['-----BEGIN PUBLIC KEY-----\nnot base64\n-----END PUBLIC KEY-----'])).toThrow(
      /^keys\[0\] cannot be read as a PEM public key or certificate: /,
    );
  });

  it('lists every unusable key at once through staticKeyProblems, and nothing for usable ones', () => {
    const secret = { kty: 'oct', k: 'c2VjcmV0' };
    expect(staticKeyProblems([secret, ec.publicKey, ec.privateKey], ['ES256'])).toEqual([
      'keys[0] is not a public key that can verify ES256: check its type and size (RSA needs 2048 bits), its alg, and its use or key_ops (they must allow verification)',
      'keys[2] is a private key: pass only its public half (createPublicKey(key))',
    ]);
    expect(staticKeyProblems([ec.publicKey, rsa.publicKey], JWS_ALGORITHMS)).toEqual([]);
  });

  it('refuses to guess between several candidates when the token has no kid', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const source = new StaticKeySource([ec.publicKey, other.publicKey]);
    expect(() => source.resolve({ alg: 'ES256' })).toThrow(NoMatchingKeyError);
  });

  it('gives a token without kid the one key that fits, kid or not; with a kid, the first key that has it', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(new StaticKeySource([jwk(ec.publicKey, { kid: 'ec-1' })]).resolve({ alg: 'ES256' }).asymmetricKeyType).toBe('ec');
    const shared = new StaticKeySource([jwk(ec.publicKey, { kid: 'k' }), jwk(other.publicKey, { kid: 'k' })]);
    expect(shared.resolve({ alg: 'ES256', kid: 'k' }).export({ format: 'jwk' })).toEqual(ec.publicKey.export({ format: 'jwk' }));
  });

  it('honours the JWK alg, use and key_ops members', () => {
    expect(() => new StaticKeySource([jwk(rsa.publicKey, { alg: 'PS256' })]).resolve({ alg: 'RS256' })).toThrow(NoMatchingKeyError);
    expect(() => new StaticKeySource([jwk(rsa.publicKey, { use: 'enc' })])).toThrow('keys[0] is not a public key that can verify');
    expect(() => new StaticKeySource([jwk(rsa.publicKey, { key_ops: ['encrypt'] })])).toThrow('keys[0] is not a public key that can verify');
    expect(new StaticKeySource([jwk(rsa.publicKey, { key_ops: ['verify'] })]).resolve({ alg: 'RS256' }).asymmetricKeyType).toBe('rsa');
    expect(() => new StaticKeySource([jwk(rsa.publicKey, { key_ops: 'verify' })])).toThrow('keys[0] is not a public key that can verify');
    expect(() => new StaticKeySource([jwk(rsa.publicKey, { kid: 7 })]).resolve({ alg: 'RS256', kid: 7 })).toThrow(NoMatchingKeyError);
  });

  it('refuses, naming it, a key that can verify none of the accepted algorithms', () => {
    const weakRsa = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey;
    const x25519 = generateKeyPairSync('x25519').publicKey;
    expect(() => new StaticKeySource([ec.publicKey, weakRsa])).toThrow(/^keys\[1\] is not a public key that can verify RS256, RS384/);
    expect(() => new StaticKeySource([x25519])).toThrow(/^keys\[0\] is not a public key/);
    expect(() => new StaticKeySource([rsa.publicKey], ['ES256'])).toThrow('keys[0] is not a public key that can verify ES256');
    expect(() => new StaticKeySource([jwk(ec.publicKey, { alg: 'ES384' })], ['ES256'])).toThrow(/^keys\[0\]/);
  });
});

describe('RemoteKeySource', () => {
  let server: Server;
  let url: URL;
  let answer: () => [number, string];
  let requests = 0;

  beforeAll(async () => {
    server = createServer((_request, response) => {
      requests++;
      const [status, body] = answer();
      response.writeHead(status, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`);
  });
  afterAll(() => new Promise((resolve) => server.close(resolve)));
  beforeEach(() => {
    requests = 0;
    answer = () => [200, JSON.stringify({ keys: [jwk(ec.publicKey, { kid: 'k1' })] })];
  });

  const source = (cooldownMs = 60_000) => new RemoteKeySource(url, { timeoutMs: 1000, cooldownMs, refreshIntervalMs: 600_000 });

  it('fetches once for many concurrent requests', async () => {
    const keys = source();
    const resolved = await Promise.all(Array.from({ length: 20 }, () => keys.resolve({ alg: 'ES256', kid: 'k1' })));
    expect(new Set(resolved).size).toBe(1);
    expect(requests).toBe(1);
  });

  it('fetches at most once per cooldown for unknown kids', async () => {
    const keys = source();
    await keys.start();
    for (let i = 0; i < 10; i++) await expect(keys.resolve({ alg: 'ES256', kid: `random-${i}` })).rejects.toThrow(NoMatchingKeyError);
    expect(requests).toBe(1);
    keys.close();
  });

  it('fetches again for an unknown kid once the cooldown has passed, and keeps KeyObjects across refreshes', async () => {
    const keys = source(0);
    const first = await keys.resolve({ alg: 'ES256', kid: 'k1' });
    answer = () => [200, JSON.stringify({ keys: [jwk(ec.publicKey, { kid: 'k1' }), jwk(rsa.publicKey, { kid: 'k2' })] })];
    await keys.resolve({ alg: 'RS256', kid: 'k2' });
    expect(requests).toBe(2);
    expect(keys.isCurrent(first)).toBe(true);
  });

  it('forgets a key that leaves the set', async () => {
    const keys = source(0);
    const first = await keys.resolve({ alg: 'ES256', kid: 'k1' });
    answer = () => [200, JSON.stringify({ keys: [jwk(rsa.publicKey, { kid: 'k2' })] })];
    await keys.resolve({ alg: 'RS256', kid: 'k2' });
    expect(keys.isCurrent(first)).toBe(false);
    await expect(keys.resolve({ alg: 'ES256', kid: 'k1' })).rejects.toThrow(NoMatchingKeyError);
  });

  it.each([
    ['EC', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, 'ES256'],
    ['RSA', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey, 'RS256'],
  ] as const)('forgets a key replaced by another %s key of the same type and size', async (_type, make, alg) => {
    const [before, after] = [make(), make()];
    answer = () => [200, JSON.stringify({ keys: [jwk(before, { kid: 'k1' })] })];
    const keys = source(0);
    const first = await keys.resolve({ alg, kid: 'k1' });
    answer = () => [200, JSON.stringify({ keys: [jwk(after, { kid: 'k2' })] })];
    const second = await keys.resolve({ alg, kid: 'k2' });
    expect(keys.isCurrent(first)).toBe(false);
    expect(second.export({ format: 'jwk' })).toEqual(after.export({ format: 'jwk' }));
  });

  it('keeps the keys it holds when the endpoint starts answering an empty set', async () => {
    const keys = source(0);
    const held = await keys.resolve({ alg: 'ES256', kid: 'k1' });
    answer = () => [200, '{"keys":[]}'];
    await expect(keys.resolve({ alg: 'RS256', kid: 'k2' })).rejects.toThrow(KeySetUnavailableError);
    expect(keys.isCurrent(held)).toBe(true);
    await expect(keys.resolve({ alg: 'ES256', kid: 'k1' })).resolves.toBe(held);
  });

  it('keeps the keys it holds when a refresh answers only keys no accepted algorithm can use', async () => {
    const keys = new RemoteKeySource(url, { timeoutMs: 1000, cooldownMs: 0, refreshIntervalMs: 600_000, algorithms: ['ES256'] });
    const held = await keys.resolve({ alg: 'ES256', kid: 'k1' });
    const unusable = [
      generateKeyPairSync('x25519').publicKey.export({ format: 'jwk' }),
      generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }),
      jwk(rsa.publicKey, { kid: 'k2' }),
    ];
    answer = () => [200, JSON.stringify({ keys: unusable })];
    await expect(keys.resolve({ alg: 'ES256', kid: 'k2' })).rejects.toThrow(KeySetUnavailableError);
    expect(keys.isCurrent(held)).toBe(true);
  });

  it('logs where the key set is without its query string, and, with no key held yet, that tokens get 503', async () => {
    const warnings: string[] = [];
    const keys = new RemoteKeySource(new URL('?api_key=secret', url), {
      timeoutMs: 1000,
      cooldownMs: 60_000,
      refreshIntervalMs: 600_000,
      logger: { warn: (message) => warnings.push(message), log: () => undefined },
    });
    answer = () => [500, 'oops'];
    await keys.start();
    keys.close();
    expect(warnings).toEqual([`JWKS ${url.href} could not be loaded (HTTP 500); no signing keys yet: tokens get 503 until it loads`]);
  });

  it('tells an unknown key from a key set fault through an outage and back, logging each change once', async () => {
    const log: string[] = [];
    const keys = new RemoteKeySource(url, {
      timeoutMs: 1000,
      cooldownMs: 60_000,
      refreshIntervalMs: 600_000,
      logger: { warn: (message) => log.push(`warn ${message}`), log: (message) => log.push(`log ${message}`) },
    });
    let now = 1_000_000;
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      await keys.resolve({ alg: 'ES256', kid: 'k1' });
      answer = () => [500, 'oops'];
      now += 60_000;
      await expect(keys.resolve({ alg: 'ES256', kid: 'k2' })).rejects.toThrow(KeySetUnavailableError);
      now += 1500; // within the cooldown, and the last fetch failed: the key may exist, the set is what is missing
      await expect(keys.resolve({ alg: 'ES256', kid: 'k2' })).rejects.toMatchObject({ retryAfterSeconds: 59 });
      now += 60_000;
      await expect(keys.resolve({ alg: 'ES256', kid: 'k2' })).rejects.toThrow(KeySetUnavailableError);
      answer = () => [200, JSON.stringify({ keys: [jwk(ec.publicKey, { kid: 'k1' })] })];
      now += 60_000;
      await expect(keys.resolve({ alg: 'ES256', kid: 'k2' })).rejects.toThrow(NoMatchingKeyError);
      now += 1500;
      await expect(keys.resolve({ alg: 'ES256', kid: 'k2' })).rejects.toThrow(NoMatchingKeyError);
      expect(requests).toBe(4);
      expect(log).toEqual([`warn JWKS ${url.href} could not be loaded (HTTP 500); keys already held stay in use`, `log JWKS ${url.href} is reachable again`]);
    } finally {
      clock.mockRestore();
    }
  });

  it('does not follow a redirect, and gives up on an endpoint that does not answer in time', async () => {
    const own = createServer((request, response) => {
      if (request.url === '/moved') response.writeHead(302, { location: url.href }).end();
      // Anything else is never answered.
    });
    await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
    const at = (path: string) => new RemoteKeySource(new URL(`http://127.0.0.1:${(own.address() as AddressInfo).port}${path}`), { timeoutMs: 200, cooldownMs: 60_000, refreshIntervalMs: 600_000 });
    try {
      await expect(at('/moved').resolve({ alg: 'ES256', kid: 'k1' })).rejects.toThrow(KeySetUnavailableError);
      expect(requests).toBe(0);
      await expect(at('/silent').resolve({ alg: 'ES256', kid: 'k1' })).rejects.toThrow(KeySetUnavailableError);
    } finally {
      own.closeAllConnections();
      await new Promise((resolve) => own.close(resolve));
    }
  });

  it('refreshes in the background every refreshIntervalMs, retries a failure after cooldownMs, and stops when closed', async () => {
    const settle = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const fetches = jest.spyOn(globalThis, 'fetch'); // passes through; counts fetches started, not yet arrived
    try {
      const refreshing = new RemoteKeySource(url, { timeoutMs: 1000, cooldownMs: 600_000, refreshIntervalMs: 40 });
      await refreshing.start();
      await settle(200);
      refreshing.close();
      const closedAt = fetches.mock.calls.length;
      expect(closedAt).toBeGreaterThan(1);
      await settle(150);
      expect(fetches.mock.calls.length).toBe(closedAt);
    } finally {
      fetches.mockRestore();
    }

    requests = 0;
    answer = () => [500, 'oops'];
    const retrying = new RemoteKeySource(url, { timeoutMs: 1000, cooldownMs: 40, refreshIntervalMs: 600_000 });
    await retrying.start();
    await settle(200);
    retrying.close();
    expect(requests).toBeGreaterThan(1);
  });

  it('warns once per outage, and not at all for a fetch that outlives close()', async () => {
    const warnings: string[] = [];
    const options = { timeoutMs: 1000, cooldownMs: 0, refreshIntervalMs: 600_000, logger: { warn: (message: string) => warnings.push(message), log: () => undefined } };
    answer = () => [500, 'oops'];
    const failing = new RemoteKeySource(url, options);
    for (let i = 0; i < 3; i++) await expect(failing.resolve({ alg: 'ES256', kid: 'k1' })).rejects.toThrow(KeySetUnavailableError);
    expect(warnings).toHaveLength(1);
    const closing = new RemoteKeySource(url, options);
    const pending = closing.resolve({ alg: 'ES256', kid: 'k1' });
    closing.close();
    await expect(pending).rejects.toThrow(KeySetUnavailableError);
    expect(warnings).toHaveLength(1);
  });

  describe('the 512 KiB limit on a key set', () => {
    const serving = async (handler: RequestListener, run: (keys: RemoteKeySource, warnings: string[]) => Promise<void>) => {
      const own = createServer(handler);
      await new Promise<void>((resolve) => own.listen(0, '127.0.0.1', resolve));
      const warnings: string[] = [];
      const keys = new RemoteKeySource(new URL(`http://127.0.0.1:${(own.address() as AddressInfo).port}/jwks`), {
        timeoutMs: 1000,
        cooldownMs: 60_000,
        refreshIntervalMs: 600_000,
        logger: { warn: (message) => warnings.push(message), log: () => undefined },
      });
      try {
        await run(keys, warnings);
      } finally {
        own.closeAllConnections();
        await new Promise((resolve) => own.close(resolve));
      }
    };
    const usableButLarge = JSON.stringify({ keys: [jwk(ec.publicKey, { kid: 'k1' })], padding: 'x'.repeat(600 * 1024) });

    it('refuses a larger one sent in chunks, without a content-length, though it holds a usable key', () =>
      serving(
        (_request, response) => {
          response.writeHead(200, { 'content-type': 'application/json' });
          for (let at = 0; at < usableButLarge.length; at += 64 * 1024) response.write(usableButLarge.slice(at, at + 64 * 1024));
          response.end();
        },
        async (keys, warnings) => {
          await expect(keys.resolve({ alg: 'ES256', kid: 'k1' })).rejects.toThrow(KeySetUnavailableError);
          expect(warnings).toEqual([expect.stringContaining('(the JWK Set exceeds 524288 bytes)')]);
        },
      ));

    it('refuses a larger content-length before reading the body', () =>
      serving(
        (_request, response) => {
          response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(usableButLarge.length) });
          response.write(usableButLarge.slice(0, 1024)); // and the rest never comes
        },
        async (keys, warnings) => {
          await expect(keys.resolve({ alg: 'ES256', kid: 'k1' })).rejects.toThrow(KeySetUnavailableError);
          expect(warnings).toEqual([expect.stringContaining('(the JWK Set exceeds 524288 bytes)')]);
        },
      ));
  });

  it.each([
    ['answers 500', () => [500, 'oops'] as [number, string]],
    ['answers invalid JSON', () => [200, '{"keys":'] as [number, string]],
    ['answers without keys', () => [200, '{}'] as [number, string]],
    ['answers an empty key set', () => [200, '{"keys":[]}'] as [number, string]],
    ['answers only encryption keys', () => [200, JSON.stringify({ keys: [jwk(rsa.publicKey, { use: 'enc' })] })] as [number, string]],
    ['answers more than 512 KiB', () => [200, JSON.stringify({ keys: [], padding: 'x'.repeat(600 * 1024) })] as [number, string]],
  ])('reports the key set unavailable when the endpoint %s', async (_name, failing) => {
    answer = failing;
    const error = await source().resolve({ alg: 'ES256', kid: 'k1' }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(KeySetUnavailableError);
    expect((error as KeySetUnavailableError).retryAfterSeconds).toBe(60);
  });
});
