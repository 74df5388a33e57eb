import {
  Controller,
  createParamDecorator,
  Get,
  Inject,
  Injectable,
  Module,
  Req,
  UseGuards,
  type CanActivate,
  type DynamicModule,
  type ExecutionContext,
} from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { APP_GUARD, HttpAdapterHost } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host.js';
import { Test } from '@nestjs/testing';
import {
  ACR_MFA,
  AuthenticationRequiredException,
  BearerChallengeException,
  InsufficientScopeException,
  InvalidTokenException,
  Public,
  RequireScope,
  RequireStepUp,
  StepUpAuthenticator,
  StepUpClaims,
  StepUpExceptionFilter,
  StepUpGuard,
  StepUpModule,
  StepUpOptionsError,
  StepUpRequiredException,
  parseStepUpChallenge,
} from 'nestjs-step-up';
import { createSigningKey, TestIssuer } from './support/test-issuer.js';
import { BankController, PLATFORMS, startTestApp, type TestApp } from './support/test-app.js';

const now = () => Math.floor(Date.now() / 1000);
const Principal = createParamDecorator((_data: unknown, context: ExecutionContext) => context.switchToHttp().getRequest().principal);

describe('options are validated at start-up', () => {
  async function boot(options: unknown) {
    return Test.createTestingModule({ imports: [StepUpModule.forRoot(options as never)] }).compile();
  }

  it.each([
    [{ audience: 'a', jwksUri: 'https://id.example/jwks' }, 'issuer is required (got undefined): the issuer identifier (iss), or a list of them'],
    [{ issuer: 'i', jwksUri: 'https://id.example/jwks' }, "audience is required (got undefined): this API's identifier (aud), or a list of them"],
    [{ issuer: null, audience: 'a', jwksUri: 'https://id.example/jwks' }, 'issuer is required (got null)'],
    [{ issuer: 'i', audience: null, jwksUri: 'https://id.example/jwks' }, 'audience is required (got null)'],
    [{ issuer: 7, audience: 'a', jwksUri: 'https://id.example/jwks' }, 'issuer must be the issuer identifier (iss), or a list of them'],
    [{ issuer: 'i', audience: 'a' }, "give exactly one key source: jwksUri (the issuer's JWK Set URL) or keys (public keys)"],
    [{ issuer: 'i', audience: 'a', jwksUri: 'ftp://x' }, "jwksUri must be an http(s) URL, such as the issuer metadata's jwks_uri"],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', algorithms: ['HS256'] }, /"none" and HMAC \(HS\*\) algorithms are refused/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', algorithms: ['none'] }, /got "none"/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', issuerr: 'typo' }, /unknown option "issuerr": check its spelling/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', clockTolerance: '5 minutes' }, /clockTolerance must be seconds/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', defaultPolicy: 'open' }, "defaultPolicy must be 'authenticated' or 'none'"],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', reauthenticateUrl: '//evil.example' }, /reauthenticateUrl must be an absolute http\(s\) URL/],
    [{ issuer: 'i', audience: 'a"b', jwksUri: 'https://x' }, /the audience cannot serve as realm/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', realm: '' }, /realm must be printable ASCII without quotes or backslashes, and not empty/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'http://id.example/jwks' }, /jwksUri must use https: id\.example is not a loopback address.*set allowInsecureJwksUri: true/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', allowInsecureJwksUri: 'yes' }, 'allowInsecureJwksUri must be true or false'],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://svc:secret@id.example/jwks' }, /jwksUri must not carry a user name or password/],
    [{ issuer: 'i', audience: 'a', jwksUri: null }, /give exactly one key source/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', algorithms: 'none' }, /algorithms must be a list drawn from/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', clockTolerance: '3650d' }, /clockTolerance must be .*, at most 5 minutes/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', jwksTimeout: 0 }, /jwksTimeout must be .*, from 1 second to 1 minute/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', jwksCooldown: '30d' }, /jwksCooldown must be .*, from 1 second to 1 hour/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', jwksRefreshInterval: '30d' }, /jwksRefreshInterval must be .*, from 1 second to 1 day/],
    [undefined, 'StepUpModule needs an options object: { issuer, audience, jwksUri }'],
    [null, 'StepUpModule needs an options object: { issuer, audience, jwksUri }'],
    [{ issuer: [], audience: 'a', jwksUri: 'https://x' }, 'issuer must be the issuer identifier (iss), or a list of them'],
    [{ issuer: ['i', ' '], audience: 'a', jwksUri: 'https://x' }, 'issuer must be the issuer identifier (iss), or a list of them'],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', keys: [{ kty: 'EC' }] }, /give exactly one key source/],
    [{ issuer: 'i', audience: 'a', keys: [] }, 'keys must hold at least one key'],
    [{ issuer: 'i', audience: 'a', keys: ['not a PEM key'] }, 'keys must hold public JWKs, PEM strings or KeyObjects'],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', algorithms: [] }, 'algorithms must name at least one algorithm; leave it out for the default'],
    [{ issuer: 'i', audience: 'a', jwksUri: 'http://127.0.0.1.nip.io/jwks' }, /jwksUri must use https: 127\.0\.0\.1\.nip\.io is not a loopback address/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'http://localhost.evil.example/jwks' }, /jwksUri must use https: localhost\.evil\.example is not a loopback address/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://svc@id.example/jwks' }, /jwksUri must not carry a user name or password/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', reauthenticateUrl: '/\\evil.example' }, /reauthenticateUrl must be an absolute http\(s\) URL/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', realm: 'a"b' }, /realm must be printable ASCII without quotes or backslashes/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', acrRanking: ['urn:a b'] }, 'acrRanking values must be visible ASCII without spaces, quotes or backslashes'],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', scopeClaims: ['roles'] }, "scopeClaims may only hold 'scope', 'scp', 'permissions'"],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', requestProperty: '' }, "requestProperty must be a property name such as 'user', or false"],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', requestProperty: 'headers' }, "requestProperty 'headers' would overwrite the request's own property: use 'user' or another free name"],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', requestProperty: 'body' }, /^Invalid StepUpModule options:\n {2}- requestProperty 'body' would overwrite/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', requestProperty: 'raw' }, /requestProperty 'raw' would overwrite/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', requestProperty: 'routeOptions' }, /requestProperty 'routeOptions' would overwrite/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', requestProperty: 'on' }, /requestProperty 'on' would overwrite/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', requestProperty: '__proto__' }, /requestProperty '__proto__' would overwrite/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', clockTolerance: 301 }, /clockTolerance must be .*, at most 5 minutes/],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', maxTokenLength: 255 }, 'maxTokenLength must be at least 256'],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', maxTokenLength: 65537 }, 'maxTokenLength must be at most 65536'],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', maxTokenLength: 1000.5 }, 'maxTokenLength must be a whole number of characters'],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', tokenCacheSize: 1.5 }, 'tokenCacheSize must be a whole number of tokens (0 turns the cache off)'],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', requiredClaims: ['jti', 1] }, 'requiredClaims must be a list of claim names'],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', tokenType: true }, "tokenType must be a JWT typ such as 'at+jwt'"],
    [{ issuer: 'i', audience: 'a', jwksUri: 'https://x', globalGuard: 'false' }, 'globalGuard must be true or false'],
  ])('refuses %j', async (options, message) => {
    const error = await boot(options).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepUpOptionsError);
    expect((error as Error).message).toMatch(message);
  });

  it.each([
    { jwksUri: 'http://127.0.0.1:8080/jwks' },
    { jwksUri: 'http://localhost:8080/jwks' },
    { jwksUri: 'http://[::1]:8080/jwks' },
    { jwksUri: 'http://keycloak:8080/realms/demo/protocol/openid-connect/certs', allowInsecureJwksUri: true },
  ])('accepts a plain-http key set on loopback, or when told to: %j', async (keySet) => {
    await expect(boot({ issuer: 'i', audience: 'a', ...keySet })).resolves.toBeDefined();
  });

  it('refuses at start-up a static key that none of the accepted algorithms can use', async () => {
    const rsa = await createSigningKey('RS256', 'rsa-key');
    await expect(boot({ issuer: 'i', audience: 'a', keys: [rsa.publicJwk], algorithms: ['ES256'] })).rejects.toThrow(
      new StepUpOptionsError([
        'keys[0] is not a public key that can verify ES256: check its type and size (RSA needs 2048 bits), its alg, and its use or key_ops (they must allow verification)',
      ]),
    );
    await expect(boot({ issuer: 'i', audience: 'a', keys: [rsa.publicJwk], algorithms: ['RS256'] })).resolves.toBeDefined();
  });

  it('lists unusable keys with the other problems, each by its index', async () => {
    const error = (await boot({ issuer: 'i', audience: 'a', keys: [{ kty: 'oct', k: 'c2VjcmV0' }], tokenCacheSize: -1 }).catch((caught: unknown) => caught)) as StepUpOptionsError;
    expect(error).toBeInstanceOf(StepUpOptionsError);
    expect(error.problems).toEqual(['tokenCacheSize must be 0 or more', expect.stringMatching(/^keys\[0\] is not a public key that can verify RS256, PS256, ES256, EdDSA: /)]);
  });

  it('refuses a private key, as a KeyObject, a PKCS#8 PEM or a JWK with d: a resource server must not hold the signing key', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const forms = [privateKey, privateKey.export({ format: 'pem', type: 'pkcs8' }), privateKey.export({ format: 'jwk' })];
    for (const form of forms) {
      await expect(boot({ issuer: 'i', audience: 'a', keys: [form] })).rejects.toThrow(
        new StepUpOptionsError(['keys[0] is a private key: pass only its public half (createPublicKey(key))']),
      );
    }
    await expect(boot({ issuer: 'i', audience: 'a', keys: [createPublicKey(privateKey)] })).resolves.toBeDefined();
  });

  it.each(['user', 'auth', 'principal'])('accepts requestProperty %j, which no request carries', async (requestProperty) => {
    await expect(boot({ issuer: 'i', audience: 'a', jwksUri: 'https://x', requestProperty })).resolves.toBeDefined();
  });

  it.each([
    { maxTokenLength: 256 },
    { maxTokenLength: 65536 },
    { tokenCacheSize: 0 },
    { clockTolerance: 0 },
    { clockTolerance: '5m' },
  ])('accepts a value at the edge of what is allowed: %j', async (edge) => {
    await expect(boot({ issuer: 'i', audience: 'a', jwksUri: 'https://x', ...edge })).resolves.toBeDefined();
  });

  it('lists every problem at once', async () => {
    const error = (await boot({ jwksUri: 'nope', tokenCacheSize: -1 }).catch((caught: unknown) => caught)) as StepUpOptionsError;
    expect(error.problems).toHaveLength(4);
    expect(error.message).toMatch(/^Invalid StepUpModule options:\n {2}- /);
  });

  it.each(['globalGuard', 'globalFilter'])('refuses the registration flag %s inside the async factory', async (flag) => {
    const module = StepUpModule.forRootAsync({
      useFactory: () => ({ issuer: 'i', audience: 'a', jwksUri: 'https://x', [flag]: false }) as never,
    });
    await expect(Test.createTestingModule({ imports: [module] }).compile()).rejects.toThrow(
      `${flag} belongs beside useFactory in forRootAsync(), not in what it returns`,
    );
  });

  it('says a required option is unset when a config value is missing, e.g. in forRootAsync', async () => {
    const module = StepUpModule.forRootAsync({
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({})] })],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => ({ issuer: config.get('STEPUP_UNSET_ISSUER'), audience: 'a', jwksUri: 'https://x' }) as never,
    });
    const error = await Test.createTestingModule({ imports: [module] })
      .compile()
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StepUpOptionsError);
    expect((error as StepUpOptionsError).problems).toEqual(['issuer is required (got undefined): the issuer identifier (iss), or a list of them']);
  });

  describe('one registration per application', () => {
    const options = { audience: 'a', jwksUri: 'https://id.example/jwks' };
    const twice = 'StepUpModule is registered twice: call forRoot() or forRootAsync() once, in the root module';
    const bootWithFeature = (root: DynamicModule, feature: DynamicModule) => {
      @Module({ imports: [feature] })
      class FeatureModule {}
      return Test.createTestingModule({ imports: [root, FeatureModule] }).compile();
    };

    it.each([
      ['forRoot', () => StepUpModule.forRoot({ issuer: 'https://feature.example', ...options })],
      ['forRootAsync', () => StepUpModule.forRootAsync({ useFactory: () => ({ issuer: 'https://feature.example', ...options }) })],
    ])('refuses at start-up a second one, by %s in a feature module', async (_name, feature) => {
      const error = await bootWithFeature(StepUpModule.forRoot({ issuer: 'https://root.example', ...options }), feature()).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(StepUpOptionsError);
      expect((error as StepUpOptionsError).problems).toEqual([twice]);
    });

    it('accepts one registration in each of several applications of one process, and one module imported twice', async () => {
      const registration = StepUpModule.forRoot({ issuer: 'https://root.example', ...options });
      const apps = await Promise.all([bootWithFeature(registration, registration), boot({ issuer: 'i', ...options }), boot({ issuer: 'j', ...options })]);
      await Promise.all(apps.map((app) => app.close()));
    });
  });

  it('names mistakes in decorators when the class is defined', () => {
    expect(() => RequireStepUp({})).toThrow('@RequireStepUp() needs acr, amr or maxAge');
    expect(() => RequireStepUp({ maxAge: '5 min' })).toThrow(/maxAge must be seconds \(300\) or a duration string/);
    expect(() => RequireScope()).toThrow('@RequireScope() needs at least one scope');
    expect(() => RequireScope('a b')).toThrow(/scope "a b" is not valid/);
    expect(() => RequireStepUp({ amr: [] })).toThrow('amr must name at least one value');
  });

  it('refuses a second @RequireStepUp() on one method, which would hide the first', () => {
    const defineTwice = () => {
      class Twice {
        @RequireStepUp({ acr: ACR_MFA })
        @RequireStepUp({ maxAge: 60 })
        route() {}
      }
      return Twice;
    };
    expect(defineTwice).toThrow('@RequireStepUp() is declared twice on the same class or method: merge them into one requirement');
  });

  it('refuses @Public() below @RequireScope(), and on a class that inherits only @RequireStepUp()', () => {
    expect(() => {
      class ScopeOverPublic {
        @RequireScope('admin')
        @Public()
        route() {}
      }
      return ScopeOverPublic;
    }).toThrow('@RequireScope() and @Public() on the same class or method contradict each other: remove one');
    @RequireStepUp({ acr: ACR_MFA })
    class StepUpBase {}
    expect(() => {
      @Public()
      class OpenedSubclass extends StepUpBase {}
      return OpenedSubclass;
    }).toThrow(/^@Public\(\) on a class that declares or inherits @RequireStepUp\(\) or @RequireScope\(\) contradicts them/);
  });

  it('refuses @Public() beside a requirement, which would open what the requirement protects', () => {
    const onMethod = '@Public() and @RequireStepUp() or @RequireScope() on the same method contradict each other: remove one';
    const onClass = /^@Public\(\) on a class that declares or inherits @RequireStepUp\(\) or @RequireScope\(\) contradicts them: remove one, or open single routes with a method-level @Public\(\)$/;
    expect(() => {
      class PublicOverScope {
        @Public()
        @RequireScope('admin')
        route() {}
      }
      return PublicOverScope;
    }).toThrow(onMethod);
    expect(() => {
      @RequireStepUp({ acr: ACR_MFA })
      @Public()
      class StepUpOverPublic {}
      return StepUpOverPublic;
    }).toThrow('@RequireStepUp() and @Public() on the same class or method contradict each other: remove one');
    @RequireScope('admin')
    class ScopedBase {}
    expect(() => {
      @Public()
      class OpenedSubclass extends ScopedBase {}
      return OpenedSubclass;
    }).toThrow(onClass);
  });
});

