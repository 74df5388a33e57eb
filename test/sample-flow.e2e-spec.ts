import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { generate } from 'otplib';
import { ACR_MFA, parseStepUpChallenge } from 'nestjs-step-up';
import { ACR_SINGLE_FACTOR } from '../sample/idp/idp.acr.js';
import { SAMPLE_CLIENT_ID } from '../sample/idp/idp.provider.js';
import { ConsoleOutbox, type EmailMessage, type SmsMessage } from '../sample/idp/message.outbox.js';
import { CODE_TTL_MS } from '../sample/idp/one-time-code.js';
import { DEMO_TOTP_SECRET } from '../sample/idp/users.store.js';
import { IssuerDiscoveryError } from '../sample/issuer.discovery.js';
import { createSampleApp, type SampleApp } from '../sample/sample.app.js';
import { accessTokenOf, OidcTestClient, type AuthorizationParams, type FlowStep } from './support/oidc-client.js';
import { advanceWallClock, restoreWallClock } from './support/sample-clock.js';
import { ExternalIssuerStub } from './support/sample-issuer.js';
import { SmtpCapture } from './support/sample-mailbox.js';
import {
  expectCallbackError,
  expectPage,
  interactionOf,
  offeredMethods,
  sendCode,
  submitPassword,
  verifyCode,
} from './support/sample-flow.js';

const CUSTOMER_SCOPE = 'openid read:balance transfer:funds';
const TRANSFER = { toIban: 'DE89370400440532013000', amount: 12.5, currency: 'EUR' };
const ALICE = { email: 'alice@bank.example', password: 'alice-password' };
const BOB = { email: 'bob@bank.example', password: 'bob-password' };
const CAROL = { email: 'carol@bank.example', password: 'carol-password' };
const DAVE = 'dave@bank.example';
/** Past the transfer route's max_age of 300 s plus the library's default 5 s clock tolerance. */
const PAST_MAX_AGE = 310;
const TOO_MANY_ATTEMPTS = 'Too many failed attempts: the sign-in was stopped.';

interface ApiAnswer {
  readonly status: number;
  readonly contentType: string | null;
  readonly challengeHeader: string | null;
  readonly body: Record<string, unknown>;
}

