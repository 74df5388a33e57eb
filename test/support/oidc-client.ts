import { createHash, randomBytes } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, type JWTPayload } from 'jose';

/** Just enough of a browser's cookie store for one host: path matching, Max-Age, deletion. */
export class CookieJar {
  private readonly cookies = new Map<string, { name: string; value: string; path: string; expiresAt?: number }>();

  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';').map((part) => part.trim());
      const separator = pair.indexOf('=');
      const name = pair.slice(0, separator);
      const value = pair.slice(separator + 1);
      let path = '/';
      let expiresAt: number | undefined;
      for (const attribute of attributes) {
        const [key = '', attributeValue = ''] = attribute.split('=');
        if (key.toLowerCase() === 'path') path = attributeValue;
        if (key.toLowerCase() === 'max-age') expiresAt = Date.now() + Number(attributeValue) * 1000;
        if (key.toLowerCase() === 'expires' && expiresAt === undefined) expiresAt = Date.parse(attributeValue);
      }
      const key = `${name};${path}`;
      if (expiresAt !== undefined && expiresAt <= Date.now()) this.cookies.delete(key);
      else this.cookies.set(key, { name, value, path, ...(expiresAt !== undefined && { expiresAt }) });
    }
  }

  headerFor(url: URL): string {
    const matches = (path: string) =>
      url.pathname === path || (url.pathname.startsWith(path) && (path.endsWith('/') || url.pathname[path.length] === '/'));
    return [...this.cookies.values()]
      .filter(({ path, expiresAt }) => matches(path) && (expiresAt === undefined || expiresAt > Date.now()))
      .map(({ name, value }) => `${name}=${value}`)
      .join('; ');
  }
}

export interface AuthorizationParams {
  readonly scope: string;
  readonly acrValues?: readonly string[];
  readonly maxAge?: number;
  readonly prompt?: string;
}

/** Where following redirects stopped: a page of the provider, or the client's redirect URI. */
export type FlowStep =
  | { readonly kind: 'page'; readonly status: number; readonly url: URL; readonly body: string }
  | { readonly kind: 'callback'; readonly params: URLSearchParams };

export interface TokenSet {
  readonly access_token: string;
  readonly id_token?: string;
  readonly refresh_token?: string;
  readonly token_type: string;
  readonly expires_in: number;
  readonly scope: string;
}

export const accessTokenOf = (tokens: TokenSet) => ({
  header: decodeProtectedHeader(tokens.access_token),
  claims: decodeJwt(tokens.access_token) as JWTPayload & { acr?: string; amr?: string[]; auth_time?: number; scope?: string },
});

const base64url = (bytes: Buffer) => bytes.toString('base64url');
const MAX_REDIRECTS = 10;

/**
 * A public OAuth client driving the real authorization code flow with PKCE over HTTP, as a browser
 * plus app would: it follows redirects with a cookie jar and stops at HTML pages or the callback.
 */
export class OidcTestClient {
  readonly jar = new CookieJar();
  private verifier = '';
  private state = '';

  constructor(
    readonly issuer: string,
    readonly clientId: string,
    readonly redirectUri: string,
  ) {}

  /** Starts a new authorization request and follows it. */
  authorize({ scope, acrValues, maxAge, prompt }: AuthorizationParams): Promise<FlowStep> {
    this.verifier = base64url(randomBytes(32));
    this.state = base64url(randomBytes(16));
    const url = new URL(`${this.issuer}/auth`);
    url.search = new URLSearchParams({
      client_id: this.clientId,
      response_type: 'code',
      redirect_uri: this.redirectUri,
      scope,
      state: this.state,
      nonce: base64url(randomBytes(16)),
      code_challenge: base64url(createHash('sha256').update(this.verifier).digest()),
      code_challenge_method: 'S256',
      ...(acrValues && { acr_values: acrValues.join(' ') }),
      ...(maxAge !== undefined && { max_age: String(maxAge) }),
      ...(prompt && { prompt }),
    }).toString();
    return this.follow(url, { method: 'GET' });
  }

  get(url: URL | string): Promise<FlowStep> {
    return this.follow(new URL(url, this.issuer), { method: 'GET' });
  }

  /** Submits a form of the current page. */
  submit(url: URL | string, form: Record<string, string>): Promise<FlowStep> {
    return this.follow(new URL(url, this.issuer), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form).toString(),
    });
  }

  /** Submits a form and stops at its answer, as a script that does not follow the redirect out of a sign-in would. */
  async submitOnly(url: URL | string, form: Record<string, string>): Promise<{ status: number; location: string | null }> {
    const target = new URL(url, this.issuer);
    const cookie = this.jar.headerFor(target);
    const response = await fetch(target, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie && { cookie }) },
      body: new URLSearchParams(form).toString(),
    });
    this.jar.store(response);
    await response.body?.cancel();
    return { status: response.status, location: response.headers.get('location') };
  }

  /** Exchanges the code of a successful callback, checking `state` first. */
  async exchange(step: FlowStep): Promise<TokenSet> {
    if (step.kind !== 'callback' || !step.params.has('code')) throw new Error(`expected a code, got ${describeStep(step)}`);
    if (step.params.get('state') !== this.state) throw new Error('state mismatch');
    return this.token({
      grant_type: 'authorization_code',
      code: step.params.get('code')!,
      redirect_uri: this.redirectUri,
      code_verifier: this.verifier,
    });
  }

  refresh(refreshToken: string): Promise<TokenSet> {
    return this.token({ grant_type: 'refresh_token', refresh_token: refreshToken });
  }

  private async token(form: Record<string, string>): Promise<TokenSet> {
    const response = await fetch(`${this.issuer}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: this.clientId, ...form }).toString(),
    });
    const body = (await response.json()) as TokenSet;
    if (response.status !== 200) throw new Error(`token endpoint answered ${response.status}: ${JSON.stringify(body)}`);
    return body;
  }

  private async follow(start: URL, init: RequestInit): Promise<FlowStep> {
    let url = start;
    let request = init;
    for (let hop = 0; hop < MAX_REDIRECTS; hop += 1) {
      const cookie = this.jar.headerFor(url);
      const response = await fetch(url, { ...request, redirect: 'manual', headers: { ...request.headers, ...(cookie && { cookie }) } });
      this.jar.store(response);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || location === null) {
        return { kind: 'page', status: response.status, url, body: await response.text() };
      }
      await response.body?.cancel();
      const next = new URL(location, url);
      if (`${next.origin}${next.pathname}` === this.redirectUri) return { kind: 'callback', params: next.searchParams };
      url = next;
      request = { method: 'GET' };
    }
    throw new Error(`more than ${MAX_REDIRECTS} redirects from ${start.href}`);
  }
}

export function describeStep(step: FlowStep): string {
  return step.kind === 'callback' ? `callback ${step.params.toString()}` : `${step.status} page ${step.url.pathname}: ${step.body.slice(0, 300)}`;
}
