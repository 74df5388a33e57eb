/**
 * A local token issuer for the run: ES256 and RS256 keys generated at start, a JWKS endpoint on
 * loopback (so every variant gets its keys through a jwksUri, as in production), and minting.
 * Minting uses node:crypto directly (ES256 ~50 µs, RS256 ~0.8 ms per token here).
 */
import { generateKeyPairSync, type JsonWebKey, type KeyObject, sign } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ACR_MFA, type Alg, ALGORITHMS, AUDIENCE, REQUIRED_SCOPE } from './scenario.shared.js';

/** allowed: satisfies the route; no-mfa: single factor (→ 401); no-scope: MFA but no transfer scope (→ 403). */
export const TOKEN_KINDS = ['allowed', 'no-mfa', 'no-scope'] as const;
export type TokenKind = (typeof TOKEN_KINDS)[number];
/** What a request carries: a token of one kind, or, anonymous, no credentials at all (→ 401, the bare challenge). */
export const REQUEST_KINDS = [...TOKEN_KINDS, 'anonymous'] as const;
export type RequestKind = (typeof REQUEST_KINDS)[number];
/** In a pool of tokens: a request sent without an `Authorization` header. */
export const NO_TOKEN = '';

const KIND_CLAIMS: Readonly<Record<TokenKind, Readonly<Record<string, unknown>>>> = {
  allowed: { acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'], scope: `openid ${REQUIRED_SCOPE}` },
  'no-mfa': { acr: 'urn:bench:acr:password', amr: ['pwd'], scope: `openid ${REQUIRED_SCOPE}` },
  'no-scope': { acr: ACR_MFA, amr: ['pwd', 'otp', 'mfa'], scope: 'openid profile' },
};

interface SigningKey {
  readonly privateKey: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' };
  readonly encodedHeader: string;
  readonly publicJwk: JsonWebKey;
}

function signingKey(alg: Alg): SigningKey {
  const kid = `bench-${alg.toLowerCase()}`;
  const { privateKey, publicKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const header = { alg, kid, typ: 'at+jwt' };
  return {
    privateKey: alg === 'ES256' ? { key: privateKey, dsaEncoding: 'ieee-p1363' } : privateKey,
    encodedHeader: Buffer.from(JSON.stringify(header)).toString('base64url'),
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' },
  };
}

export class LocalIssuer {
  private constructor(
    private readonly server: Server,
    private readonly keys: Readonly<Record<Alg, SigningKey>>,
    readonly issuer: string,
  ) {}

  static async start(): Promise<LocalIssuer> {
    const keys = { ES256: signingKey('ES256'), RS256: signingKey('RS256') };
    const jwks = JSON.stringify({ keys: ALGORITHMS.map((alg) => keys[alg].publicJwk) });
    const server = createServer((request, response) => {
      const found = request.url === '/jwks.json';
      response.writeHead(found ? 200 : 404, { 'content-type': 'application/json', 'cache-control': 'max-age=600' });
      response.end(found ? jwks : '{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return new LocalIssuer(server, keys, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  }

  get jwksUri(): string {
    return `${this.issuer}/jwks.json`;
  }

  /** One signed access token; `serial` makes it unique (jti, sub). Times are taken now. */
  mint(alg: Alg, kind: TokenKind, serial: string): string {
    const { encodedHeader, privateKey } = this.keys[alg];
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      iss: this.issuer,
      sub: `user-${serial}`,
      aud: AUDIENCE,
      client_id: 'bench-client',
      iat: now,
      exp: now + 3600,
      auth_time: now - 5,
      jti: serial,
      ...KIND_CLAIMS[kind],
    };
    const signingInput = `${encodedHeader}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
    return `${signingInput}.${sign('sha256', Buffer.from(signingInput), privateKey).toString('base64url')}`;
  }

  mintMany(alg: Alg, kind: TokenKind, count: number, tag: string): string[] {
    return Array.from({ length: count }, (_, index) => this.mint(alg, kind, `${tag}-${index}`));
  }

  /** A pool of requests' tokens: `count` new tokens of a token kind, or the one anonymous request. */
  pool(alg: Alg, kind: RequestKind, count: number, tag: string): string[] {
    return kind === 'anonymous' ? [NO_TOKEN] : this.mintMany(alg, kind, count, tag);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
