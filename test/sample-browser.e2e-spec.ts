import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { existsSync } from 'node:fs';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { ACR_MFA } from 'nestjs-step-up';
import { generate } from 'otplib';
import { DEMO_TOTP_SECRET } from '../sample/idp/users.store.js';
import { createSampleApp, type SampleApp } from '../sample/sample.app.js';
import { SmtpCapture } from './support/sample-mailbox.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ALICE = { email: 'alice@bank.example', password: 'alice-password' };
const BOB = { email: 'bob@bank.example', password: 'bob-password' };
if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium, or set CHROMIUM_PATH`);
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** The sample's checkout asks for `@RequireStepUp({ acr: ACR_MFA, maxAge: '10m' })`. */
const CHECKOUT_MAX_AGE = '600';

/** Signs in to the shop with a password, through the provider's login page. */
async function signIn(page: Page, at: (path: string) => string, user = ALICE): Promise<void> {
  await page.goto(at('/shop'));
  await page.getByRole('link', { name: 'Sign in' }).click();
  await page.getByLabel('Email', { exact: true }).fill(user.email);
  await page.getByLabel('Password', { exact: true }).fill(user.password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  await page.waitForURL(at('/shop'));
  await expect(page.locator('body').textContent()).resolves.toContain('You are signed in.');
}

/**
 * The web-app step-up, in real Chromium: the shop's checkout needs a fresh MFA, the library's filter
 * redirects the browser to the re-authenticate page with the challenge's `acr_values` and `max_age`, the
 * embedded provider asks for the second factor only, and the browser comes back to the checkout.
 */
describe('sample shop: web-app step-up by redirect, in Chromium', () => {
  let smtp: SmtpCapture;
  let sample: SampleApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  /** Every URL the browser navigated to, redirects included, in order. */
  let navigations: URL[];

  beforeAll(async () => {
    smtp = await SmtpCapture.start();
    sample = await createSampleApp({ port: 0, smtpUrl: smtp.url, logger: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await sample?.close();
    await smtp?.close();
  });

  beforeEach(async () => {
    context = await browser.newContext();
    page = await context.newPage();
    navigations = [];
    page.on('request', (request) => {
      if (request.isNavigationRequest()) navigations.push(new URL(request.url()));
    });
  });

  afterEach(() => context.close());

  const at = (path: string) => `${sample.url}${path}`;

  const signInAlice = () => signIn(page, at);

  it('sends a signed-in shopper from the checkout to re-authenticate, asks only for an email code, and returns to the checkout', async () => {
    await signInAlice();
    await page.getByRole('link', { name: 'Go to checkout' }).click();
    await page.waitForURL(/\/interaction\//);
    await expect(page.locator('h1').textContent()).resolves.toBe('Confirm it is you');
    expect(await page.locator('input[name="password"]').count()).toBe(0);

    const reauthenticate = navigations.find(({ pathname }) => pathname === '/account/re-authenticate');
    expect(reauthenticate?.searchParams.get('acr_values')).toBe(ACR_MFA);
    expect(reauthenticate?.searchParams.get('max_age')).toBe(CHECKOUT_MAX_AGE);
    expect(reauthenticate?.searchParams.get('return_to')).toBe('/shop/checkout');
    const authorization = navigations.filter(({ pathname }) => pathname === '/oidc/auth').at(-1);
    expect(authorization?.searchParams.get('acr_values')).toBe(ACR_MFA);
    expect(authorization?.searchParams.get('max_age')).toBe(CHECKOUT_MAX_AGE);

    await page.getByRole('button', { name: `Email code: send a code to ${ALICE.email}` }).click();
    await page.getByLabel(`Code sent to ${ALICE.email}`).fill(smtp.takeCode(ALICE.email));
    await page.getByRole('button', { name: 'Verify' }).click();
    await page.waitForURL(at('/shop/checkout'));
    await expect(page.locator('h1').textContent()).resolves.toBe('Checkout');
    await expect(page.locator('#amr').textContent()).resolves.toBe('mfa, otp');

    const again = await page.goto(at('/shop/checkout'));
    expect(again?.status()).toBe(200);
    expect(again?.request().redirectedFrom()).toBeNull();
    // The router matches paths in any case, and so does the guard's reading of the session.
    const upperCase = await page.goto(at('/SHOP/checkout'));
    expect(upperCase?.status()).toBe(200);
    expect(upperCase?.request().redirectedFrom()).toBeNull();
  });

  it('sends a shopper who is not signed in to sign in first, then on to step up', async () => {
    await page.goto(at('/shop/checkout'));
    await page.waitForURL(/\/interaction\//);
    expect(navigations.map(({ pathname }) => pathname).slice(0, 3)).toEqual(['/shop/checkout', '/shop/login', '/oidc/auth']);
    expect(navigations[1]?.searchParams.get('return_to')).toBe('/shop/checkout');
  });

  it('keeps a cancelled step-up from reaching the checkout, and the shopper stays signed in', async () => {
    await signInAlice();
    await page.getByRole('link', { name: 'Go to checkout' }).click();
    await page.waitForURL(/\/interaction\//);
    await page.getByRole('button', { name: 'Cancel' }).click();
    await page.waitForURL(/\/shop\/callback/);
    await expect(page.locator('[role="alert"]').textContent()).resolves.toMatch(/did not complete/);

    const checkout = await page.goto(at('/shop/checkout'));
    expect(new URL(checkout!.url()).pathname).toMatch(/^\/interaction\//);
    await page.goto(at('/shop'));
    await expect(page.locator('body').textContent()).resolves.toContain('You are signed in.');
  });

  it('returns to the shop, not to another origin, whatever return_to says', async () => {
    await signInAlice();
    await page.goto(at(`/shop/login?return_to=${encodeURIComponent('//evil.example/')}`));
    await page.waitForURL(at('/shop'));
    expect(navigations.at(-1)?.origin).toBe(sample.url);
  });

  it('never lets the session cookie authorize the bank API', async () => {
    await signInAlice();
    const balance = await context.request.get(at('/api/accounts/balance'));
    expect(balance.status()).toBe(401);
    expect(balance.headers()['www-authenticate']).toBe(`Bearer realm="${sample.audience}"`);
  });

  it('gives the browser a new session id once signed in, so that an id planted before is worth nothing', async () => {
    const started = await fetch(at('/shop/login'), { redirect: 'manual' });
    const planted = /^shop_session=([^;]+);/.exec(started.headers.get('set-cookie') ?? '')?.[1];
    expect(planted).toEqual(expect.any(String));
    await context.addCookies([{ name: 'shop_session', value: planted!, url: sample.url }]);
    await signInAlice();
    const cookies = await context.cookies(sample.url);
    expect(cookies.filter(({ name }) => name === 'shop_session').map(({ value }) => value)).toEqual([expect.not.stringMatching(`^${planted}$`)]);
    const withPlanted = await fetch(at('/shop'), { headers: { cookie: `shop_session=${planted}` } });
    expect(await withPlanted.text()).toContain('You are not signed in.');
  });

  it('serves its pages uncached, with a policy that runs no script and allows no framing', async () => {
    const pageHeaders = {
      'cache-control': 'no-store',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
    };
    const home = await fetch(at('/shop'));
    expect(home.status).toBe(200);
    expect(Object.fromEntries(home.headers)).toMatchObject(pageHeaders);
    const login = await fetch(at('/shop/login'), { redirect: 'manual' });
    expect(login.status).toBe(303);
    expect(login.headers.get('cache-control')).toBe('no-store');
    // Over http, as here, a Secure cookie would not come back from a browser anywhere but on localhost.
    expect(login.headers.get('set-cookie')).toMatch(/^shop_session=[\w-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=28800$/);
    // A callback this browser did not start, with or without a session: refused, not a 500.
    for (const cookie of [undefined, login.headers.get('set-cookie')!.split(';')[0]!]) {
      const stray = await fetch(at('/shop/callback?state=unknown&code=c'), { headers: cookie === undefined ? {} : { cookie } });
      expect(stray.status).toBe(400);
      expect(Object.fromEntries(stray.headers)).toMatchObject(pageHeaders);
      expect(await stray.text()).toContain('This sign-in was not started in this browser');
    }
  });
});

/**
 * Security keys (WebAuthn, amr `hwk`) in Chromium, with a virtual authenticator (Chrome DevTools Protocol).
 * WebAuthn needs a host name, so this sample listens on localhost.
 */
describe('sample: stepping up with a security key, in Chromium', () => {
  let smtp: SmtpCapture;
  let sample: SampleApp;
  let browser: Browser;

  beforeAll(async () => {
    smtp = await SmtpCapture.start();
    sample = await createSampleApp({ port: 0, host: 'localhost', smtpUrl: smtp.url, logger: false });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await sample?.close();
    await smtp?.close();
  });

  const at = (path: string) => `${sample.url}${path}`;

  it('adds a key after an email code, then steps up with it alone: amr [mfa, hwk]', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const devtools = await context.newCDPSession(page);
      await devtools.send('WebAuthn.enable');
      const { authenticatorId } = await devtools.send('WebAuthn.addVirtualAuthenticator', {
        options: { protocol: 'ctap2', transport: 'usb', hasUserVerification: false, automaticPresenceSimulation: true }, // a key without a PIN
      });

      await signIn(page, at);
      await page.getByRole('link', { name: 'Go to checkout' }).click();
      await page.waitForURL(/\/interaction\//);
      expect(await page.getByRole('button', { name: /Security key/ }).count()).toBe(0);
      await page.getByRole('button', { name: `Email code: send a code to ${ALICE.email}` }).click();
      await page.getByLabel(`Code sent to ${ALICE.email}`).fill(smtp.takeCode(ALICE.email));
      await page.getByRole('button', { name: 'Verify' }).click();
      await expect(page.locator('h1').textContent()).resolves.toBe('Add a security key?');
      await page.getByRole('button', { name: 'Add a security key' }).click();
      await page.waitForURL(at('/shop/checkout'));
      await expect(page.locator('#amr').textContent()).resolves.toBe('mfa, otp');
      const { credentials } = await devtools.send('WebAuthn.getCredentials', { authenticatorId });
      expect(credentials).toHaveLength(1);

      // A new sign-in (both sessions dropped): the key is offered beside the email code, and is enough alone.
      await context.clearCookies();
      await signIn(page, at);
      await page.getByRole('link', { name: 'Go to checkout' }).click();
      await page.waitForURL(/\/interaction\//);
      const uid = /\/interaction\/([^/?#]+)/.exec(page.url())![1]!;
      const junk = await page.request.post(at(`/interaction/${uid}/step-up/webauthn`), { headers: { 'content-type': 'text/plain' }, data: 'junk' });
      expect(junk.status()).toBe(400);
      expect(await junk.json()).toEqual({ error: 'That security key was not accepted. Try again.' });
      await page.getByRole('button', { name: 'Security key: use your key' }).click();
      await page.waitForURL(at('/shop/checkout'));
      await expect(page.locator('#amr').textContent()).resolves.toBe('mfa, hwk');
      const [used] = (await devtools.send('WebAuthn.getCredentials', { authenticatorId })).credentials;
      expect(used?.signCount).toBeGreaterThan(credentials[0]!.signCount);

      // Five answers that fail end the sign-in, as five wrong codes do: no key is checked after that.
      await context.clearCookies();
      await signIn(page, at);
      await page.getByRole('link', { name: 'Go to checkout' }).click();
      await page.waitForURL(/\/interaction\//);
      const stopped = /\/interaction\/([^/?#]+)/.exec(page.url())![1]!;
      const answers = [];
      for (let attempt = 0; attempt < 5; attempt++) {
        answers.push(await page.request.post(at(`/interaction/${stopped}/step-up/webauthn`), { headers: { 'content-type': 'text/plain' }, data: 'junk' }));
      }
      expect(answers.map((answer) => answer.status())).toEqual([400, 400, 400, 400, 200]);
      const { location } = (await answers[4]!.json()) as { location: string };
      await page.goto(location);
      await page.waitForURL(/\/shop\/callback/);
      await expect(page.locator('[role="alert"]').textContent()).resolves.toContain('Too many failed attempts');

      // A step-up opened before the account locks is refused after, the key included: the failed answers of two
      // other sign-ins of the same session take the account past its 10 failures in 15 minutes.
      await context.clearCookies();
      await signIn(page, at);
      const openStepUp = async () => {
        await page.goto(at('/shop/checkout'));
        await page.waitForURL(/\/interaction\//);
        return /\/interaction\/([^/?#]+)/.exec(page.url())![1]!;
      };
      const opened = await openStepUp();
      for (const other of [await openStepUp(), await openStepUp()]) {
        for (let attempt = 0; attempt < 5; attempt++) {
          await page.request.post(at(`/interaction/${other}/step-up/webauthn`), { headers: { 'content-type': 'text/plain' }, data: 'junk' });
        }
      }
      await page.goto(at(`/interaction/${opened}`));
      await page.getByRole('button', { name: 'Security key: use your key' }).click();
      await page.waitForURL(/\/shop\/callback/);
      await expect(page.locator('[role="alert"]').textContent()).resolves.toContain('Too many failed attempts for this account');
    } finally {
      await context.close();
    }
  });

  it('lets a user decline the offer: "Not now" goes back with the factor proved, and no key is offered later', async () => {
    const context = await browser.newContext();
    try {
      const page = await context.newPage();
      const openStepUp = async () => {
        await signIn(page, at, BOB);
        await page.getByRole('link', { name: 'Go to checkout' }).click();
        await page.waitForURL(/\/interaction\//);
        expect(await page.getByRole('button', { name: /Security key/ }).count()).toBe(0);
      };

      await openStepUp();
      await page.getByLabel('Code from your authenticator app').fill(await generate({ secret: DEMO_TOTP_SECRET }));
      await page.getByRole('button', { name: 'Verify' }).first().click();
      await expect(page.locator('h1').textContent()).resolves.toBe('Add a security key?');
      await page.getByRole('button', { name: 'Not now' }).click();
      await page.waitForURL(at('/shop/checkout'));
      await expect(page.locator('#amr').textContent()).resolves.toBe('mfa, otp');

      await context.clearCookies();
      await openStepUp();
      await expect(page.locator('h1').textContent()).resolves.toBe('Confirm it is you');
    } finally {
      await context.close();
    }
  });
});
