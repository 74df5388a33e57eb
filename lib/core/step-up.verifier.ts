import type { KeyObject } from 'node:crypto';
import { errors, jwtVerify, type JWTPayload } from 'jose';
import { KeySetUnavailableError, NoMatchingKeyError, type KeySource } from './step-up.keys.js';

/** The verified claims of an access token. Frozen: the same object may serve many requests. */
export type AccessTokenClaims = Readonly<JWTPayload & Record<string, unknown>>;

export interface AccessTokenVerifierOptions {
  readonly issuer: string | readonly string[];
  readonly audience: string | readonly string[];
  readonly keys: KeySource;
  readonly algorithms: readonly string[];
  /** Seconds of clock skew tolerated on `exp` and `nbf`. */
  readonly clockTolerance: number;
  /** Required `typ` header, e.g. `'at+jwt'` (RFC 9068 §4); undefined skips the check. */
  readonly tokenType?: string;
  /** Claims that must be present; `iss`, `aud` and `exp` always are. */
  readonly requiredClaims?: readonly string[];
  /** How many verified tokens to remember; 0 turns the cache off. */
  readonly cacheSize: number;
}

/** The token is not acceptable. `description` is fixed text, safe to send to the client. */
export class TokenVerificationError extends Error {
  constructor(
    readonly code: string,
    readonly reason: string,
    readonly description: string,
    readonly claim?: string,
    options?: ErrorOptions,
  ) {
    super(description, options);
    this.name = 'TokenVerificationError';
  }
}

const CLAIM_DESCRIPTIONS: Readonly<Record<string, string>> = {
  iss: 'The access token was not issued by a trusted issuer',
  aud: 'The access token is not meant for this resource server',
  nbf: 'The access token is not valid yet',
  typ: 'The access token is not of the expected type',
};

function invalidToken(error: unknown): TokenVerificationError | KeySetUnavailableError {
  if (error instanceof KeySetUnavailableError || error instanceof TokenVerificationError) return error;
  const options = { cause: error };
  if (error instanceof NoMatchingKeyError) {
    return new TokenVerificationError(error.code, 'unknown_key', 'The access token is signed with an unknown key', undefined, options);
  }
  if (error instanceof errors.JWTExpired) {
    return new TokenVerificationError(error.code, error.reason, 'The access token has expired', 'exp', options);
  }
  if (error instanceof errors.JWTClaimValidationFailed) {
    const description = error.reason === 'missing' ? 'The access token lacks a required claim' : CLAIM_DESCRIPTIONS[error.claim];
    return new TokenVerificationError(error.code, error.reason, description ?? 'The access token has an invalid claim', error.claim, options);
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new TokenVerificationError(error.code, 'bad_signature', 'The access token signature is invalid', undefined, options);
  }
  if (error instanceof errors.JOSEAlgNotAllowed) {
    return new TokenVerificationError(error.code, 'algorithm', 'The access token is signed with an algorithm that is not accepted', undefined, options);
  }
  if (error instanceof errors.JOSEError) {
    return new TokenVerificationError(error.code, 'malformed', 'The access token is malformed', undefined, options);
  }
  // jose reports some malformed input (bad base64, non-JSON segments) as plain TypeErrors.
  if (error instanceof TypeError) {
    return new TokenVerificationError('ERR_JWT_INVALID', 'malformed', 'The access token is malformed', undefined, options);
  }
  throw error;
}

interface CacheEntry {
  readonly token: string;
  readonly claims: AccessTokenClaims;
  readonly key: KeyObject;
}

function freezeClaims(payload: JWTPayload): AccessTokenClaims {
  for (const value of Object.values(payload)) if (Array.isArray(value)) Object.freeze(value);
  return Object.freeze(payload) as AccessTokenClaims;
}

/**
 * Verifies JWT access tokens with jose: signature, algorithm allow-list, issuer, audience, `exp`, `nbf`,
 * optional `typ`. A token that verified once is remembered (LRU, bounded) while it stays valid: on a
 * repeat, only the time-dependent checks run again, and the entry is dropped once its key leaves the set.
 */
export class AccessTokenVerifier {
  private readonly cache = new Map<string, CacheEntry>();
  private readonly requiredClaims: string[];

  constructor(private readonly options: AccessTokenVerifierOptions) {
    this.requiredClaims = [...new Set(['exp', ...(options.requiredClaims ?? [])])];
  }

  /**
   * The claims of a token verified before and still valid, without any signature work; otherwise
   * undefined, and {@link verify} decides.
   * @param now seconds since the epoch
   */
  cached(token: string, now: number): AccessTokenClaims | undefined {
    // Keyed by the signature segment: shorter to hash than the whole token, and the entry's full token
    // must still match, so two tokens sharing a signature cannot be confused.
    const signature = token.slice(token.lastIndexOf('.') + 1);
    const entry = this.cache.get(signature);
    if (entry === undefined) return undefined;
    this.cache.delete(signature);
    if (entry.token !== token || !this.stillValid(entry, now)) return undefined;
    this.cache.set(signature, entry);
    return entry.claims;
  }

  /** @param now seconds since the epoch */
  async verify(token: string, now: number): Promise<AccessTokenClaims> {
    const cached = this.cached(token, now);
    if (cached !== undefined) return cached;
    const { options } = this;
    let key: KeyObject | undefined;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, async (header) => (key = await options.keys.resolve(header)), {
        issuer: options.issuer as string | string[],
        audience: options.audience as string | string[],
        algorithms: options.algorithms as string[],
        clockTolerance: options.clockTolerance,
        currentDate: new Date(now * 1000),
        requiredClaims: this.requiredClaims,
        ...(options.tokenType !== undefined && { typ: options.tokenType }),
      }));
    } catch (error) {
      throw invalidToken(error);
    }
    const claims = freezeClaims(payload);
    this.remember({ token, claims, key: key! });
    return claims;
  }

  private stillValid({ claims, key }: CacheEntry, now: number): boolean {
    const tolerance = this.options.clockTolerance;
    return (
      this.options.keys.isCurrent(key) &&
      (claims.exp as number) > now - tolerance &&
      (typeof claims.nbf !== 'number' || claims.nbf <= now + tolerance)
    );
  }

  private remember(entry: CacheEntry): void {
    const { cacheSize } = this.options;
    if (cacheSize === 0) return;
    if (this.cache.size >= cacheSize) this.cache.delete(this.cache.keys().next().value!);
    this.cache.set(entry.token.slice(entry.token.lastIndexOf('.') + 1), entry);
  }
}
