import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';

/** The JWS header members that pick a verification key. */
export interface KeySelector {
  readonly alg?: string;
  readonly kid?: unknown;
}

/** Where verification keys come from: a remote JWKS or keys given at start-up. */
export interface KeySource {
  /** The key for a token's header. Throws {@link NoMatchingKeyError} or {@link KeySetUnavailableError}. */
  resolve(selector: KeySelector): KeyObject | Promise<KeyObject>;
  /** False once the key has left the key set: what it verified must not be trusted any longer. */
  isCurrent(key: KeyObject): boolean;
  close(): void;
}

/** Where the core reports faults it recovers from; Nest's `Logger` fits. */
export interface StepUpLogger {
  warn(message: string): void;
  log(message: string): void;
}

/** The token names a key that the key set does not hold: the token is invalid. */
export class NoMatchingKeyError extends Error {
  readonly code = 'ERR_NO_MATCHING_KEY';
  constructor() {
    super('No verification key matches the token header');
    this.name = 'NoMatchingKeyError';
  }
}

/** The key set cannot be had right now: a server-side fault, not the client's. */
export class KeySetUnavailableError extends Error {
  readonly code = 'ERR_KEY_SET_UNAVAILABLE';
  constructor(
    readonly retryAfterSeconds: number,
    options?: ErrorOptions,
  ) {
    super('The signing key set is unavailable', options);
    this.name = 'KeySetUnavailableError';
  }
}

interface KeyEntry {
  readonly kid: string | undefined;
  readonly alg: string | undefined;
  readonly key: KeyObject;
  /** The JWK's public parameters, so a refresh keeps the same `KeyObject` for the same key. */
  readonly material?: string;
}

const EC_ALGORITHM: Readonly<Record<string, string>> = {
  prime256v1: 'ES256',
  secp384r1: 'ES384',
  secp521r1: 'ES512',
};

// RFC 7518 §3.3: RSA keys of 2048 bits or more.
const hasSafeModulus = (key: KeyObject) => (key.asymmetricKeyDetails?.modulusLength ?? 0) >= 2048;

/** Whether a public key can verify a JWS algorithm at all (RFC 7518 §3, RFC 8037). */
export function keyFitsAlgorithm(key: KeyObject, alg: string): boolean {
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return /^(RS|PS)(256|384|512)$/.test(alg) && hasSafeModulus(key);
    case 'rsa-pss':
      return /^PS(256|384|512)$/.test(alg) && hasSafeModulus(key);
    case 'ec':
      return EC_ALGORITHM[key.asymmetricKeyDetails?.namedCurve ?? ''] === alg;
    case 'ed25519':
      return alg === 'EdDSA' || alg === 'Ed25519';
    default:
      return false;
  }
}

function selectKey(entries: readonly KeyEntry[], { alg, kid }: KeySelector): KeyObject | undefined {
  if (typeof alg !== 'string') return undefined;
  const candidates = entries.filter(
    (entry) =>
      (kid === undefined || entry.kid === kid) &&
      (entry.alg === undefined || entry.alg === alg) &&
      keyFitsAlgorithm(entry.key, alg),
  );
  // Without a kid, more than one candidate would mean guessing: refuse rather than try each.
  return candidates.length === 1 || (kid !== undefined && candidates.length > 0) ? candidates[0]!.key : undefined;
}

/** The public verification keys of a JWK Set document, skipping encryption and symmetric keys. */
function importJwkSet(document: unknown, reuse: ReadonlyMap<string, KeyObject>): KeyEntry[] {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new TypeError('the JWK Set has no "keys" array');
  const entries: KeyEntry[] = [];
  for (const jwk of keys as JsonWebKey[]) {
    if (typeof jwk !== 'object' || jwk === null || jwk.kty === 'oct') continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    const { kty, crv, n, e, x, y } = jwk;
    const material = JSON.stringify([kty, crv, n, e, x, y]);
    let key = reuse.get(material);
    try {
      key ??= createPublicKey({ key: { kty, crv, n, e, x, y } as JsonWebKey, format: 'jwk' });
    } catch {
      continue; // a key this runtime cannot read cannot verify anything either
    }
    entries.push({
      kid: typeof jwk.kid === 'string' ? jwk.kid : undefined,
      alg: typeof jwk.alg === 'string' ? jwk.alg : undefined,
      key,
      material,
    });
  }
  return entries;
}

/** A JWK Set is a few kilobytes; a body far larger is refused rather than buffered. */
const MAX_JWKS_BYTES = 512 * 1024;

