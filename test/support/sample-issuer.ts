import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

/**
 * A stand-in for an external issuer (Keycloak, Auth0, ...): OpenID metadata and a JWKS on 127.0.0.1,
 * and tokens signed with its key, shaped as the test needs (for example without acr or amr).
 */
export class ExternalIssuerStub {
  private constructor(
    private readonly server: Server,
    private readonly privateKey: CryptoKey,
    readonly issuer: string,
  ) {}

  /** `advertisedIssuer` lets a test serve metadata that names another issuer. */
  static async start(advertisedIssuer?: string): Promise<ExternalIssuerStub> {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'stub-key', alg: 'ES256', use: 'sig' };
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}/realms/bank`;
    server.on('request', (req, res) => {
      const routes: Record<string, unknown> = {
        '/realms/bank/.well-known/openid-configuration': { issuer: advertisedIssuer ?? issuer, jwks_uri: `${issuer}/certs` },
        '/realms/bank/certs': { keys: [jwk] },
      };
      const body = routes[req.url ?? ''];
      res.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' }).end(JSON.stringify(body ?? {}));
    });
    return new ExternalIssuerStub(server, privateKey, issuer);
  }

  sign(claims: JWTPayload): Promise<string> {
    return new SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'stub-key', typ: 'at+jwt' })
      .setIssuer(this.issuer)
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(this.privateKey);
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
