import type { KeyObject } from 'node:crypto';
import { withoutStackTrace } from './step-up.errors.js';
import { JwsFormatError, parseCompactJws, verifyJwsSignature, type CompactJws } from './step-up.jws.js';
import { keyFitsAlgorithm, NoMatchingKeyError, type KeySource } from './step-up.keys.js';

/** The verified claims of an access token. Frozen: the same object may serve many requests. */
export type AccessTokenClaims = Readonly<Record<string, unknown>> & {
  readonly iss?: string;
  readonly sub?: string;
  readonly aud?: string | readonly string[];
  readonly exp?: number;
  readonly nbf?: number;
  readonly iat?: number;
  readonly jti?: string;
};

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

/**
 * The token is not acceptable. `code`, `claim` and `reason` are stable, for logs and metrics;
 * `description` is fixed text, safe to send to the client.
 */
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

const refuse = (code: string, reason: string, description: string, claim?: string): never => {
  throw withoutStackTrace(() => new TokenVerificationError(code, reason, description, claim));
};
const claimFailed = (claim: string, description: string, reason = 'check_failed') =>
  refuse('ERR_JWT_CLAIM_VALIDATION_FAILED', reason, description, claim);

/** `typ` compared as a media type: case-insensitive, with or without `application/` (RFC 7515 §4.1.9). */
const mediaType = (value: string) => value.toLowerCase().replace(/^application\//, '');

// The lifetime rules (RFC 7519 §4.1.4, §4.1.5), shared by a first verification and every cache hit.
const expired = (claims: Readonly<Record<string, unknown>>, now: number, tolerance: number) =>
  (claims.exp as number) <= now - tolerance;
const notYetValid = (claims: Readonly<Record<string, unknown>>, now: number, tolerance: number) =>
  typeof claims.nbf === 'number' && claims.nbf > now + tolerance;

interface CacheEntry {
  readonly token: string;
  readonly claims: AccessTokenClaims;
  readonly key: KeyObject;
  /** Used since it last reached the head of the eviction queue (second-chance LRU). */
  used: boolean;
}

const KEY_CHARACTERS = 5;

/**
 * The cache index of a token: 30 bits folded from the signature's characters before its last one (which
 * carries only 2 or 4 bits). Reading five characters, where a string key would be a new string to hash
 * on every request, is what makes a repeat cheap. The entry's full token must still match, so a token
 * crafted to share a cached one's index misses (and evicts nothing); two valid tokens that share one take
 * turns in the cache.
 */
function cacheKey(token: string): number {
  let key = 0;
  for (let index = token.length - 1 - KEY_CHARACTERS; index < token.length - 1; index++) key = (key << 6) ^ token.charCodeAt(index);
  return key & 0x3fffffff;
}

/**
 * Freezes the claims all the way down: cached claims are shared by every request that sends the token, so
 * a handler that changed `realm_access.roles` would change them for the next. Iterative, as a payload may
 * nest thousands deep.
 */
function freezeClaims(payload: Record<string, unknown>): AccessTokenClaims {
  const pending: unknown[] = [payload];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'object' && value !== null) for (const member of Object.values(Object.freeze(value))) pending.push(member);
  }
  return payload as AccessTokenClaims;
}

function parseClaims(jws: CompactJws): Record<string, unknown> {
  let payload: unknown;
  try {
    payload = JSON.parse(jws.payload);
  } catch {
    return refuse('ERR_JWT_INVALID', 'malformed', 'The access token is malformed');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return refuse('ERR_JWT_INVALID', 'malformed', 'The access token is malformed');
  }
  return payload as Record<string, unknown>;
}

/**
 * Verifies JWT access tokens (RFC 9068, RFC 8725): compact JWS only, algorithm allow-list, a key from the
 * configured source that fits the algorithm, the signature (Node's crypto with `KeyObject`s), then
 * `iss`, `aud`, `exp` (required), `nbf`, `iat` and optionally `typ`. A token that verified once is
 * remembered (LRU, bounded) while it stays valid: on a repeat only the time-dependent checks and the key's
 * membership of the set run again, and an entry that fails them is dropped there.
 */
export class AccessTokenVerifier {
  private readonly cache = new Map<number, CacheEntry>();
  private readonly issuers: ReadonlySet<string>;
  private readonly audiences: readonly string[];
  private readonly algorithms: ReadonlySet<string>;
  private readonly requiredClaims: readonly string[];
  private readonly tokenType: string | undefined;

  constructor(private readonly options: AccessTokenVerifierOptions) {
    const list = (value: string | readonly string[]) => (typeof value === 'string' ? [value] : value);
    this.issuers = new Set(list(options.issuer));
    this.audiences = list(options.audience);
    this.algorithms = new Set(options.algorithms);
    this.requiredClaims = [...new Set(['iss', 'aud', 'exp', ...(options.requiredClaims ?? [])])];
    this.tokenType = options.tokenType === undefined ? undefined : mediaType(options.tokenType);
  }

