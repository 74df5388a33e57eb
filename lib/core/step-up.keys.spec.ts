import { generateKeyPairSync } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keyFitsAlgorithm, KeySetUnavailableError, NoMatchingKeyError, RemoteKeySource, StaticKeySource } from './step-up.keys.js';

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

  it('uses the public half of a private key it is given', () => {
    const source = new StaticKeySource([ec.privateKey]);
    expect(source.resolve({ alg: 'ES256' }).type).toBe('public');
  });

  it('refuses to guess between several candidates when the token has no kid', () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const source = new StaticKeySource([ec.publicKey, other.publicKey]);
    expect(() => source.resolve({ alg: 'ES256' })).toThrow(NoMatchingKeyError);
  });

  it('honours the JWK alg, use and key_ops members', () => {
    expect(() => new StaticKeySource([jwk(rsa.publicKey, { alg: 'PS256' })]).resolve({ alg: 'RS256' })).toThrow(NoMatchingKeyError);
    expect(() => new StaticKeySource([jwk(rsa.publicKey, { use: 'enc' })])).toThrow('keys[0] is not a public key that can verify');
    expect(() => new StaticKeySource([jwk(rsa.publicKey, { key_ops: ['encrypt'] })])).toThrow('keys[0] is not a public key that can verify');
    expect(new StaticKeySource([jwk(rsa.publicKey, { key_ops: ['verify'] })]).resolve({ alg: 'RS256' }).asymmetricKeyType).toBe('rsa');
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

  it('logs where the key set is without its query string', async () => {
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
    expect(warnings).toEqual([`JWKS ${url.href} could not be loaded (HTTP 500); keys already held stay in use`]);
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
