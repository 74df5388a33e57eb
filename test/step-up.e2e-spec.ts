import type { IncomingMessage } from 'node:http';
import { Controller, Get, Injectable } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ACR_MFA, parseStepUpChallenge, Public, RequireScope, RequireStepUp, StepUpClaims, StepUpGuard, type StepUpRequest } from 'nestjs-step-up';
import { TestIssuer } from './support/test-issuer.js';
import { AdminController, BankController, PLATFORMS, startTestApp, type TestApp } from './support/test-app.js';

const now = () => Math.floor(Date.now() / 1000);
const MFA = { acr: ACR_MFA, amr: ['mfa', 'otp'] };

/** README's recipe: behind a gateway that forwards the access token in a header of its own. */
@Injectable()
class ForwardedTokenGuard extends StepUpGuard {
  protected override getToken(request: StepUpRequest): string | undefined {
    const forwarded = request.headers['x-forwarded-access-token'];
    return typeof forwarded === 'string' ? forwarded : super.getToken(request);
  }
}

@Public()
class OpenBase {}

/** Extends an open base, but protects itself. */
@Controller('inherited/protected')
@RequireStepUp({ acr: ACR_MFA })
@RequireScope('admin')
class ProtectedOverOpenBase extends OpenBase {
  @Get()
  read() {
    return { read: true };
  }
}

/** Extends an open base and declares nothing: open, as its base. */
@Controller('inherited/open')
class OpenByInheritance extends OpenBase {
  @Get()
  read() {
    return { read: true };
  }
}

/** Extends an open base, and protects itself with a step-up requirement alone. */
@Controller('inherited/step-up')
@RequireStepUp({ acr: ACR_MFA })
class StepUpOverOpenBase extends OpenBase {
  @Get()
  read() {
    return { read: true };
  }
}

/** An open class whose routes may still declare requirements of their own. */
@Controller('open-class')
@Public()
class OpenClassWithGuardedRoutes {
  @Get('anyone')
  anyone() {
    return { open: true };
  }

  @Get('step-up')
  @RequireStepUp({ acr: ACR_MFA })
  stepUp() {
    return { stepped: true };
  }

  @Get('scoped')
  @RequireScope('reports')
  scoped() {
    return { scoped: true };
  }
}

@RequireScope('admin')
class AdminBase {}

@Controller('inherited/reports')
@RequireScope('reports')
class ReportsOverAdminBase extends AdminBase {
  @Get()
  read() {
    return { read: true };
  }
}

/** Reads claims where no token is verified: a mistake that must not run the handler. */
@Controller('claims-without-token')
class ClaimsWithoutToken {
  @Get()
  @Public()
  read(@StepUpClaims('sub') subject: string | undefined) {
    return { subject: subject ?? 'anyone' };
  }
}

@RequireStepUp({ acr: ACR_MFA, amr: ['mfa'] })
class MfaBase {}

/** Lays requirements over those of its base: a fresh sign-in here must still be an MFA one. */
@Controller('inherited/layered')
@RequireStepUp({ maxAge: 300 })
class FreshOverMfaBase extends MfaBase {
  @Get()
  read() {
    return { read: true };
  }

  @Get('recent')
  @RequireStepUp({ maxAge: 60 })
  recent() {
    return { recent: true };
  }

  @Get('hardware')
  @RequireStepUp({ amr: ['hwk'] })
  hardware() {
    return { hardware: true };
  }
}