describe.each(PLATFORMS)('module behaviour over %s', (platform) => {
  let issuer: TestIssuer;
  let api: TestApp | undefined;

  beforeAll(async () => {
    issuer = await TestIssuer.start('RS256');
  });
  afterEach(async () => {
    await api?.app.close();
    api = undefined;
  });
  afterAll(() => issuer.close());

  it('takes its options from forRootAsync, e.g. from ConfigService', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        StepUpModule.forRootAsync({
          imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ STEPUP_ISSUER: issuer.issuer })] })],
          inject: [ConfigService],
          useFactory: (config: ConfigService) => ({
            issuer: config.getOrThrow<string>('STEPUP_ISSUER'),
            audience: TestIssuer.audience,
            jwksUri: issuer.jwksUri,
          }),
        }),
      ],
      controllers: [BankController],
    }).compile();
    const app = moduleRef.createNestApplication();
    await app.listen(0, '127.0.0.1');
    api = { app, url: '', request: () => Promise.reject(new Error('unused')) };
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    const ok = await fetch(`${url}/api/profile`, { headers: { authorization: `Bearer ${await issuer.sign({ sub: 'bob' })}` } });
    expect(ok.status).toBe(200);
    expect((await fetch(`${url}/api/profile`)).status).toBe(401);
  });

  it("with defaultPolicy 'none', checks only decorated routes, and those that read the claims", async () => {
    api = await startTestApp(platform, { ...issuer.moduleOptions, defaultPolicy: 'none' });
    expect((await api.request('/api/news')).status).toBe(200);
    const anonymous = await api.request('/api/profile');
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe(`Bearer realm="${TestIssuer.audience}"`);
    expect(await (await api.request('/api/profile', { token: await issuer.sign({ sub: 'grace' }) })).json()).toEqual({ subject: 'grace' });
    expect((await api.request('/api/accounts/balance')).status).toBe(401);
    const stepUpOnly = await api.request('/api/keys', { token: await issuer.sign({ acr: 'urn:pwd' }) });
    expect(stepUpOnly.status).toBe(401);
    expect(parseStepUpChallenge(stepUpOnly.headers.get('www-authenticate')!)).toMatchObject({ error: 'insufficient_user_authentication' });
  });

  it('accepts a higher acr through acrRanking', async () => {
    api = await startTestApp(platform, { ...issuer.moduleOptions, acrRanking: ['urn:pwd', ACR_MFA, 'urn:phishing-resistant'] });
    const token = await issuer.sign({ acr: 'urn:phishing-resistant', amr: ['mfa', 'hwk'], auth_time: now(), scope: 'transfer:funds' });
    expect((await api.request('/api/transfers', { method: 'POST', token })).status).toBe(201);
  });

  it('refuses a token longer than a lower maxTokenLength with invalid_request', async () => {
    api = await startTestApp(platform, { ...issuer.moduleOptions, maxTokenLength: 256 });
    const token = await issuer.sign();
    expect(token.length).toBeGreaterThan(256);
    const response = await api.request('/api/profile', { token });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ error: 'invalid_request', detail: 'The access token must not exceed 256 characters' });
  });

  it('reads a token longer than the default 8192 characters when maxTokenLength allows it', async () => {
    api = await startTestApp(platform, { ...issuer.moduleOptions, maxTokenLength: 16384 });
    const token = await issuer.sign({ sub: 'frank', note: 'x'.repeat(9000) });
    expect(token.length).toBeGreaterThan(8192);
    const response = await api.request('/api/profile', { token });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ subject: 'frank' });
  });

  it('names the configured realm in every challenge', async () => {
    api = await startTestApp(platform, { ...issuer.moduleOptions, realm: 'bank' });
    expect((await api.request('/api/profile')).headers.get('www-authenticate')).toBe('Bearer realm="bank"');
    const expired = await api.request('/api/profile', { token: await issuer.sign({ exp: now() - 60 }) });
    expect(expired.headers.get('www-authenticate')).toBe('Bearer realm="bank", error="invalid_token", error_description="The access token has expired"');
  });

  it('tolerates 5 seconds of clock skew on exp by default, and as many as clockTolerance says', async () => {
    api = await startTestApp(platform, issuer.moduleOptions);
    // A second past exp: seconds of margin for a slow machine, and still refused without the tolerance.
    expect((await api.request('/api/profile', { token: await issuer.sign({ exp: now() - 1 }) })).status).toBe(200);
    const expired = await api.request('/api/profile', { token: await issuer.sign({ exp: now() - 30 }) });
    expect(expired.status).toBe(401);
    expect(parseStepUpChallenge(expired.headers.get('www-authenticate')!)).toMatchObject({ error: 'invalid_token', errorDescription: 'The access token has expired' });
    await api.app.close();
    api = await startTestApp(platform, { ...issuer.moduleOptions, clockTolerance: 60 });
    expect((await api.request('/api/profile', { token: await issuer.sign({ exp: now() - 30 }) })).status).toBe(200);
    expect((await api.request('/api/profile', { token: await issuer.sign({ exp: now() - 90 }) })).status).toBe(401);
  });

  it('requires the requiredClaims', async () => {
    api = await startTestApp(platform, { ...issuer.moduleOptions, requiredClaims: ['jti'] });
    expect((await api.request('/api/profile', { token: await issuer.sign({ jti: 'token-1' }) })).status).toBe(200);
    const withoutJti = await api.request('/api/profile', { token: await issuer.sign() });
    expect(withoutJti.status).toBe(401);
    expect(parseStepUpChallenge(withoutJti.headers.get('www-authenticate')!)).toMatchObject({
      error: 'invalid_token',
      errorDescription: 'The access token lacks a required claim',
    });
  });

  it('reads granted scopes only from the scopeClaims', async () => {
    api = await startTestApp(platform, { ...issuer.moduleOptions, scopeClaims: ['scope'] });
    expect((await api.request('/api/accounts/balance', { token: await issuer.sign({ scope: 'read:balance' }) })).status).toBe(200);
    const fromScp = await api.request('/api/accounts/balance', { token: await issuer.sign({ scp: ['read:balance'] }) });
    expect(fromScp.status).toBe(403);
    expect(parseStepUpChallenge(fromScp.headers.get('www-authenticate')!)).toMatchObject({ error: 'insufficient_scope', scope: ['read:balance'] });
  });

  it('verifies with static keys instead of a JWKS', async () => {
    api = await startTestApp(platform, { issuer: issuer.issuer, audience: TestIssuer.audience, keys: [issuer.keys[0]!.publicJwk as never] });
    expect((await api.request('/api/profile', { token: await issuer.sign() })).status).toBe(200);
  });

  it('accepts each default algorithm: RS256, PS256, ES256 and EdDSA', async () => {
    const keys = await Promise.all((['RS256', 'PS256', 'ES256', 'EdDSA'] as const).map((alg) => createSigningKey(alg as never)));
    api = await startTestApp(platform, { issuer: issuer.issuer, audience: TestIssuer.audience, keys: keys.map((key) => key.publicJwk as never) });
    for (const key of keys) expect((await api.request('/api/profile', { token: await issuer.sign({}, { key }) })).status).toBe(200);
  });

  it("requires typ 'at+jwt' when tokenType is set", async () => {
    api = await startTestApp(platform, { ...issuer.moduleOptions, tokenType: 'at+jwt' });
    expect((await api.request('/api/profile', { token: await issuer.sign() })).status).toBe(200);
    const idToken = await issuer.sign({}, { header: { typ: 'JWT' } });
    const response = await api.request('/api/profile', { token: idToken });
    expect(response.status).toBe(401);
    expect(parseStepUpChallenge(response.headers.get('www-authenticate')!)).toMatchObject({
      error: 'invalid_token',
      errorDescription: 'The access token is not of the expected type',
    });
  });

  it('adds nothing to the request by default, and @StepUpClaims() still gets the claims', async () => {
    const addedByGuard = (request: object) =>
      Reflect.ownKeys(request)
        .filter((key) => key === 'user' || (typeof key === 'symbol' && key.description?.startsWith('nestjs-step-up')))
        .map(String);
    @Controller()
    class ClaimsController {
      @Get('untouched')
      untouched(@Req() request: object) {
        return { added: addedByGuard(request) };
      }

      @Get('claims')
      claims(@StepUpClaims('sub') subject: string, @StepUpClaims() claims: { iss: string }, @Req() request: { user?: unknown }) {
        return { subject, issuer: claims.iss, user: request.user ?? null };
      }
    }
    api = await startTestApp(platform, issuer.moduleOptions, { controllers: [ClaimsController] });
    const token = await issuer.sign({ sub: 'dave' });
    expect(await (await api.request('/untouched', { token })).json()).toEqual({ added: [] });
    expect(await (await api.request('/claims', { token })).json()).toEqual({ subject: 'dave', issuer: issuer.issuer, user: null });
  });

  it('puts the claims on the configured request property', async () => {
    @Controller()
    class WhoAmIController {
      @Get('who')
      who(@Principal() principal: unknown) {
        return principal;
      }
    }
    api = await startTestApp(platform, { ...issuer.moduleOptions, requestProperty: 'principal' }, { controllers: [WhoAmIController] });
    const response = await api.request('/who', { token: await issuer.sign({ sub: 'carol' }) });
    expect(await response.json()).toMatchObject({ sub: 'carol', iss: issuer.issuer });
  });

  describe('web pages with reauthenticateUrl', () => {
    beforeEach(async () => {
      api = await startTestApp(platform, { ...issuer.moduleOptions, reauthenticateUrl: '/account/re-authenticate' });
    });
    const html = { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' };

    it('redirects a browser navigation that needs step-up, and brings it back', async () => {
      const token = await issuer.sign({ acr: 'urn:pwd', scope: 'read:balance' });
      const response = await api!.request('/api/keys?from=checkout', { token, headers: html });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe(
        `/account/re-authenticate?acr_values=${encodeURIComponent(ACR_MFA)}&return_to=%2Fapi%2Fkeys%3Ffrom%3Dcheckout`,
      );
    });

    it('redirects a HEAD navigation as it does a GET', async () => {
      const token = await issuer.sign({ acr: 'urn:pwd' });
      const response = await api!.request('/api/keys', { method: 'HEAD', token, headers: html });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe(`/account/re-authenticate?acr_values=${encodeURIComponent(ACR_MFA)}&return_to=%2Fapi%2Fkeys`);
    });

    it('asks the re-authenticate page for the scopes the token also lacks', async () => {
      const response = await api!.request('/admin/audit-logs', { token: await issuer.sign({ acr: 'urn:pwd' }), headers: html });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe(
        `/account/re-authenticate?acr_values=${encodeURIComponent(ACR_MFA)}&scope=admin%3Aaudit+admin&return_to=%2Fadmin%2Faudit-logs`,
      );
    });

    it('answers an API client with the challenge, not a redirect', async () => {
      const token = await issuer.sign({ acr: 'urn:pwd' });
      const response = await api!.request('/api/keys', { token, headers: { accept: 'application/json' } });
      expect(response.status).toBe(401);
    });

    it('does not redirect other methods either (PATCH)', async () => {
      const response = await api!.request('/admin/permissions', { method: 'PATCH', token: await issuer.sign({ acr: 'urn:pwd', scope: 'admin' }), headers: html });
      expect(response.status).toBe(401);
      expect(response.headers.get('location')).toBeNull();
      expect(parseStepUpChallenge(response.headers.get('www-authenticate')!)).toMatchObject({ error: 'insufficient_user_authentication', maxAge: 60 });
    });

    it('does not redirect a form post, nor a request without a token', async () => {
      const token = await issuer.sign({ acr: 'urn:pwd' });
      expect((await api!.request('/api/transfers', { method: 'POST', token, headers: html })).status).toBe(401);
      expect((await api!.request('/api/keys', { headers: html })).status).toBe(401);
    });
  });

  // Express keeps the target as received in originalUrl when a middleware rewrites url (a proxy prefix stripped);
  // Fastify routes before its middleware runs, so a rewrite there does not change the route.
  if (platform === 'express') {
    it('sends the browser back to the URL it asked for, not the one a middleware rewrote', async () => {
      api = await startTestApp(platform, { ...issuer.moduleOptions, reauthenticateUrl: '/account/re-authenticate' }, undefined, (app) =>
        app.use((request: { url: string }, _response: unknown, next: () => void) => {
          if (request.url.startsWith('/bank/')) request.url = request.url.slice('/bank'.length);
          next();
        }),
      );
      const token = await issuer.sign({ acr: 'urn:pwd' });
      const response = await api.request('/bank/api/keys?from=menu', { token, headers: { accept: 'text/html' } });
      expect(response.status).toBe(303);
      expect(response.headers.get('location')).toBe(
        `/account/re-authenticate?acr_values=${encodeURIComponent(ACR_MFA)}&return_to=%2Fbank%2Fapi%2Fkeys%3Ffrom%3Dmenu`,
      );
    });
  }
});