async function readLimited(response: Response, limit: number): Promise<string> {
  if (Number(response.headers.get('content-length') ?? 0) > limit) throw new Error(`the JWK Set exceeds ${limit} bytes`);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of response.body ?? []) {
    size += chunk.byteLength;
    if (size > limit) throw new Error(`the JWK Set exceeds ${limit} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** Keys given at start-up: JWKs, PEM-encoded public keys or certificates, or `KeyObject`s. */
export class StaticKeySource implements KeySource {
  private readonly entries: readonly KeyEntry[];
  private readonly current: ReadonlySet<KeyObject>;

  constructor(keys: ReadonlyArray<JsonWebKey | string | KeyObject>) {
    this.entries = keys.map((input) => {
      if (typeof input === 'string') return { kid: undefined, alg: undefined, key: createPublicKey(input) };
      if ('asymmetricKeyType' in input || 'type' in input) {
        const key = input as KeyObject;
        return { kid: undefined, alg: undefined, key: key.type === 'private' ? createPublicKey(key) : key };
      }
      const [entry] = importJwkSet({ keys: [input] }, new Map());
      if (!entry) throw new TypeError('keys: a JWK is not a public signature key');
      return entry;
    });
    this.current = new Set(this.entries.map(({ key }) => key));
  }

  resolve(selector: KeySelector): KeyObject {
    const key = selectKey(this.entries, selector);
    if (!key) throw new NoMatchingKeyError();
    return key;
  }

  isCurrent(key: KeyObject): boolean {
    return this.current.has(key);
  }

  close(): void {}
}

export interface RemoteKeySourceOptions {
  /** Abort a JWKS request after this many milliseconds. */
  readonly timeoutMs: number;
  /** At most one fetch per this many milliseconds for an unknown `kid` or after a failure. */
  readonly cooldownMs: number;
  /** Re-fetch the key set in the background this often, so rotations are seen before tokens use them. */
  readonly refreshIntervalMs: number;
  readonly logger?: StepUpLogger;
}

/**
 * A JWK Set fetched from `jwks_uri`. One fetch serves every request waiting on it; an unknown `kid`
 * triggers at most one fetch per cooldown; the set is refreshed in the background, and keys already held
 * keep working while the endpoint is down. A key that leaves the set stops verifying.
 */
export class RemoteKeySource implements KeySource {
  private entries: readonly KeyEntry[] = [];
  private current: ReadonlySet<KeyObject> = new Set();
  private loaded = false;
  private pending: Promise<void> | undefined;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private failing = false;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly url: URL,
    private readonly options: RemoteKeySourceOptions,
  ) {}

  /** Loads the key set once and starts the background refresh. Never throws: the app boots regardless. */
  async start(): Promise<void> {
    await this.refresh().catch(() => undefined);
    this.schedule();
  }

  async resolve(selector: KeySelector): Promise<KeyObject> {
    const held = selectKey(this.entries, selector);
    if (held) return held;
    const waited = Date.now() - this.lastAttemptAt;
    if (this.pending === undefined && waited < this.options.cooldownMs) {
      if (this.loaded && !this.failing) throw new NoMatchingKeyError();
      throw new KeySetUnavailableError(Math.ceil((this.options.cooldownMs - waited) / 1000));
    }
    try {
      await this.refresh();
    } catch (cause) {
      throw new KeySetUnavailableError(Math.ceil(this.options.cooldownMs / 1000), { cause });
    }
    const fetched = selectKey(this.entries, selector);
    if (!fetched) throw new NoMatchingKeyError();
    return fetched;
  }

  isCurrent(key: KeyObject): boolean {
    return this.current.has(key);
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
  }

  private refresh(): Promise<void> {
    this.pending ??= this.fetchKeys().finally(() => (this.pending = undefined));
    return this.pending;
  }

  private async fetchKeys(): Promise<void> {
    this.lastAttemptAt = Date.now();
    try {
      const response = await fetch(this.url, {
        headers: { accept: 'application/jwk-set+json, application/json' },
        redirect: 'error',
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const held = new Map(this.entries.map(({ material, key }) => [material!, key]));
      const entries = importJwkSet(JSON.parse(await readLimited(response, MAX_JWKS_BYTES)), held);
      // A set with no usable key is a broken answer, not a rotation: dropping every key would refuse every user.
      if (entries.length === 0) throw new Error('the JWK Set holds no usable signature key');
      this.entries = entries;
      this.current = new Set(entries.map(({ key }) => key));
      this.loaded = true;
      if (this.failing) this.options.logger?.log(`JWKS ${this.url.href} is reachable again`);
      this.failing = false;
    } catch (error) {
      // Logged once per outage, not once per request; a fetch that outlives close() stays silent.
      if (!this.failing && !this.closed) {
        const reason = error instanceof Error ? error.message : String(error);
        this.options.logger?.warn(`JWKS ${this.url.href} could not be loaded (${reason}); keys already held stay in use`);
      }
      this.failing = true;
      throw error;
    }
  }

  private schedule(): void {
    if (this.closed) return;
    const delay = this.failing ? this.options.cooldownMs : this.options.refreshIntervalMs;
    this.timer = setTimeout(() => {
      void this.refresh()
        .catch(() => undefined)
        .finally(() => this.schedule());
    }, delay);
    this.timer.unref();
  }
}
