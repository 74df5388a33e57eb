import { setTimeout as sleep } from 'node:timers/promises';
import { parseStepUpChallenge } from 'nestjs-step-up';
import { createSigningKey, TestIssuer, type SigningKey } from './support/test-issuer.js';
import { profileCalls, startCapturedApp, type CapturedApp } from './support/faults-app.js';
import { FaultyJwks, type JwksMode } from './support/faults-jwks.js';
import type { Platform } from './support/test-app.js';

/*
 * The key source is the same on both platforms; every scenario runs over Express, and the outage
 * scenario also over Fastify to check the 503 answer there. Whole-second options keep this fast:
 * timeout 1 s, cooldown 1 s, background refresh 1 s (or 60 s where a refresh must not interfere).
 */
const FAST = { jwksTimeout: 1, jwksCooldown: 1 } as const;
const UNKNOWN_KEY = 'The access token is signed with an unknown key';

/** Polls until `check` holds, failing with `what` after `ms`. */
async function eventually(what: string, check: () => boolean | Promise<boolean>, ms = 6000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(50);
  }
}

/** A 503 that sends the client to retry later: never an `invalid_token` (that would mean "log in again"). */
async function expectUnavailable(response: Response, cooldownSeconds = FAST.jwksCooldown) {
  expect(response.status).toBe(503);
  const retryAfter = response.headers.get('retry-after');
  expect(retryAfter).toMatch(/^[1-9]\d*$/);
  expect(Number(retryAfter)).toBeLessThanOrEqual(cooldownSeconds);
  expect(response.headers.get('www-authenticate')).toBeNull();
  expect(response.headers.get('cache-control')).toBe('no-store');
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(await response.json()).toEqual({
    type: 'about:blank',
    title: 'Service Unavailable',
    status: 503,
    detail: 'The token signing keys cannot be fetched right now; retry later',
  });
}

async function expectUnknownKey(response: Response) {
  expect(response.status).toBe(401);
  expect(parseStepUpChallenge(response.headers.get('www-authenticate')!)).toMatchObject({ error: 'invalid_token', errorDescription: UNKNOWN_KEY });
}