async function callApi(sample: SampleApp, token: string | undefined, method: string, path: string, body?: unknown): Promise<ApiAnswer> {
  const response = await fetch(`${sample.url}${path}`, {
    method,
    headers: {
      ...(token && { authorization: `Bearer ${token}` }),
      ...(body !== undefined && { 'content-type': 'application/json' }),
    },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
  return {
    status: response.status,
    contentType: response.headers.get('content-type'),
    challengeHeader: response.headers.get('www-authenticate'),
    body: (await response.json()) as Record<string, unknown>,
  };
}

describe('sample bank: the API step-up flow against the embedded OpenID Provider', () => {
  let smtp: SmtpCapture;
  let sample: SampleApp;
  const texts = new ConsoleOutbox<SmsMessage>('sms');
  const newClient = (app = sample) => new OidcTestClient(app.issuer, SAMPLE_CLIENT_ID, `${app.url}/callback`);
  const api = (token: string | undefined, method: string, path: string, body?: unknown) => callApi(sample, token, method, path, body);

  beforeAll(async () => {
    smtp = await SmtpCapture.start();
    sample = await createSampleApp({ port: 0, smtpUrl: smtp.url, sms: texts, logger: false });
  });

  afterAll(async () => {
    await sample?.close();
    await smtp?.close();
  });

  afterEach(restoreWallClock);

  async function passwordLogin(client: OidcTestClient, user: { email: string; password: string }, params: AuthorizationParams = { scope: CUSTOMER_SCOPE }) {
    return client.exchange(await submitPassword(client, await client.authorize(params), user.email, user.password));
  }

  /** Answers the step-up page with an email code read from the SMTP capture. */
  async function completeEmailOtp(client: OidcTestClient, stepUpPage: FlowStep, email: string): Promise<FlowStep> {
    const codeForm = await sendCode(client, stepUpPage, 'email_otp');
    expectPage(codeForm, 200, /Code sent to/);
    return verifyCode(client, codeForm, 'email_otp', smtp.takeCode(email));
  }

  async function challengeOf(token: string) {
    const answer = await api(token, 'POST', '/api/transfers', TRANSFER);
    expect(answer.status).toBe(401);
    const challenge = parseStepUpChallenge(answer.challengeHeader ?? '');
    if (challenge === undefined) throw new Error(`no step-up challenge in ${answer.challengeHeader}`);
    return challenge;
  }

  it('serves /api/health without a token and asks for one elsewhere', async () => {
    expect(await api(undefined, 'GET', '/api/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    const anonymous = await api(undefined, 'GET', '/api/accounts/balance');
    expect(anonymous.status).toBe(401);
    expect(anonymous.challengeHeader).toMatch(/^Bearer realm="http:\/\/127\.0\.0\.1:\d+\/api"/);
    expect(parseStepUpChallenge(anonymous.challengeHeader!)?.error).toBeUndefined();
  });

  it('issues ES256 at+jwt access tokens for the API and ID tokens, both with acr, amr and auth_time', async () => {
    const before = Math.floor(Date.now() / 1000);
    const tokens = await passwordLogin(newClient(), ALICE);
    const { header, claims } = accessTokenOf(tokens);
    expect(header).toMatchObject({ alg: 'ES256', typ: 'at+jwt' });
    expect(claims).toMatchObject({
      iss: sample.issuer,
      aud: sample.audience,
      sub: 'alice',
      client_id: SAMPLE_CLIENT_ID,
      scope: 'read:balance transfer:funds',
      acr: ACR_SINGLE_FACTOR,
      amr: ['pwd'],
    });
    expect(claims.auth_time).toBeGreaterThanOrEqual(before);
    const idToken = accessTokenOf({ ...tokens, access_token: tokens.id_token! });
    expect(idToken.header.alg).toBe('ES256');
    expect(idToken.claims).toMatchObject({ aud: SAMPLE_CLIENT_ID, sub: 'alice', acr: ACR_SINGLE_FACTOR, amr: ['pwd'], auth_time: claims.auth_time });
  });

  it('challenges a transfer, steps up with an emailed code (second factor only) and retries with success', async () => {
    const alice = newClient();
    const login = await passwordLogin(alice, ALICE);
    expect(await api(login.access_token, 'GET', '/api/accounts/balance')).toEqual({
      status: 200,
      contentType: expect.stringMatching(/^application\/json/),
      challengeHeader: null,
      body: { owner: 'alice', currency: 'EUR', balance: 2500 },
    });

    const refused = await api(login.access_token, 'POST', '/api/transfers', TRANSFER);
    expect(refused.status).toBe(401);
    expect(refused.contentType).toMatch(/^application\/problem\+json/);
    const challenge = parseStepUpChallenge(refused.challengeHeader!);
    expect(challenge).toMatchObject({ error: 'insufficient_user_authentication', acrValues: [ACR_MFA], maxAge: 300, scope: [] });

    const stepUpPage = await alice.authorize({ scope: CUSTOMER_SCOPE, acrValues: challenge!.acrValues, maxAge: challenge!.maxAge });
    expectPage(stepUpPage, 200, /Confirm it is you/);
    expect(stepUpPage.body).not.toMatch(/name="password"/);
    expect(offeredMethods(stepUpPage)).toEqual(['email_otp']);
    const stepped = await alice.exchange(await completeEmailOtp(alice, stepUpPage, ALICE.email));

    const { claims } = accessTokenOf(stepped);
    expect(claims).toMatchObject({ sub: 'alice', acr: ACR_MFA, amr: ['mfa', 'otp'], scope: 'read:balance transfer:funds' });
    expect(claims.auth_time).toBeGreaterThanOrEqual(accessTokenOf(login).claims.auth_time!);
    expect(accessTokenOf({ ...stepped, access_token: stepped.id_token! }).claims).toMatchObject({ acr: ACR_MFA, amr: ['mfa', 'otp'] });

    const retried = await api(stepped.access_token, 'POST', '/api/transfers', TRANSFER);
    expect(retried.status).toBe(201);
    expect(retried.body).toMatchObject({ id: expect.stringMatching(/^[0-9a-f-]{36}$/), status: 'completed', from: 'alice', ...TRANSFER });

    const badBody = await api(stepped.access_token, 'POST', '/api/transfers', { ...TRANSFER, amount: -3 });
    expect(badBody.status).toBe(400);
    expect(JSON.stringify(badBody.body)).toMatch(/amount must be at least 0\.01/);
  });

  it('proves a second factor for one user only: a switch to another user mid step-up gets that user nothing', async () => {
    const attacker = newClient();
    const stepUpPage = await submitPassword(attacker, await attacker.authorize({ scope: CUSTOMER_SCOPE, acrValues: [ACR_MFA] }), ALICE.email, ALICE.password);
    const codeForm = await sendCode(attacker, stepUpPage, 'email_otp');
    const aliceCode = smtp.takeCode(ALICE.email);
    // The victim's password in the same interaction, then the attacker's own code.
    await attacker.submit(`/interaction/${interactionOf(codeForm)}/login`, { email: CAROL.email, password: CAROL.password });
    const answer = await verifyCode(attacker, codeForm, 'email_otp', aliceCode);
    expectPage(answer, 400, /name="password"/);
  });

  it('never grants a scope the user does not hold, and the API answers 403 insufficient_scope without it', async () => {
    const tokens = await passwordLogin(newClient(), ALICE, { scope: 'openid transfer:funds admin:audit' });
    expect(accessTokenOf(tokens).claims.scope).toBe('transfer:funds');
    const answer = await api(tokens.access_token, 'GET', '/api/accounts/balance');
    expect(answer.status).toBe(403);
    expect(answer.contentType).toMatch(/^application\/problem\+json/);
    expect(parseStepUpChallenge(answer.challengeHeader!)).toMatchObject({ error: 'insufficient_scope', scope: ['read:balance'] });
  });

  it('after max_age has passed, the challenge forces a fresh password login before the second factor', async () => {
    const alice = newClient();
    await passwordLogin(alice, ALICE);
    const firstStepUp = await alice.authorize({ scope: CUSTOMER_SCOPE, acrValues: [ACR_MFA], maxAge: 300 });
    const stepped = await alice.exchange(await completeEmailOtp(alice, firstStepUp, ALICE.email));
    expect((await api(stepped.access_token, 'POST', '/api/transfers', TRANSFER)).status).toBe(201);

    advanceWallClock(PAST_MAX_AGE);
    const challenge = await challengeOf(stepped.access_token);
    expect(challenge).toMatchObject({ error: 'insufficient_user_authentication', acrValues: [ACR_MFA], maxAge: 300 });

    const loginAgain = await alice.authorize({ scope: CUSTOMER_SCOPE, acrValues: challenge.acrValues, maxAge: challenge.maxAge });
    const stepUpPage = await submitPassword(alice, loginAgain, ALICE.email, ALICE.password);
    expectPage(stepUpPage, 200, /Confirm it is you/);
    const fresh = await alice.exchange(await completeEmailOtp(alice, stepUpPage, ALICE.email));
    expect(accessTokenOf(fresh).claims.auth_time).toBeGreaterThanOrEqual(accessTokenOf(stepped).claims.auth_time! + PAST_MAX_AGE);
    expect((await api(fresh.access_token, 'POST', '/api/transfers', TRANSFER)).status).toBe(201);
  });

  it('after max_age has passed, asks a single-factor session for its first factor again, not only for a second one', async () => {
    const alice = newClient();
    await passwordLogin(alice, ALICE);
    advanceWallClock(PAST_MAX_AGE);
    const stepUpPage = await alice.authorize({ scope: CUSTOMER_SCOPE, acrValues: [ACR_MFA], maxAge: 300 });
    expectPage(stepUpPage, 200, /name="password"/);
  });

  it('a refreshed access token keeps the original auth_time, acr and amr, so max_age still forces re-authentication', async () => {
    const alice = newClient();
    const login = await alice.authorize({ scope: `${CUSTOMER_SCOPE} offline_access`, prompt: 'consent', acrValues: [ACR_MFA], maxAge: 300 });
    const stepUpPage = await submitPassword(alice, login, ALICE.email, ALICE.password);
    const original = await alice.exchange(await completeEmailOtp(alice, stepUpPage, ALICE.email));
    expect(original.refresh_token).toEqual(expect.any(String));

    advanceWallClock(PAST_MAX_AGE);
    const refreshed = await alice.refresh(original.refresh_token!);
    const before = accessTokenOf(original).claims;
    const after = accessTokenOf(refreshed).claims;
    expect(after.iat).toBeGreaterThanOrEqual(before.iat! + PAST_MAX_AGE);
    expect(after).toMatchObject({ auth_time: before.auth_time, acr: ACR_MFA, amr: ['mfa', 'otp'] });

    expect(await challengeOf(refreshed.access_token)).toMatchObject({ error: 'insufficient_user_authentication', acrValues: [ACR_MFA], maxAge: 300 });
    expect((await api(refreshed.access_token, 'GET', '/api/accounts/balance')).status).toBe(200);
  });

  it('fails acr_values it cannot meet with unmet_authentication_requirements, before asking anything', async () => {
    const answer = await newClient().authorize({ scope: CUSTOMER_SCOPE, acrValues: ['urn:example:acr:phishing-resistant'] });
    expectCallbackError(answer, 'unmet_authentication_requirements', 'none of the requested acr_values can be satisfied');
  });

  it('with prompt=none, never returns a weaker acr than requested: login_required', async () => {
    const alice = newClient();
    await passwordLogin(alice, ALICE);
    expectCallbackError(await alice.authorize({ scope: CUSTOMER_SCOPE, acrValues: [ACR_MFA], prompt: 'none' }), 'login_required');
  });

  it('steps up with the authenticator app (amr [mfa, otp]) and refuses the same TOTP code twice', async () => {
    const bob = newClient();
    const adminScope = `${CUSTOMER_SCOPE} admin:audit admin:users`;
    const page = await submitPassword(bob, await bob.authorize({ scope: adminScope, acrValues: [ACR_MFA] }), BOB.email, BOB.password);
    expect(offeredMethods(page)).toEqual(['authenticator_app', 'email_otp']);
    // An app has no code to send: asking for one is refused.
    expectPage(await bob.submit(`/interaction/${interactionOf(page)}/step-up/send`, { method: 'authenticator_app' }), 400, /Choose one of the offered methods/);
    const code = await generate({ secret: DEMO_TOTP_SECRET });
    const tokens = await bob.exchange(await verifyCode(bob, page, 'authenticator_app', code));
    expect(accessTokenOf(tokens).claims).toMatchObject({ sub: 'bob', acr: ACR_MFA, amr: ['mfa', 'otp'], scope: 'read:balance transfer:funds admin:audit admin:users' });

    const audit = await api(tokens.access_token, 'GET', '/api/admin/audit-logs?limit=5');
    expect(audit.status).toBe(200);
    expect(audit.body.entries).toEqual(expect.any(Array));
    const permissions = await api(tokens.access_token, 'PATCH', '/api/admin/users/carol/permissions', { permissions: ['read:balance'] });
    expect(permissions).toMatchObject({ status: 200, body: { id: 'carol', permissions: ['read:balance'] } });
    const badPermissions = await api(tokens.access_token, 'PATCH', '/api/admin/users/carol/permissions', { permissions: ['root'] });
    expect(badPermissions.status).toBe(400);
    expect(JSON.stringify(badPermissions.body)).toMatch(/each value in permissions must be one of/);

    const again = await submitPassword(bob, await bob.authorize({ scope: adminScope, acrValues: [ACR_MFA], prompt: 'login' }), BOB.email, BOB.password);
    expectPage(await verifyCode(bob, again, 'authenticator_app', code), 400, /That code is not right/);
  });

  it('steps up by SMS (amr [mfa, sms]) and then updates a beneficiary (max_age 60)', async () => {
    const carol = newClient();
    const page = await submitPassword(carol, await carol.authorize({ scope: CUSTOMER_SCOPE, acrValues: [ACR_MFA] }), CAROL.email, CAROL.password);
    expect(offeredMethods(page)).toEqual(['sms', 'email_otp']);
    const codeForm = await sendCode(carol, page, 'sms');
    expectPage(codeForm, 200, /Code sent to \+15550100/);
    const sent = texts.latestTo('+15550100')!.text;
    const tokens = await carol.exchange(await verifyCode(carol, codeForm, 'sms', /code is (\d{6})/.exec(sent)![1]!));
    expect(accessTokenOf(tokens).claims).toMatchObject({ sub: 'carol', acr: ACR_MFA, amr: ['mfa', 'sms'] });
    const saved = await api(tokens.access_token, 'PUT', '/api/beneficiaries/landlord', { name: 'Landlord', iban: 'GB82WEST12345698765432' });
    expect(saved).toMatchObject({ status: 200, body: { id: 'landlord', owner: 'carol', iban: 'GB82WEST12345698765432' } });
  });

  describe('email one-time codes', () => {
    async function alicesStepUpPage(client: OidcTestClient) {
      return submitPassword(client, await client.authorize({ scope: CUSTOMER_SCOPE, acrValues: [ACR_MFA] }), ALICE.email, ALICE.password);
    }

    it('stop the login with access_denied after 5 wrong codes, even if the right one comes next', async () => {
      const alice = newClient();
      const codeForm = await sendCode(alice, await alicesStepUpPage(alice), 'email_otp');
      const code = smtp.takeCode(ALICE.email);
      const wrong = code === '000000' ? '111111' : '000000';
      for (let attempt = 1; attempt < 5; attempt += 1) {
        expectPage(await verifyCode(alice, codeForm, 'email_otp', wrong), 400, /That code is not right/);
      }
      expectCallbackError(await verifyCode(alice, codeForm, 'email_otp', wrong), 'access_denied', TOO_MANY_ATTEMPTS);
      expectPage(await verifyCode(alice, codeForm, 'email_otp', code), 400, /expired or was opened in another browser/);
    });

    it('are sent at most 3 times in a login: asking for a 4th stops it with access_denied', async () => {
      const alice = newClient();
      let page = await alicesStepUpPage(alice);
      for (let sent = 1; sent <= 3; sent += 1) {
        page = await sendCode(alice, page, 'email_otp');
        expectPage(page, 200, /Code sent to/);
        smtp.takeCode(ALICE.email);
      }
      expectCallbackError(await sendCode(alice, page, 'email_otp'), 'access_denied', TOO_MANY_ATTEMPTS);
    });

    it('expire after 5 minutes; a new code works', async () => {
      const alice = newClient();
      const page = await alicesStepUpPage(alice);
      const codeForm = await sendCode(alice, page, 'email_otp');
      const stale = smtp.takeCode(ALICE.email);
      advanceWallClock(CODE_TTL_MS / 1000 + 1);
      expectPage(await verifyCode(alice, codeForm, 'email_otp', stale), 400, /That code has expired/);
      const done = await completeEmailOtp(alice, codeForm, ALICE.email);
      expect(accessTokenOf(await alice.exchange(done)).claims.amr).toEqual(['mfa', 'otp']);
    });

    it('are single use: replaying the accepted code gets nothing', async () => {
      const alice = newClient();
      const codeForm = await sendCode(alice, await alicesStepUpPage(alice), 'email_otp');
      const code = smtp.takeCode(ALICE.email);
      const accepted = await verifyCode(alice, codeForm, 'email_otp', code);
      expect(accepted.kind).toBe('callback');
      const replay = await alice.submit(`/interaction/${interactionOf(codeForm)}/step-up/verify`, { method: 'email_otp', code });
      expectPage(replay, 400, /expired or was opened in another browser/);
    });
  });

  it('cancelling the step-up returns access_denied and no stepped-up token', async () => {
    const alice = newClient();
    await passwordLogin(alice, ALICE);
    const page = await alice.authorize({ scope: CUSTOMER_SCOPE, acrValues: [ACR_MFA] });
    expectCallbackError(await alice.submit(`/interaction/${interactionOf(page)}/abort`, {}), 'access_denied', 'The sign-in was cancelled.');
  });

  describe('magic link user without a second factor', () => {
    it('FORCE_ENROLL: the step-up is refused with a message to enrol', async () => {
      const dave = newClient();
      const login = await dave.authorize({ scope: CUSTOMER_SCOPE, acrValues: [ACR_MFA] });
      expectPage(await dave.submit(`/interaction/${interactionOf(login)}/magic/send`, { email: DAVE }), 200, /Check your email/);
      const link = /open (\S+) in the browser/.exec((await smtp.awaitMail(DAVE)).text)![1]!;
      const refused = await dave.get(link);
      expectPage(refused, 403, /This action needs a second factor\. Enrol/);
      expectCallbackError(
        await dave.submit(`/interaction/${interactionOf(refused)}/abort`, {}),
        'access_denied',
        /^This action needs a second factor/,
      );
    });

    it('ALLOW_SKIP: gets acr MFA without a challenge, but the amr shows no second factor', async () => {
      const emails = new ConsoleOutbox<EmailMessage>('email');
      const lenient = await createSampleApp({ port: 0, mailer: emails, unenrolledMfaPolicy: 'ALLOW_SKIP', logger: false });
      try {
        const dave = newClient(lenient);
        const login = await dave.authorize({ scope: CUSTOMER_SCOPE, acrValues: [ACR_MFA] });
        const codeForm = await dave.submit(`/interaction/${interactionOf(login)}/magic/send`, { email: DAVE });
        const code = /type the code (\d{6})/.exec(emails.latestTo(DAVE)!.text)![1]!;
        const tokens = await dave.exchange(await dave.submit(`/interaction/${interactionOf(codeForm)}/magic/code`, { code }));
        expect(accessTokenOf(tokens).claims).toMatchObject({ sub: 'dave', acr: ACR_MFA, amr: ['email', 'otp'] });
        expect((await callApi(lenient, tokens.access_token, 'POST', '/api/transfers', TRANSFER)).status).toBe(201);
      } finally {
        await lenient.close();
      }
    });
  });
});

describe('sample provider: attempt limits, and when a sign-in happened', () => {
  const emails = new ConsoleOutbox<EmailMessage>('email');
  let sample: SampleApp;
  const newClient = () => new OidcTestClient(sample.issuer, SAMPLE_CLIENT_ID, `${sample.url}/callback`);
  const codeIn = (to: string) => /code (?:is )?(\d{6})/.exec(emails.latestTo(to)!.text)![1]!;

  beforeAll(async () => {
    sample = await createSampleApp({ port: 0, mailer: emails, unenrolledMfaPolicy: 'ALLOW_SKIP', logger: false });
  });
  afterAll(() => sample.close());
  afterEach(restoreWallClock);

  it('keeps an interaction stopped at its attempt limit stopped, though the client does not follow the redirect out of it', async () => {
    const bob = newClient();
    await bob.exchange(await submitPassword(bob, await bob.authorize({ scope: CUSTOMER_SCOPE }), BOB.email, BOB.password));
    // The step-up builds on the session's sign-in, so a state started afresh would still offer the second factor.
    const page = await bob.authorize({ scope: CUSTOMER_SCOPE, acrValues: [ACR_MFA] });
    expect(offeredMethods(page)).toContain('authenticator_app');
    const verify = `/interaction/${interactionOf(page)}/step-up/verify`;
    const code = await generate({ secret: DEMO_TOTP_SECRET });
    const wrong = code === '000000' ? '111111' : '000000';
    const answers = [];
    for (let attempt = 1; attempt <= 5; attempt += 1) answers.push((await bob.submitOnly(verify, { method: 'authenticator_app', code: wrong })).status);
    expect(answers).toEqual([400, 400, 400, 400, 303]);
    expect(await bob.submitOnly(verify, { method: 'authenticator_app', code })).toEqual({ status: 400, location: null });
  });

  it('locks an account that keeps failing across interactions, whatever the next proof', async () => {
    const mallory = newClient();
    for (let interaction = 1; interaction <= 2; interaction += 1) {
      const login = await mallory.authorize({ scope: CUSTOMER_SCOPE });
      for (let attempt = 1; attempt < 5; attempt += 1) {
        expectPage(await mallory.submit(`/interaction/${interactionOf(login)}/login`, { email: CAROL.email, password: 'guess' }), 401, /Wrong email or password/);
      }
      expectCallbackError(await mallory.submit(`/interaction/${interactionOf(login)}/login`, { email: CAROL.email, password: 'guess' }), 'access_denied', TOO_MANY_ATTEMPTS);
    }
    const carol = newClient();
    expectCallbackError(
      await submitPassword(carol, await carol.authorize({ scope: CUSTOMER_SCOPE }), CAROL.email.toUpperCase(), CAROL.password),
      'access_denied',
      'Too many failed attempts for this account: try again in 15 minutes.',
    );
    const alice = newClient();
    expect(accessTokenOf(await alice.exchange(await submitPassword(alice, await alice.authorize({ scope: CUSTOMER_SCOPE }), ALICE.email, ALICE.password))).claims.sub).toBe('alice');
  });

  it('counts wrong step-up codes against the account, and once it is locked refuses its step-up, the right code included', async () => {
    const own = await createSampleApp({ port: 0, mailer: emails, logger: false });
    try {
      const alice = new OidcTestClient(own.issuer, SAMPLE_CLIENT_ID, `${own.url}/callback`);
      await alice.exchange(await submitPassword(alice, await alice.authorize({ scope: CUSTOMER_SCOPE }), ALICE.email, ALICE.password));
      const codeForm = async () => sendCode(alice, await alice.authorize({ scope: CUSTOMER_SCOPE, acrValues: [ACR_MFA] }), 'email_otp');
      for (let interaction = 1; interaction <= 2; interaction += 1) {
        const form = await codeForm();
        const wrong = codeIn(ALICE.email) === '000000' ? '111111' : '000000';
        for (let attempt = 1; attempt < 5; attempt += 1) expectPage(await verifyCode(alice, form, 'email_otp', wrong), 400, /That code is not right/);
        expectCallbackError(await verifyCode(alice, form, 'email_otp', wrong), 'access_denied', TOO_MANY_ATTEMPTS);
      }
      const form = await codeForm();
      expectCallbackError(
        await verifyCode(alice, form, 'email_otp', codeIn(ALICE.email)),
        'access_denied',
        'Too many failed attempts for this account: try again in 15 minutes.',
      );
    } finally {
      await own.close();
    }
  });

  it('serves the interaction pages uncached, with a policy that runs only its own scripts and allows no framing', async () => {
    const response = await fetch(`${sample.url}/interaction/unknown`);
    expect(response.status).toBe(400);
    expect(Object.fromEntries(response.headers)).toMatchObject({
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    });
  });

  it('mails no sign-in link to an address that has a password, though it answers the same', async () => {
    const alice = newClient();
    const before = emails.latestTo(ALICE.email);
    const login = await alice.authorize({ scope: CUSTOMER_SCOPE });
    expectPage(await alice.submit(`/interaction/${interactionOf(login)}/magic/send`, { email: ALICE.email }), 200, /Check your email/);
    expect(emails.latestTo(ALICE.email)).toBe(before);
  });

  it('limits magic-link sends alike for every address, so the limit does not reveal which accounts exist', async () => {
    for (const email of [DAVE, 'nobody@bank.example']) {
      const client = newClient();
      const login = await client.authorize({ scope: CUSTOMER_SCOPE });
      for (let send = 1; send <= 3; send += 1) expectPage(await client.submit(`/interaction/${interactionOf(login)}/magic/send`, { email }), 200, /Check your email/);
      expectCallbackError(await client.submit(`/interaction/${interactionOf(login)}/magic/send`, { email }), 'access_denied', TOO_MANY_ATTEMPTS);
    }
  });

  it('ALLOW_SKIP: dates the token by the sign-in it builds on, so max_age still asks for a new one', async () => {
    const dave = newClient();
    const login = await dave.authorize({ scope: CUSTOMER_SCOPE });
    const codeForm = await dave.submit(`/interaction/${interactionOf(login)}/magic/send`, { email: DAVE });
    const signedIn = accessTokenOf(await dave.exchange(await dave.submit(`/interaction/${interactionOf(codeForm)}/magic/code`, { code: codeIn(DAVE) })));
    advanceWallClock(7200);
    const skipped = await dave.exchange(await dave.authorize({ scope: CUSTOMER_SCOPE, acrValues: [ACR_MFA] }));
    expect(accessTokenOf(skipped).claims).toMatchObject({ acr: ACR_MFA, amr: ['email', 'otp'], auth_time: signedIn.claims.auth_time });
    expect((await callApi(sample, skipped.access_token, 'POST', '/api/transfers', TRANSFER)).status).toBe(401);
  });

  it('dates a second factor by when it was proved, however long the user then stays on the offer to add a key', async () => {
    const keyed = await createSampleApp({ port: 0, host: 'localhost', mailer: emails, logger: false });
    try {
      const alice = new OidcTestClient(keyed.issuer, SAMPLE_CLIENT_ID, `${keyed.url}/callback`);
      const page = await submitPassword(alice, await alice.authorize({ scope: CUSTOMER_SCOPE, acrValues: [ACR_MFA] }), ALICE.email, ALICE.password);
      const codeForm = await sendCode(alice, page, 'email_otp');
      const offer = await verifyCode(alice, codeForm, 'email_otp', codeIn(ALICE.email));
      expectPage(offer, 200, /Add a security key\?/);
      const provedAt = Math.floor(Date.now() / 1000);
      advanceWallClock(540);
      const tokens = await alice.exchange(await alice.submit(`/interaction/${interactionOf(offer)}/security-key/skip`, {}));
      const { auth_time: authTime, amr } = accessTokenOf(tokens).claims;
      expect(amr).toEqual(['mfa', 'otp']);
      expect(authTime).toBeGreaterThanOrEqual(provedAt - 1);
      expect(authTime).toBeLessThanOrEqual(provedAt + 1);
    } finally {
      await keyed.close();
    }
  });

  it.each([
    ['JSON that does not parse', 'application/json', '{"email":"alice@bank.example","password":"alice-password",}', 400],
    ['a JSON null', 'application/json', 'null', 400],
    ['a form over 4 kB', 'application/x-www-form-urlencoded', `email=${'a'.repeat(5000)}`, 413],
    ['an unknown charset', 'application/x-www-form-urlencoded; charset=koi8-xx', 'email=a', 415],
  ])('answers %s with its 4xx status, not a 500', async (_name, contentType, body, status) => {
    const response = await fetch(`${sample.url}/interaction/any/login`, { method: 'POST', headers: { 'content-type': contentType }, body });
    expect(response.status).toBe(status);
    expect(await response.text()).toMatch(/That request could not be read/);
  });

  it('answers a path that does not decode with 400, not a 500', async () => {
    expect((await fetch(`${sample.url}/interaction/%ZZ`)).status).toBe(400);
  });

  it('answers a magic-link request without waiting for the mail server, so its time tells no address apart', async () => {
    const stalled = await createSampleApp({ port: 0, mailer: { send: () => new Promise<void>(() => undefined) }, logger: false });
    try {
      const dave = new OidcTestClient(stalled.issuer, SAMPLE_CLIENT_ID, `${stalled.url}/callback`);
      const login = await dave.authorize({ scope: CUSTOMER_SCOPE });
      expectPage(await dave.submit(`/interaction/${interactionOf(login)}/magic/send`, { email: DAVE }), 200, /Check your email/);
    } finally {
      await stalled.close();
    }
  });

  // The test below locks dave's address in this app: it comes last.
  it('checks no more password guesses than the limit allows, though they are sent all at once', async () => {
    const mallory = newClient();
    const uid = interactionOf(await mallory.authorize({ scope: CUSTOMER_SCOPE }));
    const guesses = Array.from({ length: 40 }, (_, guess) => `guess-${guess}`);
    const answers = await Promise.all(guesses.map((password) => mallory.submitOnly(`/interaction/${uid}/login`, { email: ALICE.email, password })));
    // Four "wrong password" pages; the fifth guess stops the login, and every other is refused unchecked,
    // so the account counts 5 failures, not 40: its owner can still sign in.
    expect(answers.filter(({ status }) => status === 401)).toHaveLength(4);
    const alice = newClient();
    expect(accessTokenOf(await alice.exchange(await submitPassword(alice, await alice.authorize({ scope: CUSTOMER_SCOPE }), ALICE.email, ALICE.password))).claims.sub).toBe('alice');
  });

  it('locks an address that keeps failing magic codes alike, whether or not an account has it', async () => {
    for (const email of [DAVE, 'nobody@bank.example']) {
      const client = newClient();
      for (let interaction = 1; interaction <= 2; interaction += 1) {
        const codeForm = await client.submit(`/interaction/${interactionOf(await client.authorize({ scope: CUSTOMER_SCOPE }))}/magic/send`, { email });
        for (let attempt = 1; attempt < 5; attempt += 1) {
          expectPage(await client.submit(`/interaction/${interactionOf(codeForm)}/magic/code`, { code: '000000' }), 400, /That code is not right/);
        }
        expectCallbackError(await client.submit(`/interaction/${interactionOf(codeForm)}/magic/code`, { code: '000000' }), 'access_denied', TOO_MANY_ATTEMPTS);
      }
      const codeForm = await client.submit(`/interaction/${interactionOf(await client.authorize({ scope: CUSTOMER_SCOPE }))}/magic/send`, { email });
      expectPage(codeForm, 200, /Check your email/);
      expectCallbackError(
        await client.submit(`/interaction/${interactionOf(codeForm)}/magic/code`, { code: '000000' }),
        'access_denied',
        'Too many failed attempts for this account: try again in 15 minutes.',
      );
    }
  });
});

describe('sample bank trusting an external issuer', () => {
  it('discovers the JWKS from the issuer metadata and challenges a token that has no acr or amr', async () => {
    const external = await ExternalIssuerStub.start();
    const sample = await createSampleApp({ port: 0, externalIssuer: { issuer: external.issuer, audience: 'https://bank.example/api' }, logger: false });
    try {
      expect(sample.idp).toBeUndefined();
      const token = await external.sign({ sub: 'user-1', aud: 'https://bank.example/api', scope: 'read:balance transfer:funds' });
      expect((await callApi(sample, token, 'GET', '/api/accounts/balance')).status).toBe(200);
      const refused = await callApi(sample, token, 'POST', '/api/transfers', TRANSFER);
      expect(refused.status).toBe(401);
      expect(parseStepUpChallenge(refused.challengeHeader!)).toMatchObject({
        error: 'insufficient_user_authentication',
        acrValues: [ACR_MFA],
        maxAge: 300,
      });
    } finally {
      await sample.close();
      await external.close();
    }
  });

  it('refuses to start when the metadata names another issuer', async () => {
    const impostor = await ExternalIssuerStub.start('https://idp.example/realms/bank');
    try {
      const starting = createSampleApp({ port: 0, externalIssuer: { issuer: impostor.issuer, audience: 'https://bank.example/api' }, logger: false });
      await expect(starting).rejects.toBeInstanceOf(IssuerDiscoveryError);
      await expect(starting).rejects.toMatchObject({ reason: 'issuer_mismatch' });
    } finally {
      await impostor.close();
    }
  });
});
