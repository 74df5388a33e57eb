import { Injectable } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import {
  InvalidRequestException,
  parseStepUpChallenge,
  StepUpAuthenticator,
  StepUpGuard,
  type AccessTokenClaims,
  type StepUpRequest,
} from 'nestjs-step-up';
import { TestIssuer } from './support/test-issuer.js';
import { PLATFORMS } from './support/test-app.js';
import { CountingController, profileCalls, startCapturedApp, type CapturedApp } from './support/faults-app.js';

/*
 * Fail closed: whatever throws inside the guard or the verification denies the request. A fault of the
 * server (a bug in a hook, a verifier that breaks) is a 500; a deliberate refusal keeps its 4xx. Nothing
 * that would let the token be replayed (its signature) reaches a log line or the response.
 */

/** An application's guard whose hook has a bug. */
@Injectable()
class BuggyTenantGuard extends StepUpGuard {
  protected override getToken(request: StepUpRequest): string {
    const token = super.getToken(request);
    const tenant = (request as { tenant?: { id: string } }).tenant;
    return tenant!.id + token; // TypeError: there is no tenant on this request
  }
}

/** An application's guard that refuses some requests on purpose, with the library's exception. */
@Injectable()
class StrictGuard extends StepUpGuard {
  protected override getRequest(context: Parameters<StepUpGuard['getRequest']>[0]): StepUpRequest {
    const request = super.getRequest(context);
    if (request.headers['x-forwarded-host'] !== undefined) throw new InvalidRequestException('Forwarded requests are refused');
    return request;
  }
}

/** A verification that fails in a way no refusal describes. */
function brokenAuthenticator(fault: (token: string) => unknown): Partial<StepUpAuthenticator> {
  return {
    cached: () => undefined,
    verify: async (token: string) => {
      throw fault(token);
    },
    onModuleInit: async () => undefined,
    onApplicationShutdown: () => undefined,
  };
}

describe.each(PLATFORMS)('fail closed over %s', (platform) => {
  let issuer: TestIssuer;
  let api: CapturedApp | undefined;
  let token: string;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    token = await issuer.sign();
  });
  beforeEach(() => {
    profileCalls.count = 0;
  });
  afterEach(async () => {
    await api?.app.close();
    api = undefined;
  });
  afterAll(() => issuer.close());

  const signature = () => token.split('.')[2]!;
  async function expectServerFault(response: Response) {
    expect(response.status).toBe(500);
    const body = await response.text();
    expect(JSON.parse(body)).toMatchObject({ statusCode: 500 });
    expect(body).not.toContain(signature());
    expect(body).not.toMatch(/tenant|vault|Unexpected|stack/i); // no internal detail reaches the client
    expect(response.headers.get('www-authenticate')).toBeNull();
    expect(profileCalls.count).toBe(0);
  }
  function expectNeverLogged() {
    for (const entry of api!.logger.entries) expect(entry.text).not.toContain(signature());
  }

  it('denies with 500 when a guard hook throws (a bug), and the log holds the fault but not the token', async () => {
    api = await startCapturedApp(
      platform,
      { ...issuer.moduleOptions, globalGuard: false },
      { controllers: [CountingController], providers: [{ provide: APP_GUARD, useClass: BuggyTenantGuard }] },
    );
    await expectServerFault(await api.request('/api/profile', token));
    const errors = api.logger.entries.filter((entry) => entry.level === 'error');
    expect(errors).toHaveLength(1);
    expect(errors[0]!.text).toMatch(/TypeError: Cannot read properties of undefined \(reading 'id'\)/);
    expectNeverLogged();
  });

  it('keeps a deliberate refusal from a hook a 4xx with its challenge', async () => {
    api = await startCapturedApp(
      platform,
      { ...issuer.moduleOptions, globalGuard: false },
      { controllers: [CountingController], providers: [{ provide: APP_GUARD, useClass: StrictGuard }] },
    );
    const response = await api.request('/api/profile', token, { 'x-forwarded-host': 'evil.example' });
    expect(response.status).toBe(400);
    expect(parseStepUpChallenge(response.headers.get('www-authenticate')!)).toMatchObject({
      error: 'invalid_request',
      errorDescription: 'Forwarded requests are refused',
    });
    expect(profileCalls.count).toBe(0);
    expect((await api.request('/api/profile', token)).status).toBe(200);
    expect(api.logger.entries.filter((entry) => entry.level === 'error')).toEqual([]);
  });

  it('denies with 500 when verification fails unexpectedly, logging the cause once from the guard', async () => {
    api = await startCapturedApp(platform, issuer.moduleOptions, undefined, (builder) =>
      builder.overrideProvider(StepUpAuthenticator).useValue(brokenAuthenticator(() => new Error('key vault unreachable'))),
    );
    await expectServerFault(await api.request('/api/profile', token));
    expect(api.logger.from('StepUpGuard', 'error').map((entry) => entry.message)).toEqual([
      'Token verification failed unexpectedly: key vault unreachable',
    ]);
    expectNeverLogged();
  });

  it('never logs the token, even when the failing code quotes it in its error', async () => {
    // As V8's JSON.parse and many parsers do: the message quotes the input.
    api = await startCapturedApp(platform, issuer.moduleOptions, undefined, (builder) =>
      builder.overrideProvider(StepUpAuthenticator).useValue(brokenAuthenticator((t) => new SyntaxError(`Unexpected token, "${t}" is not valid JSON`))),
    );
    await expectServerFault(await api.request('/api/profile', token));
    const guardErrors = api.logger.from('StepUpGuard', 'error');
    expect(guardErrors).toHaveLength(1);
    expect(guardErrors[0]!.message).toMatch(/^Token verification failed unexpectedly: Unexpected token, ".*" is not valid JSON$/);
    expectNeverLogged();
  });

  it('never logs the signature, even when the failing code quotes it alone', async () => {
    api = await startCapturedApp(platform, issuer.moduleOptions, undefined, (builder) =>
      builder.overrideProvider(StepUpAuthenticator).useValue(brokenAuthenticator((t) => new Error(`no key verifies ${t.split('.')[2]}`))),
    );
    await expectServerFault(await api.request('/api/profile', token));
    expect(api.logger.from('StepUpGuard', 'error').map((entry) => entry.message)).toEqual([
      'Token verification failed unexpectedly: no key verifies [redacted]',
    ]);
    expectNeverLogged();
  });

  it('denies with 500 when a verifier hands back no claims at all', async () => {
    api = await startCapturedApp(platform, issuer.moduleOptions, undefined, (builder) =>
      builder.overrideProvider(StepUpAuthenticator).useValue({
        cached: () => undefined,
        verify: async () => null as unknown as AccessTokenClaims,
        onModuleInit: async () => undefined,
        onApplicationShutdown: () => undefined,
      }),
    );
    await expectServerFault(await api.request('/api/profile', token));
    expectNeverLogged();
  });
});