describe('key-set faults', () => {
  let issuer: TestIssuer;
  let served: SigningKey[];
  let jwks: FaultyJwks;
  let api: CapturedApp | undefined;

  const options = (extra: Record<string, unknown> = {}) => ({
    issuer: issuer.issuer,
    audience: TestIssuer.audience,
    jwksUri: jwks.url,
    ...FAST,
    jwksRefreshInterval: 60,
    ...extra,
  });
  const sign = (key: SigningKey, claims: Record<string, unknown> = {}) => issuer.sign({ jti: Math.random().toString(36), ...claims }, { key });
  const keyLogs = () => api!.logger.from('StepUpModule');
  const tokensNeverLogged = (...tokens: string[]) => {
    for (const entry of api!.logger.entries) for (const token of tokens) expect(entry.text).not.toContain(token.split('.')[2]);
  };

  beforeAll(async () => {
    issuer = await TestIssuer.start();
  });
  beforeEach(async () => {
    served = [issuer.keys[0]!];
    jwks = await FaultyJwks.start(() => served.map((key) => key.publicJwk));
    profileCalls.count = 0;
  });
  afterEach(async () => {
    await api?.app.close();
    api = undefined;
    await jwks.down();
  });
  afterAll(() => issuer.close());

  describe.each<Platform>(['express', 'fastify'])('over %s', (platform) => {
    it('boots with the endpoint down, answers 503 with Retry-After, logs the cause once, and recovers by itself', async () => {
      await jwks.down();
      const bootStarted = Date.now();
      api = await startCapturedApp(platform, options());
      expect(Date.now() - bootStarted).toBeLessThan(4000);
      const token = await sign(issuer.keys[0]!);

      for (let i = 0; i < 5; i++) await expectUnavailable(await api.request('/api/profile', token));
      await sleep(1100); // past the cooldown: the next request tries again, and fails again
      for (let i = 0; i < 5; i++) await expectUnavailable(await api.request('/api/profile', token));
      expect(profileCalls.count).toBe(0);

      const warnings = keyLogs().filter((entry) => entry.level === 'warn');
      expect(warnings).toHaveLength(1);
      expect(warnings[0]!.message).toMatch(new RegExp(`^JWKS ${jwks.url.replace(/[.?]/g, '\\$&')} could not be loaded \\(.+\\); no signing keys yet: tokens get 503 until it loads$`));
      expect(api.logger.entries.filter((entry) => entry.level === 'error')).toEqual([]);

      await jwks.up();
      // While failing, the background refresh retries every cooldown: no request is needed to recover.
      await eventually('the background refresh to reach the endpoint again', () => jwks.requests > 0);
      await eventually('the key set to be loaded', async () => (await api!.request('/api/profile', token)).status === 200);
      expect(keyLogs().map(({ level, message }) => [level, message])).toEqual([
        ['warn', warnings[0]!.message],
        ['log', `JWKS ${jwks.url} is reachable again`],
      ]);
      tokensNeverLogged(token);
    });
  });

  it('boots past an endpoint that stalls beyond the timeout, answers 503 within the timeout, and recovers', async () => {
    jwks.mode = { kind: 'stall' };
    const bootStarted = Date.now();
    api = await startCapturedApp('express', options());
    const bootTime = Date.now() - bootStarted;
    expect(bootTime).toBeGreaterThanOrEqual(900);
    expect(bootTime).toBeLessThan(4000);
    const token = await sign(issuer.keys[0]!);

    await sleep(1100); // past the cooldown, so this request waits on a fetch of its own
    const started = Date.now();
    await expectUnavailable(await api.request('/api/profile', token));
    expect(Date.now() - started).toBeLessThan(3000);
    expect(keyLogs().filter((entry) => entry.level === 'warn')).toHaveLength(1);
    expect(keyLogs()[0]!.message).toMatch(/could not be loaded \(.*(timeout|aborted).*\)/i);

    jwks.mode = { kind: 'ok' };
    await eventually('recovery', async () => (await api!.request('/api/profile', token)).status === 200);
    expect(profileCalls.count).toBe(1);
  });

  it.each<[string, JwksMode, RegExp]>([
    ['HTTP 500', { kind: 'status', status: 500 }, /\(HTTP 500\)/],
    ['invalid JSON', { kind: 'body', body: '<html>oops</html>' }, /could not be loaded \(.+\)/],
    ['JSON without a keys array', { kind: 'body', body: '{"keys":"none"}' }, /"keys" array/],
    ['a dropped connection', { kind: 'reset' }, /could not be loaded \(.+\)/],
  ])('when the endpoint turns to %s: held keys keep working, a key it cannot get is a 503, the cause is logged once', async (_name, mode, cause) => {
    api = await startCapturedApp('express', options({ jwksRefreshInterval: 1 }));
    const held = issuer.keys[0]!;
    expect((await api.request('/api/profile', await sign(held))).status).toBe(200);

    const rotated = await createSigningKey('ES256');
    served = [held, rotated];
    jwks.mode = mode;
    const before = jwks.requests;
    await eventually('a background refresh to fail', () => jwks.requests > before && keyLogs().length > 0);

    // Tokens never seen before, signed by the key already held: verified without the endpoint.
    for (let i = 0; i < 3; i++) expect((await api.request('/api/profile', await sign(held))).status).toBe(200);
    // The new key cannot be had: a server-side fault, so 503, never invalid_token and never allowed.
    const rotatedToken = await sign(rotated);
    for (let i = 0; i < 5; i++) await expectUnavailable(await api.request('/api/profile', rotatedToken));
    expect(profileCalls.count).toBe(4);

    expect(keyLogs()).toHaveLength(1);
    expect(keyLogs()[0]!.level).toBe('warn');
    expect(keyLogs()[0]!.message).toMatch(cause);
    tokensNeverLogged(rotatedToken);

    jwks.mode = { kind: 'ok' };
    await eventually('the rotated key to be picked up', async () => (await api!.request('/api/profile', rotatedToken)).status === 200);
    expect(keyLogs().at(-1)!.message).toBe(`JWKS ${jwks.url} is reachable again`);
  });

  it('picks up a rotated key on demand: an unknown kid past the cooldown fetches the set once', async () => {
    api = await startCapturedApp('express', options());
    const second = await createSigningKey('ES256');
    served = [issuer.keys[0]!, second];
    await sleep(1100); // past the cooldown since the start-up fetch
    const before = jwks.requests;
    expect((await api.request('/api/profile', await sign(second))).status).toBe(200);
    expect(jwks.requests).toBe(before + 1);
    expect((await api.request('/api/profile', await sign(second))).status).toBe(200);
    expect(jwks.requests).toBe(before + 1);
    expect(keyLogs()).toEqual([]);
  });

  it('picks up a rotated key ahead of use through the background refresh', async () => {
    api = await startCapturedApp('express', options({ jwksRefreshInterval: 1 }));
    const third = await createSigningKey('ES256');
    served = [issuer.keys[0]!, third];
    const before = jwks.requests;
    await eventually('a background refresh', () => jwks.requests > before);
    await sleep(100);
    const during = jwks.requests;
    expect((await api.request('/api/profile', await sign(third))).status).toBe(200);
    expect(jwks.requests).toBe(during); // already held: no fetch on the request path
    expect(keyLogs()).toEqual([]);
  });

  it('stops verifying tokens signed by a key removed from the set, even tokens it had verified and cached', async () => {
    api = await startCapturedApp('express', options({ jwksRefreshInterval: 1 }));
    const old = issuer.keys[0]!;
    const next = await createSigningKey('ES256');
    served = [old, next];
    await eventually('the next key to be served', async () => (await api!.request('/api/profile', await sign(next))).status === 200);
    const cachedToken = await sign(old);
    expect((await api.request('/api/profile', cachedToken)).status).toBe(200);
    expect((await api.request('/api/profile', cachedToken)).status).toBe(200);

    served = [next];
    const before = jwks.requests;
    await eventually('a background refresh without the old key', () => jwks.requests > before);
    await sleep(100);
    await expectUnknownKey(await api.request('/api/profile', cachedToken));
    await expectUnknownKey(await api.request('/api/profile', await sign(old)));
    expect((await api.request('/api/profile', await sign(next))).status).toBe(200);
    expect(keyLogs()).toEqual([]);
  });

  it('does not let a flood of unknown kids through to the endpoint: at most one fetch per cooldown', async () => {
    api = await startCapturedApp('express', options({ jwksCooldown: 2 }));
    const before = jwks.requests;
    const strangers = await Promise.all(Array.from({ length: 20 }, () => createSigningKey('ES256')));
    const responses = await Promise.all(strangers.map(async (key) => api!.request('/api/profile', await sign(key))));
    for (const response of responses) await expectUnknownKey(response);
    expect(jwks.requests - before).toBeLessThanOrEqual(1);
  });
});
