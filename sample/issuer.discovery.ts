/** Thrown when the issuer's metadata cannot be used; the message says what to fix. */
export class IssuerDiscoveryError extends Error {
  readonly code = 'ERR_ISSUER_DISCOVERY';
  constructor(
    readonly reason: 'unreachable' | 'bad_response' | 'issuer_mismatch' | 'no_jwks_uri',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'IssuerDiscoveryError';
  }
}

const DISCOVERY_TIMEOUT_MS = 5_000;

/**
 * Reads `jwks_uri` from `${issuer}/.well-known/openid-configuration` (OpenID Connect Discovery 1.0).
 * The metadata's `issuer` must equal the configured one exactly (§4.3), else the keys could belong
 * to someone else.
 */
export async function discoverJwksUri(issuer: string): Promise<string> {
  const url = `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  let metadata: unknown;
  try {
    const response = await fetch(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(DISCOVERY_TIMEOUT_MS) });
    if (!response.ok) throw new IssuerDiscoveryError('bad_response', `${url} answered ${response.status}; set STEPUP_JWKS_URI or fix STEPUP_ISSUER`);
    metadata = await response.json();
  } catch (error) {
    if (error instanceof IssuerDiscoveryError) throw error;
    throw new IssuerDiscoveryError('unreachable', `could not read ${url}: ${String(error)}`, { cause: error });
  }
  const { issuer: advertised, jwks_uri: jwksUri } = (metadata ?? {}) as { issuer?: unknown; jwks_uri?: unknown };
  if (advertised !== issuer) {
    throw new IssuerDiscoveryError(
      'issuer_mismatch',
      `${url} describes issuer ${JSON.stringify(advertised)}, not ${JSON.stringify(issuer)}: STEPUP_ISSUER must be exactly the issuer's identifier`,
    );
  }
  if (typeof jwksUri !== 'string' || !/^https?:\/\//.test(jwksUri)) {
    throw new IssuerDiscoveryError('no_jwks_uri', `${url} has no usable jwks_uri; set STEPUP_JWKS_URI`);
  }
  return jwksUri;
}