describe('registering the guard yourself', () => {
  @Injectable()
  class TenantGuard implements CanActivate {
    static calls: string[] = [];
    canActivate() {
      TenantGuard.calls.push('tenant');
      return true;
    }
  }

  @Controller()
  class OrderedController {
    @Get('ordered')
    @RequireStepUp({ acr: ACR_MFA })
    ordered() {
      return { ok: true };
    }

    @Get('local')
    @UseGuards(StepUpGuard)
    local() {
      return { ok: true };
    }
  }

  /** Nest's own context of a call to the `ordered` route, with these arguments (an HTTP call unless set otherwise). */
  const orderedRoute = (args: unknown[]) => new ExecutionContextHost(args, OrderedController, OrderedController.prototype.ordered);

  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await TestIssuer.start();
  });
  afterAll(() => issuer.close());

  it('with globalGuard: false, runs the guard where the app registers it', async () => {
    @Module({
      imports: [StepUpModule.forRoot({ ...issuer.moduleOptions, globalGuard: false })],
      controllers: [OrderedController],
      providers: [
        { provide: APP_GUARD, useClass: TenantGuard },
        { provide: APP_GUARD, useExisting: StepUpGuard },
      ],
    })
    class AppModule {}
    const app = (await Test.createTestingModule({ imports: [AppModule] }).compile()).createNestApplication();
    await app.listen(0, '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    try {
      TenantGuard.calls = [];
      const response = await fetch(`${url}/ordered`);
      expect(response.status).toBe(401);
      expect(TenantGuard.calls).toEqual(['tenant']);
      expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="${TestIssuer.audience}"`);
    } finally {
      await app.close();
    }
  });

  it('is global: a feature module that does not import it applies StepUpGuard and injects StepUpAuthenticator', async () => {
    @Injectable()
    class TokenInspector {
      constructor(@Inject(StepUpAuthenticator) readonly authenticator: StepUpAuthenticator) {}
    }
    @Controller('feature')
    class FeatureController {
      @Get()
      @UseGuards(StepUpGuard)
      @RequireStepUp({ acr: ACR_MFA })
      read() {
        return { ok: true };
      }
    }
    @Module({ controllers: [FeatureController], providers: [TokenInspector] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [StepUpModule.forRoot({ ...issuer.moduleOptions, globalGuard: false }), FeatureModule],
    }).compile();
    const app = moduleRef.createNestApplication();
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    try {
      expect(moduleRef.get(TokenInspector).authenticator).toBe(moduleRef.get(StepUpAuthenticator));
      const anonymous = await fetch(`${url}/feature`);
      expect(anonymous.status).toBe(401);
      expect(anonymous.headers.get('www-authenticate')).toBe(`Bearer realm="${TestIssuer.audience}"`);
      const stepped = await fetch(`${url}/feature`, { headers: { authorization: `Bearer ${await issuer.sign({ acr: ACR_MFA })}` } });
      expect(stepped.status).toBe(200);
    } finally {
      await app.close();
    }
  });

  it('without the filter, the exceptions still give a sane status and body', async () => {
    const app = (
      await Test.createTestingModule({
        imports: [StepUpModule.forRoot({ ...issuer.moduleOptions, globalFilter: false })],
        controllers: [OrderedController],
      }).compile()
    ).createNestApplication();
    app.useLogger(false);
    await app.listen(0, '127.0.0.1');
    const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
    try {
      const response = await fetch(`${url}/ordered`, { headers: { authorization: `Bearer ${await issuer.sign()}` } });
      expect(response.status).toBe(401);
      expect(await response.json()).toMatchObject({ status: 401, error: 'insufficient_user_authentication', acr_values: ACR_MFA });
    } finally {
      await app.close();
    }
  });

  it('refuses a non-HTTP context instead of letting it through', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [StepUpModule.forRoot(issuer.moduleOptions)],
      controllers: [OrderedController],
    }).compile();
    const guard = moduleRef.get(StepUpGuard);
    const rpc = orderedRoute([]);
    rpc.setType('rpc');
    expect(() => guard.canActivate(rpc)).toThrow(
      'StepUpGuard protects HTTP routes only; mark this rpc handler @Public() or override getRequest()',
    );
    await moduleRef.close();
  });

  it('leaves a refusal outside HTTP to that context: the filter writes nothing there', async () => {
    const app = (await Test.createTestingModule({ imports: [StepUpModule.forRoot(issuer.moduleOptions)] }).compile()).createNestApplication();
    await app.init();
    try {
      const filter = new StepUpExceptionFilter(app.get(HttpAdapterHost));
      const graphql = new ExecutionContextHost([{}, {}, {}, {}]);
      graphql.setType('graphql');
      expect(filter.catch(new StepUpRequiredException({ acrValues: [ACR_MFA] }), graphql)).toBeUndefined();
    } finally {
      await app.close();
    }
  });

  /** Runs `check` with the guard of a module serving OrderedController, and closes the module after it. */
  async function withGuard(check: (guard: StepUpGuard) => Promise<void>): Promise<void> {
    const moduleRef = await Test.createTestingModule({
      imports: [StepUpModule.forRoot(issuer.moduleOptions)],
      controllers: [OrderedController],
    }).compile();
    await moduleRef.init();
    try {
      await check(moduleRef.get(StepUpGuard));
    } finally {
      await moduleRef.close();
    }
  }

  it('answers repeated refusals with one rejected promise per kind: no token, and each policy failure', () =>
    withGuard(async (guard) => {
      const context = (headers: Record<string, string>) => orderedRoute([{ headers, url: '/ordered' }]);
      const refuseTwice = async (headers: Record<string, string>) => {
        const [first, second] = [guard.canActivate(context(headers)), guard.canActivate(context(headers))];
        const refusal = await Promise.resolve(first).catch((error: unknown) => error);
        await expect(second).rejects.toBe(refusal);
        expect(second).toBe(first);
        return refusal;
      };
      expect(await refuseTwice({})).toBeInstanceOf(AuthenticationRequiredException);
      const authorization = `Bearer ${await issuer.sign({ acr: '0' })}`;
      await expect(guard.canActivate(context({ authorization }))).rejects.toBeInstanceOf(StepUpRequiredException); // verified once
      expect(await refuseTwice({ authorization })).toBeInstanceOf(StepUpRequiredException);
    }));

  it("gives each refusal details for logging (code, claim, reason), and an invalid token's verification error as its cause", () =>
    withGuard(async (guard) => {
      const refusal = async (token: string): Promise<BearerChallengeException> =>
        Promise.resolve(guard.canActivate(orderedRoute([{ headers: { authorization: `Bearer ${token}` }, url: '/ordered' }]))).then(
          () => Promise.reject(new Error('the guard let the request through')),
          (error: unknown) => error as BearerChallengeException,
        );
      const stepUp = await refusal(await issuer.sign({ acr: 'urn:pwd' }));
      expect(stepUp).toBeInstanceOf(StepUpRequiredException);
      expect(stepUp.details).toEqual({ code: 'ERR_INSUFFICIENT_USER_AUTHENTICATION', claim: 'acr', reason: 'not_accepted' });
      const expired = await refusal(await issuer.sign({ exp: now() - 60 }));
      expect(expired).toBeInstanceOf(InvalidTokenException);
      expect(expired.details).toMatchObject({ code: 'ERR_JWT_EXPIRED', claim: 'exp', reason: 'check_failed' });
      expect(expired.cause).toBe(expired.details);
    }));

  it('lets a handler throw StepUpRequiredException for a transaction-specific rule', () => {
    const exception = new StepUpRequiredException({ acrValues: [ACR_MFA], maxAge: 0, description: 'Transfers above 1000 need a fresh MFA' });
    expect(exception.getStatus()).toBe(401);
    expect(exception.challenge).toEqual({
      error: 'insufficient_user_authentication',
      errorDescription: 'Transfers above 1000 need a fresh MFA',
      acrValues: [ACR_MFA],
      maxAge: 0,
    });
  });
});

describe('exceptions the application throws', () => {
  it('refuse, when built, a lone string where a list of acr values or scopes belongs (as JavaScript allows)', () => {
    expect(() => new InsufficientScopeException('transfer:funds' as never)).toThrow('scope must be given as a list of strings, not "transfer:funds"');
    expect(() => new StepUpRequiredException({ acrValues: ACR_MFA as never })).toThrow(`acr value must be given as a list of strings, not "${ACR_MFA}"`);
  });

  it('refuse, when built, what no challenge header can carry', () => {
    expect(() => new InsufficientScopeException(['x"y'])).toThrow('scope "x\\"y" is not valid');
    expect(() => new StepUpRequiredException({ acrValues: ['gold plus'] })).toThrow('acr value "gold plus" is not valid');
    expect(() => new StepUpRequiredException({ maxAge: 1.5 })).toThrow('maxAge 1.5 is not valid: use a whole, non-negative number of seconds');
  });

  it('mirror max_age 0, "authenticate again now", in the problem body', () => {
    expect(new StepUpRequiredException({ acrValues: [ACR_MFA], maxAge: 0 }).getResponse()).toEqual({
      type: 'https://www.rfc-editor.org/rfc/rfc9470#section-3',
      title: 'Step-up authentication required',
      status: 401,
      detail: 'A stronger or more recent authentication is required',
      error: 'insufficient_user_authentication',
      acr_values: ACR_MFA,
      max_age: 0,
    });
  });

  it('give an InvalidTokenException built without arguments a generic description and details', () => {
    const exception = new InvalidTokenException();
    expect(exception.details).toEqual({ code: 'ERR_INVALID_TOKEN', reason: 'invalid' });
    expect(exception.challenge).toEqual({ error: 'invalid_token', errorDescription: 'The access token is invalid' });
    expect(exception.getResponse()).toMatchObject({ status: 401, detail: 'The access token is invalid', error: 'invalid_token' });
  });

  it("keep a description outside the header's character set for the body only", () => {
    const exception = new StepUpRequiredException({ acrValues: [ACR_MFA], description: 'Über 1000 € only with MFA' });
    expect(exception.challenge).toEqual({ error: 'insufficient_user_authentication', acrValues: [ACR_MFA] });
    expect(exception.getResponse()).toMatchObject({ detail: 'Über 1000 € only with MFA' });
  });
});