async function problem(response: Response) {
  expect(response.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  expect(response.headers.get('cache-control')).toBe('no-store');
  return response.json();
}

describe.each(PLATFORMS)('StepUpModule over %s', (platform) => {
  let issuer: TestIssuer;
  let api: TestApp;
  const realm = TestIssuer.audience;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    api = await startTestApp(platform, issuer.moduleOptions);
  });
  afterAll(async () => {
    await api.app.close();
    await issuer.close();
  });

  /** A route that requires acr MFA answers the bare challenge without a token, the step-up challenge to one factor, and 200 to MFA. */
  async function expectMfaStepUp(app: TestApp, path: string, claims: Record<string, unknown> = {}): Promise<void> {
    const anonymous = await app.request(path);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toBe(`Bearer realm="${realm}"`);
    const singleFactor = await app.request(path, { token: await issuer.sign({ ...claims, acr: 'urn:password' }) });
    expect(singleFactor.status).toBe(401);
    expect(parseStepUpChallenge(singleFactor.headers.get('www-authenticate')!)).toMatchObject({
      error: 'insufficient_user_authentication',
      acrValues: [ACR_MFA],
    });
    expect((await app.request(path, { token: await issuer.sign({ ...claims, ...MFA }) })).status).toBe(200);
  }

  describe('authentication', () => {
    it('lets anyone reach a @Public() route', async () => {
      const response = await api.request('/api/health');
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ status: 'ok' });
    });

    it('answers a request without credentials with a bare Bearer challenge (RFC 6750 §3.1)', async () => {
      const response = await api.request('/api/profile');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="${realm}"`);
      expect(response.headers.get('access-control-expose-headers')).toBeNull();
      expect(await problem(response)).toEqual({
        type: 'https://www.rfc-editor.org/rfc/rfc6750#section-3',
        title: 'Authentication required',
        status: 401,
        detail: 'This resource requires a bearer access token',
      });
    });

    it('lets a cross-origin browser client read the challenge (Access-Control-Expose-Headers)', async () => {
      const response = await api.request('/api/transfers', {
        method: 'POST',
        token: await issuer.sign({ scope: 'transfer:funds' }),
        headers: { origin: 'https://app.bank.example' },
      });
      expect(response.status).toBe(401);
      expect(response.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate');
      expect(parseStepUpChallenge(response.headers.get('www-authenticate')!)?.error).toBe('insufficient_user_authentication');
    });

    it('treats another scheme as no bearer credentials', async () => {
      const response = await api.request('/api/profile', { headers: { authorization: 'Basic dXNlcjpwYXNz' } });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(`Bearer realm="${realm}"`);
    });

    it('requires a valid token on an undecorated route and hands the claims to the handler', async () => {
      const response = await api.request('/api/profile', { token: await issuer.sign({ sub: 'alice' }) });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ subject: 'alice' });
    });

    it('counts only Authorization itself as an Authorization line, not a field whose name starts the same way', async () => {
      const token = await issuer.sign({ sub: 'erin' });
      const response = await api.request('/api/profile', { token, headers: { 'authorization-context': 'tenant-7' } });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ subject: 'erin' });
    });

    it('accepts a lower-case scheme', async () => {
      const token = await issuer.sign();
      const response = await api.request('/api/profile', { headers: { authorization: `bearer ${token}` } });
      expect(response.status).toBe(200);
    });

    it.each([
      ['an expired token', { exp: now() - 60 }, 'The access token has expired'],
      ['a token for another audience', { aud: 'https://other.example' }, 'The access token is not meant for this resource server'],
      ['a token from another issuer', { iss: 'https://evil.example' }, 'The access token was not issued by a trusted issuer'],
      ['a token not valid yet', { nbf: now() + 3600 }, 'The access token is not valid yet'],
    ])('refuses %s with invalid_token', async (_name, claims, description) => {
      const response = await api.request('/api/profile', { token: await issuer.sign(claims) });
      expect(response.status).toBe(401);
      expect(parseStepUpChallenge(response.headers.get('www-authenticate')!)).toEqual({
        realm,
        error: 'invalid_token',
        errorDescription: description,
        acrValues: [],
        scope: [],
      });
      expect(await problem(response)).toEqual({
        type: 'https://www.rfc-editor.org/rfc/rfc6750#section-6.2.2',
        title: 'Invalid token',
        status: 401,
        detail: description,
        error: 'invalid_token',
      });
    });

    it('refuses a token with a forged signature', async () => {
      const [header, payload] = (await issuer.sign()).split('.');
      const forged = `${header}.${payload}.${Buffer.alloc(64, 1).toString('base64url')}`;
      const response = await api.request('/api/profile', { token: forged });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer realm="${realm}", error="invalid_token", error_description="The access token signature is invalid"`,
      );
    });

    it('refuses a malformed Authorization header with invalid_request', async () => {
      const response = await api.request('/api/profile', { headers: { authorization: 'Bearer a b' } });
      expect(response.status).toBe(400);
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer realm="${realm}", error="invalid_request", error_description="The Bearer credentials must be exactly one token"`,
      );
      expect(await problem(response)).toEqual({
        type: 'https://www.rfc-editor.org/rfc/rfc6750#section-6.2.1',
        title: 'Invalid request',
        status: 400,
        detail: 'The Bearer credentials must be exactly one token',
        error: 'invalid_request',
      });
    });

    it('refuses a token in the query string', async () => {
      const response = await api.request(`/api/profile?access_token=${await issuer.sign()}`);
      expect(response.status).toBe(400);
      expect(parseStepUpChallenge(response.headers.get('www-authenticate')!)?.error).toBe('invalid_request');
    });
  });

  describe('step-up', () => {
    it('answers a StepUpRequiredException the application throws, keeping a description the header cannot carry in the body only', async () => {
      const response = await api.request('/api/payments', { method: 'POST', token: await issuer.sign({ scope: 'transfer:funds' }) });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer realm="${realm}", error="insufficient_user_authentication", acr_values="${ACR_MFA}", max_age="60"`,
      );
      expect(await problem(response)).toMatchObject({ status: 401, detail: 'Payments above 1000 € need a fresh MFA', max_age: 60 });
    });

    it('challenges a password-only token with RFC 9470 parameters, including the missing scope', async () => {
      const token = await issuer.sign({ acr: 'urn:password', amr: ['pwd'], auth_time: now() - 10, scope: 'read:balance' });
      const response = await api.request('/api/transfers', { method: 'POST', token });
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer realm="${realm}", error="insufficient_user_authentication", ` +
          `error_description="A stronger authentication context (acr) is required", ` +
          `acr_values="${ACR_MFA}", max_age="300", scope="transfer:funds"`,
      );
      expect(await problem(response)).toEqual({
        type: 'https://www.rfc-editor.org/rfc/rfc9470#section-3',
        title: 'Step-up authentication required',
        status: 401,
        detail: 'A stronger authentication context (acr) is required',
        error: 'insufficient_user_authentication',
        acr_values: ACR_MFA,
        max_age: 300,
        scope: 'transfer:funds',
      });
    });

    it('answers a browser navigation with the challenge, not a redirect, when no reauthenticateUrl is set', async () => {
      const token = await issuer.sign({ acr: 'urn:password' });
      const response = await api.request('/api/keys', { token, headers: { accept: 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8' } });
      expect(response.status).toBe(401);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer realm="${realm}", error="insufficient_user_authentication", ` +
          `error_description="A stronger authentication context (acr) is required", acr_values="${ACR_MFA}"`,
      );
    });

    it('challenges a token with no acr or auth_time, as minted from a refresh token', async () => {
      const response = await api.request('/api/transfers', { method: 'POST', token: await issuer.sign({ scope: 'transfer:funds' }) });
      expect(response.status).toBe(401);
      expect(parseStepUpChallenge(response.headers.get('www-authenticate')!)).toMatchObject({
        error: 'insufficient_user_authentication',
        acrValues: [ACR_MFA],
        maxAge: 300,
        scope: [],
      });
    });

    it('challenges an MFA token whose authentication is older than max_age', async () => {
      const token = await issuer.sign({ ...MFA, auth_time: now() - 301 - 5, scope: 'transfer:funds' });
      const response = await api.request('/api/transfers', { method: 'POST', token });
      expect(response.status).toBe(401);
      expect(parseStepUpChallenge(response.headers.get('www-authenticate')!)).toEqual({
        realm,
        error: 'insufficient_user_authentication',
        errorDescription: 'The user must authenticate again (max_age exceeded)',
        acrValues: [ACR_MFA],
        maxAge: 300,
        scope: [],
      });
    });

    it('lets a fresh MFA token with the scope through', async () => {
      const token = await issuer.sign({ ...MFA, auth_time: now() - 30, scope: 'read:balance transfer:funds' });
      const response = await api.request('/api/transfers', {
        method: 'POST',
        token,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ amount: 10 }),
      });
      expect(response.status).toBe(201);
      expect(await response.json()).toEqual({ id: 'transfer-1', body: { amount: 10 } });
    });

    it.each([
      ['scp (a list)', { scp: ['read:balance'] }],
      ['scp (a string)', { scp: 'read:balance' }],
      ['permissions', { permissions: ['read:balance'] }],
    ])('reads granted scopes from %s too, by default', async (_name, grant) => {
      expect((await api.request('/api/accounts/balance', { token: await issuer.sign(grant) })).status).toBe(200);
    });

    it('answers insufficient_scope (403) once step-up is satisfied', async () => {
      const token = await issuer.sign({ ...MFA, auth_time: now(), scope: 'read:balance' });
      const response = await api.request('/api/transfers', { method: 'POST', token });
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toBe(
        `Bearer realm="${realm}", error="insufficient_scope", ` +
          `error_description="The access token lacks a scope this operation requires", scope="transfer:funds"`,
      );
      expect(await problem(response)).toEqual({
        type: 'https://www.rfc-editor.org/rfc/rfc6750#section-6.2.3',
        title: 'Insufficient scope',
        status: 403,
        detail: 'The access token lacks a scope this operation requires',
        error: 'insufficient_scope',
        scope: 'transfer:funds',
      });
    });

    it('requires every amr value', async () => {
      const otp = await api.request('/api/keys', { token: await issuer.sign({ ...MFA }) });
      expect(otp.status).toBe(401);
      expect(parseStepUpChallenge(otp.headers.get('www-authenticate')!)).toMatchObject({
        error: 'insufficient_user_authentication',
        errorDescription: 'Additional authentication methods (amr) are required',
        acrValues: [ACR_MFA],
      });
      const hwk = await api.request('/api/keys', { token: await issuer.sign({ acr: ACR_MFA, amr: ['mfa', 'hwk'] }) });
      expect(hwk.status).toBe(200);
    });

    it('refuses an auth_time in the future as an invalid token', async () => {
      const response = await api.request('/api/transfers', {
        method: 'POST',
        token: await issuer.sign({ ...MFA, auth_time: now() + 3600, scope: 'transfer:funds' }),
      });
      expect(response.status).toBe(401);
      expect(parseStepUpChallenge(response.headers.get('www-authenticate')!)?.error).toBe('invalid_token');
    });
  });

  describe('class and method metadata', () => {
    it('merges class and method scopes', async () => {
      const onlyAudit = await api.request('/admin/audit-logs', { token: await issuer.sign({ ...MFA, scope: 'admin:audit' }) });
      expect(onlyAudit.status).toBe(403);
      expect(parseStepUpChallenge(onlyAudit.headers.get('www-authenticate')!)?.scope).toEqual(['admin:audit', 'admin']);
      const both = await api.request('/admin/audit-logs', { token: await issuer.sign({ ...MFA, scope: 'admin admin:audit' }) });
      expect(both.status).toBe(200);
    });

    it('requires the scopes of every @RequireScope() stacked on one method', async () => {
      const balanceOnly = await api.request('/api/accounts/statements', { token: await issuer.sign({ scope: 'read:balance' }) });
      expect(balanceOnly.status).toBe(403);
      expect(parseStepUpChallenge(balanceOnly.headers.get('www-authenticate')!)?.scope.sort()).toEqual(['read:balance', 'read:statements']);
      const statementsOnly = await api.request('/api/accounts/statements', { token: await issuer.sign({ scope: 'read:statements' }) });
      expect(statementsOnly.status).toBe(403);
      const both = await api.request('/api/accounts/statements', { token: await issuer.sign({ scope: 'read:balance read:statements' }) });
      expect(both.status).toBe(200);
    });

    it('lets a method-level @RequireStepUp override the class-level one', async () => {
      const token = await issuer.sign({ ...MFA, auth_time: now() - 120, scope: 'admin' });
      const response = await api.request('/admin/permissions', { method: 'PATCH', token });
      expect(response.status).toBe(401);
      expect(parseStepUpChallenge(response.headers.get('www-authenticate')!)).toMatchObject({ acrValues: [ACR_MFA], maxAge: 60 });
      const fresh = await issuer.sign({ ...MFA, auth_time: now() - 10, scope: 'admin' });
      expect((await api.request('/admin/permissions', { method: 'PATCH', token: fresh })).status).toBe(200);
    });

    it('lets a method-level @Public() open one route of a protected class', async () => {
      expect((await api.request('/admin/status')).status).toBe(200);
    });

    describe('on a class-level @Public()', () => {
      let open: TestApp;

      beforeAll(async () => {
        open = await startTestApp(platform, issuer.moduleOptions, { controllers: [OpenClassWithGuardedRoutes] });
      });
      afterAll(() => open.app.close());

      it('opens the routes that declare nothing', async () => {
        expect((await open.request('/open-class/anyone')).status).toBe(200);
      });

      it('still enforces a method-level @RequireStepUp()', () => expectMfaStepUp(open, '/open-class/step-up'));

      it('still enforces a method-level @RequireScope()', async () => {
        expect((await open.request('/open-class/scoped')).status).toBe(401);
        const unscoped = await open.request('/open-class/scoped', { token: await issuer.sign({ scope: 'read:balance' }) });
        expect(unscoped.status).toBe(403);
        expect(parseStepUpChallenge(unscoped.headers.get('www-authenticate')!)).toMatchObject({ error: 'insufficient_scope', scope: ['reports'] });
        expect((await open.request('/open-class/scoped', { token: await issuer.sign({ scope: 'reports' }) })).status).toBe(200);
      });
    });

    describe('across class inheritance', () => {
      let inheriting: TestApp;

      beforeAll(async () => {
        inheriting = await startTestApp(platform, issuer.moduleOptions, {
          controllers: [ProtectedOverOpenBase, StepUpOverOpenBase, OpenByInheritance, ReportsOverAdminBase, FreshOverMfaBase, ClaimsWithoutToken],
        });
      });
      afterAll(() => inheriting.app.close());

      it('protects a subclass that declares a requirement, though its base is @Public()', () =>
        expectMfaStepUp(inheriting, '/inherited/protected', { scope: 'admin' }));

      it('protects a subclass of a @Public() base that declares only @RequireStepUp()', () => expectMfaStepUp(inheriting, '/inherited/step-up'));

      it('leaves open a subclass of a @Public() base that declares nothing', async () => {
        expect((await inheriting.request('/inherited/open')).status).toBe(200);
      });

      it("adds a subclass's scopes to those of its base", async () => {
        const reportsOnly = await inheriting.request('/inherited/reports', { token: await issuer.sign({ scope: 'reports' }) });
        expect(reportsOnly.status).toBe(403);
        expect(parseStepUpChallenge(reportsOnly.headers.get('www-authenticate')!)?.scope).toEqual(['admin', 'reports']);
        const both = await inheriting.request('/inherited/reports', { token: await issuer.sign({ scope: 'admin reports' }) });
        expect(both.status).toBe(200);
      });

      it('fails a public route that reads @StepUpClaims() with a bare 500, rather than run its handler without claims', async () => {
        const response = await inheriting.request('/claims-without-token', { token: await issuer.sign() });
        expect(response.status).toBe(500);
        expect(await response.json()).toEqual({ statusCode: 500, message: 'Internal server error' });
      });

      it("lays a subclass's and a method's @RequireStepUp() over the ones above them: the fields they leave out stay", async () => {
        const challenge = async (path: string, claims: Record<string, unknown>) => {
          const response = await inheriting.request(path, { token: await issuer.sign(claims) });
          return response.status === 200 ? 'allowed' : parseStepUpChallenge(response.headers.get('www-authenticate')!);
        };
        const freshPassword = { acr: 'urn:password', amr: ['pwd'], auth_time: now() - 10 };
        const freshMfa = { ...MFA, auth_time: now() - 10 };
        const olderMfa = { ...MFA, auth_time: now() - 120 };

        // The subclass's maxAge keeps its base's acr and amr.
        expect(await challenge('/inherited/layered', freshPassword)).toMatchObject({ error: 'insufficient_user_authentication', acrValues: [ACR_MFA], maxAge: 300 });
        expect(await challenge('/inherited/layered', olderMfa)).toBe('allowed');
        // A method's maxAge replaces the class's, and keeps acr and amr.
        expect(await challenge('/inherited/layered/recent', freshPassword)).toMatchObject({ acrValues: [ACR_MFA], maxAge: 60 });
        expect(await challenge('/inherited/layered/recent', olderMfa)).toMatchObject({ acrValues: [ACR_MFA], maxAge: 60 });
        expect(await challenge('/inherited/layered/recent', freshMfa)).toBe('allowed');
        // A method's amr replaces the class's, and keeps acr and maxAge.
        expect(await challenge('/inherited/layered/hardware', freshMfa)).toMatchObject({ acrValues: [ACR_MFA], maxAge: 300 });
        expect(await challenge('/inherited/layered/hardware', { ...freshMfa, amr: ['hwk'] })).toBe('allowed');
      });
    });
  });

  describe('where the token is read', () => {
    let rewriting: TestApp;

    beforeAll(async () => {
      rewriting = await startTestApp(platform, issuer.moduleOptions, undefined, (app) =>
        app.use((request: IncomingMessage, _response: unknown, next: () => void) => {
          const replacement = request.headers['x-replacement'];
          if (typeof replacement === 'string') request.headers.authorization = replacement;
          next();
        }),
      );
    });
    afterAll(() => rewriting.app.close());

    // A backend-for-frontend may turn a session cookie into a bearer header before the guard runs.
    it('reads a value that a middleware writes into request.headers', async () => {
      const token = await issuer.sign({});
      const written = await rewriting.request('/api/profile', { headers: { 'x-replacement': `Bearer ${token}` } });
      expect(written.status).toBe(200);
      expect(await written.json()).toEqual({ subject: 'user-1' });
      const replaced = await rewriting.request('/api/profile', { token, headers: { 'x-replacement': 'Bearer junk' } });
      expect(replaced.status).toBe(401);
      expect(parseStepUpChallenge(replaced.headers.get('www-authenticate')!)?.error).toBe('invalid_token');
    });

    it('verifies whatever token a subclass reads, and answers the bare challenge when it finds none', async () => {
      const forwarding = await startTestApp(
        platform,
        { ...issuer.moduleOptions, globalGuard: false },
        { controllers: [BankController, AdminController], providers: [{ provide: APP_GUARD, useClass: ForwardedTokenGuard }] },
      );
      try {
        const token = await issuer.sign({});
        const forwarded = await forwarding.request('/api/profile', { headers: { 'x-forwarded-access-token': token } });
        expect(forwarded.status).toBe(200);
        expect(await forwarded.json()).toEqual({ subject: 'user-1' });
        const none = await forwarding.request('/api/profile');
        expect(none.status).toBe(401);
        expect(none.headers.get('www-authenticate')).toBe(`Bearer realm="${realm}"`);
        const junk = await forwarding.request('/api/profile', { headers: { 'x-forwarded-access-token': 'two tokens' } });
        expect(junk.status).toBe(400);
        expect(parseStepUpChallenge(junk.headers.get('www-authenticate')!)?.error).toBe('invalid_request');
        const oversized = await forwarding.request('/api/profile', { headers: { 'x-forwarded-access-token': 'a'.repeat(8193) } });
        expect(oversized.status).toBe(400);
        expect(await problem(oversized)).toMatchObject({ error: 'invalid_request', detail: 'The access token must not exceed 8192 characters' });
        const forged = await forwarding.request('/api/profile', { headers: { 'x-forwarded-access-token': `${token}x` } });
        expect(forged.status).toBe(401);
        expect(parseStepUpChallenge(forged.headers.get('www-authenticate')!)?.error).toBe('invalid_token');
      } finally {
        await forwarding.app.close();
      }
    });
  });
});
