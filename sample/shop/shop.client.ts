import { createHash, randomBytes } from 'node:crypto';

/** The shop's registration at the embedded provider: a confidential web client (RFC 6749 §2.1). */
export interface ShopClientSettings {
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly redirectUri: string;
  /** Scopes of the shop's access token for the bank API. */
  readonly scope: string;
}

/** What a step-up asks of the provider, from the challenge the library turned into a redirect. */
export interface AuthenticationRequest {
  readonly acrValues?: string;
  readonly maxAge?: string;
}

export class AuthorizationFailedError extends Error {}

export interface IssuedToken {
  readonly accessToken: string;
  /** Epoch milliseconds. */
  readonly expiresAt: number;
}

/**
 * The shop's side of the authorization code flow with PKCE: the request that sends the browser to the
 * provider, and the exchange of the code that comes back, with its `state` and `iss` checked.
 */
export class ShopClient {
  constructor(readonly settings: ShopClientSettings) {}

  static newCodeVerifier(): string {
    return randomBytes(32).toString('base64url');
  }

  authorizationUrl(state: string, codeVerifier: string, { acrValues, maxAge }: AuthenticationRequest = {}): string {
    const { issuer, clientId, redirectUri, scope } = this.settings;
    const url = new URL(`${issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: clientId,
      response_type: 'code',
      redirect_uri: redirectUri,
      scope,
      state,
      code_challenge: createHash('sha256').update(codeVerifier).digest('base64url'),
      code_challenge_method: 'S256',
      ...(acrValues !== undefined && { acr_values: acrValues }),
      ...(maxAge !== undefined && { max_age: maxAge }),
    }).toString();
    return url.href;
  }

  /** The access token for an authorization response; throws {@link AuthorizationFailedError}. */
  async exchange(response: URLSearchParams, codeVerifier: string, now = Date.now()): Promise<IssuedToken> {
    const { issuer, clientId, clientSecret, redirectUri } = this.settings;
    // RFC 9207: the response names its issuer, so one from another provider cannot be mixed in.
    if (response.get('iss') !== issuer) throw new AuthorizationFailedError('the response does not come from the expected issuer');
    const code = response.get('code');
    if (code === null) throw new AuthorizationFailedError(response.get('error_description') ?? response.get('error') ?? 'no code');
    const answer = await fetch(`${issuer}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: redirectUri, code_verifier: codeVerifier }),
    });
    const tokens = (await answer.json()) as { access_token?: unknown; expires_in?: unknown; error?: unknown };
    if (!answer.ok || typeof tokens.access_token !== 'string' || typeof tokens.expires_in !== 'number') {
      throw new AuthorizationFailedError(`the token request failed: ${String(tokens.error)}`);
    }
    return { accessToken: tokens.access_token, expiresAt: now + tokens.expires_in * 1000 };
  }
}