  /**
   * The claims of a token verified before and still valid, without any signature work; otherwise
   * undefined, and {@link verify} decides.
   * @param now seconds since the epoch
   */
  cached(token: string, now: number): AccessTokenClaims | undefined {
    const key = cacheKey(token);
    const entry = this.cache.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    if (!this.stillValid(entry, now)) {
      this.cache.delete(key);
      return undefined;
    }
    entry.used = true;
    return entry.claims;
  }

  /**
   * Verifies a token. Throws {@link TokenVerificationError} for a token the client must replace, and
   * the key source's `KeySetUnavailableError` when the signing keys cannot be had (a server-side fault).
   * @param now seconds since the epoch
   */
  async verify(token: string, now: number): Promise<AccessTokenClaims> {
    const cached = this.cached(token, now);
    if (cached !== undefined) return cached;
    let jws: CompactJws;
    try {
      jws = parseCompactJws(token);
    } catch (error) {
      if (!(error instanceof JwsFormatError)) throw error;
      return refuse(error.reason === 'unsupported' ? 'ERR_JOSE_NOT_SUPPORTED' : 'ERR_JWS_INVALID', error.reason, 'The access token is malformed');
    }
    const { alg, typ } = jws.header;
    if (!this.algorithms.has(alg)) {
      refuse('ERR_JOSE_ALG_NOT_ALLOWED', 'algorithm', 'The access token is signed with an algorithm that is not accepted');
    }
    const key = await this.resolveKey(jws);
    if (!keyFitsAlgorithm(key, alg) || !verifyJwsSignature(alg, key, jws.signingInput, jws.signature)) {
      refuse('ERR_JWS_SIGNATURE_VERIFICATION_FAILED', 'bad_signature', 'The access token signature is invalid');
    }
    if (this.tokenType !== undefined && (typeof typ !== 'string' || mediaType(typ) !== this.tokenType)) {
      claimFailed('typ', 'The access token is not of the expected type');
    }
    const claims = parseClaims(jws);
    this.checkClaims(claims, now);
    const frozen = freezeClaims(claims);
    this.remember({ token, claims: frozen, key, used: false });
    return frozen;
  }

  private async resolveKey({ header }: CompactJws): Promise<KeyObject> {
    try {
      return await this.options.keys.resolve(header);
    } catch (error) {
      if (!(error instanceof NoMatchingKeyError)) throw error;
      return refuse(error.code, 'unknown_key', 'The access token is signed with an unknown key');
    }
  }

  private checkClaims(claims: Record<string, unknown>, now: number): void {
    const tolerance = this.options.clockTolerance;
    for (const name of this.requiredClaims) {
      // Own members only: a claim named `constructor` is not present because every object inherits one.
      if (!Object.hasOwn(claims, name) || claims[name] === undefined) claimFailed(name, 'The access token lacks a required claim', 'missing');
    }
    if (typeof claims.iss !== 'string' || !this.issuers.has(claims.iss)) {
      claimFailed('iss', 'The access token was not issued by a trusted issuer');
    }
    const aud = claims.aud;
    const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!this.audiences.some((audience) => audiences.includes(audience))) {
      claimFailed('aud', 'The access token is not meant for this resource server');
    }
    for (const name of ['exp', 'nbf', 'iat']) {
      const value = claims[name];
      if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value))) {
        claimFailed(name, 'The access token has an invalid claim', 'invalid');
      }
    }
    if (notYetValid(claims, now, tolerance)) claimFailed('nbf', 'The access token is not valid yet');
    if (expired(claims, now, tolerance)) refuse('ERR_JWT_EXPIRED', 'check_failed', 'The access token has expired', 'exp');
  }

  private stillValid({ claims, key }: CacheEntry, now: number): boolean {
    const tolerance = this.options.clockTolerance;
    return this.options.keys.isCurrent(key) && !expired(claims, now, tolerance) && !notYetValid(claims, now, tolerance);
  }

  /**
   * Second-chance LRU: an entry used since it was queued goes round once more instead of being evicted,
   * so hits cost a flag write rather than a reordering, and eviction is amortised O(1).
   */
  private remember(entry: CacheEntry): void {
    const { cacheSize } = this.options;
    if (cacheSize === 0) return;
    while (this.cache.size >= cacheSize) {
      const [key, oldest] = this.cache.entries().next().value!;
      this.cache.delete(key);
      if (oldest.used) {
        oldest.used = false;
        this.cache.set(key, oldest);
      }
    }
    this.cache.set(cacheKey(entry.token), entry);
  }
}
