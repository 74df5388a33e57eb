import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { AuthorizationFailedError, ShopClient } from './shop.client.js';

const ISSUER = 'https://idp.example/oidc';
const client = new ShopClient({
  issuer: ISSUER,
  clientId: 'shop',
  clientSecret: 'secret',
  redirectUri: 'https://shop.example/shop/callback',
  scope: 'openid read:balance',
});

describe('ShopClient', () => {
  afterEach(() => jest.restoreAllMocks());

  const tokenEndpoint = (status: number, body: unknown) =>
    jest.spyOn(globalThis, 'fetch').mockResolvedValue(new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } }));

  it('asks for a code with PKCE S256 and the state, and for the step-up only when given', () => {
    const url = new URL(client.authorizationUrl('the-state', 'the-verifier'));
    expect(url.origin + url.pathname).toBe(`${ISSUER}/auth`);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      client_id: 'shop',
      response_type: 'code',
      redirect_uri: 'https://shop.example/shop/callback',
      scope: 'openid read:balance',
      state: 'the-state',
      code_challenge: createHash('sha256').update('the-verifier').digest('base64url'),
      code_challenge_method: 'S256',
    });
    const stepUp = new URL(client.authorizationUrl('s', 'v', { acrValues: 'urn:acr:mfa', maxAge: '600' })).searchParams;
    expect([stepUp.get('acr_values'), stepUp.get('max_age')]).toEqual(['urn:acr:mfa', '600']);
  });

  it('refuses a response from another issuer, or without one, before asking for a token', async () => {
    const fetch = tokenEndpoint(200, { access_token: 'token', expires_in: 300 });
    for (const response of [`code=c&iss=${encodeURIComponent('https://evil.example/oidc')}`, 'code=c']) {
      await expect(client.exchange(new URLSearchParams(response), 'verifier')).rejects.toThrow(
        new AuthorizationFailedError('the response does not come from the expected issuer'),
      );
    }
    expect(fetch).not.toHaveBeenCalled();
  });

  it('reports an error response by its description', async () => {
    const response = new URLSearchParams({ iss: ISSUER, error: 'access_denied', error_description: 'The sign-in was cancelled.' });
    await expect(client.exchange(response, 'verifier')).rejects.toThrow(new AuthorizationFailedError('The sign-in was cancelled.'));
  });

  it('exchanges the code with the verifier and client credentials, and dates the token by expires_in', async () => {
    const fetch = tokenEndpoint(200, { access_token: 'token', expires_in: 300 });
    const token = await client.exchange(new URLSearchParams({ iss: ISSUER, code: 'the-code' }), 'the-verifier', 1_000_000);
    expect(token).toEqual({ accessToken: 'token', expiresAt: 1_000_000 + 300_000 });
    const [url, init] = fetch.mock.calls[0]!;
    expect(url).toBe(`${ISSUER}/token`);
    expect(init?.method).toBe('POST');
    expect(init?.headers).toEqual({ authorization: `Basic ${Buffer.from('shop:secret').toString('base64')}` });
    expect(Object.fromEntries(init?.body as URLSearchParams)).toEqual({
      grant_type: 'authorization_code',
      code: 'the-code',
      redirect_uri: 'https://shop.example/shop/callback',
      code_verifier: 'the-verifier',
    });
  });

  it('refuses a failed token response', async () => {
    tokenEndpoint(400, { error: 'invalid_grant' });
    await expect(client.exchange(new URLSearchParams({ iss: ISSUER, code: 'c' }), 'v')).rejects.toThrow(
      new AuthorizationFailedError('the token request failed: invalid_grant'),
    );
    tokenEndpoint(500, { access_token: 'token', expires_in: 300 });
    await expect(client.exchange(new URLSearchParams({ iss: ISSUER, code: 'c' }), 'v')).rejects.toBeInstanceOf(AuthorizationFailedError);
    tokenEndpoint(200, { access_token: 'token' });
    await expect(client.exchange(new URLSearchParams({ iss: ISSUER, code: 'c' }), 'v')).rejects.toBeInstanceOf(AuthorizationFailedError);
  });
});
