import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';

export type SigningAlgorithm = 'ES256' | 'RS256';

export interface SigningKey {
  readonly kid: string;
  readonly alg: SigningAlgorithm;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function createSigningKey(alg: SigningAlgorithm = 'ES256', kid = `${alg.toLowerCase()}-${Math.random().toString(36).slice(2, 8)}`): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { kid, alg, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface SignOptions {
  readonly key?: SigningKey;
  /** Protected header members to add or override (`typ`, `kid`, `crit`...). */
  readonly header?: Record<string, unknown>;
}

/**
 * A minimal token issuer for tests: signing keys, a JWKS endpoint on loopback whose answers the test
 * controls, and a `sign()` that fills `iss`, `aud`, `iat`, `exp` and `sub`.
 */
export class TestIssuer {
  static readonly audience = 'https://bank.example/api';
  keys: SigningKey[];
  /** Replace to make the JWKS endpoint fail, stall or lie. */
  respond: (send: (status: number, body: string) => void) => void = (send) =>
    send(200, JSON.stringify({ keys: this.keys.map((key) => key.publicJwk) }));
  jwksRequests = 0;

  private constructor(
    private readonly server: Server,
    readonly issuer: string,
    key: SigningKey,
  ) {
    this.keys = [key];
  }

  static async start(alg: SigningAlgorithm = 'ES256'): Promise<TestIssuer> {
    let self: TestIssuer | undefined;
    const server = createServer((_request, response) => {
      self!.jwksRequests++;
      self!.respond((status, body) => response.writeHead(status, { 'content-type': 'application/json' }).end(body));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    self = new TestIssuer(server, `http://127.0.0.1:${port}`, await createSigningKey(alg));
    return self;
  }

  get jwksUri(): string {
    return `${this.issuer}/jwks`;
  }

  get moduleOptions() {
    return { issuer: this.issuer, audience: TestIssuer.audience, jwksUri: this.jwksUri };
  }

  async sign(claims: JWTPayload & Record<string, unknown> = {}, { key = this.keys[0]!, header = {} }: SignOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({ iss: this.issuer, aud: TestIssuer.audience, sub: 'user-1', iat: now, exp: now + 300, ...claims })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header } as never)
      .sign(key.privateKey);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
