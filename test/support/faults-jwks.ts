import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { JWK } from 'jose';

/** How the JWKS endpoint answers: normally, with a status, with a body, never, or by dropping the line. */
export type JwksMode =
  | { readonly kind: 'ok' }
  | { readonly kind: 'status'; readonly status: number }
  | { readonly kind: 'body'; readonly body: string }
  | { readonly kind: 'stall' }
  | { readonly kind: 'reset' };

/**
 * A JWKS endpoint on loopback that a test can take down (connection refused), bring back on the same
 * port, slow down past any timeout, or make answer errors and garbage. Counts the requests it receives.
 */
export class FaultyJwks {
  mode: JwksMode = { kind: 'ok' };
  requests = 0;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly keys: () => readonly JWK[],
    private port: number,
  ) {}

  static async start(keys: () => readonly JWK[]): Promise<FaultyJwks> {
    const jwks = new FaultyJwks(keys, 0);
    await jwks.up();
    return jwks;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/.well-known/jwks.json`;
  }

  /** Listens again, on the same port as before. */
  async up(): Promise<void> {
    const server = createServer((request, response) => {
      this.requests++;
      const mode = this.mode;
      switch (mode.kind) {
        case 'ok':
          response.writeHead(200, { 'content-type': 'application/jwk-set+json' }).end(JSON.stringify({ keys: this.keys() }));
          return;
        case 'status':
          response.writeHead(mode.status, { 'content-type': 'text/plain' }).end('upstream trouble');
          return;
        case 'body':
          response.writeHead(200, { 'content-type': 'application/json' }).end(mode.body);
          return;
        case 'stall':
          return; // never answers; the client's timeout must fire
        case 'reset':
          request.socket.destroy();
          return;
      }
    });
    server.on('connection', (socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
  }

  /** Stops listening: new connections are refused. */
  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}
