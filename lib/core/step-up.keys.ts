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

/** The JWS algorithms a key source can verify: RFC 7518's asymmetric ones and EdDSA (RFC 8037). */
export const JWS_ALGORITHMS: readonly string[] = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'];

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

const entryFits = (entry: KeyEntry, alg: string) => (entry.alg === undefined || entry.alg === alg) && keyFitsAlgorithm(entry.key, alg);
const verifiesAny = (entry: KeyEntry, algorithms: readonly string[]) => algorithms.some((alg) => entryFits(entry, alg));

function selectKey(entries: readonly KeyEntry[], { alg, kid }: KeySelector): KeyObject | undefined {
  if (typeof alg !== 'string') return undefined;
  const candidates = entries.filter((entry) => (kid === undefined || entry.kid === kid) && entryFits(entry, alg));
  // Without a kid, more than one candidate would mean guessing: refuse rather than try each.
  return candidates.length === 1 || (kid !== undefined && candidates.length > 0) ? candidates[0]!.key : undefined;
}

/**
 * The public verification keys of a JWK Set document that can verify one of the algorithms, skipping
 * symmetric keys, keys meant for other uses (`use`, `key_ops`: RFC 7517 §4.2, §4.3), and keys too weak
 * or of a type no accepted algorithm uses.
 */
function importJwkSet(document: unknown, reuse: ReadonlyMap<string, KeyObject>, algorithms: readonly string[]): KeyEntry[] {
  const keys = (document as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys)) throw new TypeError('the JWK Set has no "keys" array');
  const entries: KeyEntry[] = [];
  for (const jwk of keys as JsonWebKey[]) {
    if (typeof jwk !== 'object' || jwk === null || jwk.kty === 'oct') continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) continue;
    const { kty, crv, n, e, x, y } = jwk;
    const material = JSON.stringify([kty, crv, n, e, x, y]);
    let key = reuse.get(material);
    try {
      key ??= createPublicKey({ key: { kty, crv, n, e, x, y } as JsonWebKey, format: 'jwk' });
    } catch {
      continue; // a key this runtime cannot read cannot verify anything either
    }
    const entry = { kid: typeof jwk.kid === 'string' ? jwk.kid : undefined, alg: typeof jwk.alg === 'string' ? jwk.alg : undefined, key, material };
    if (verifiesAny(entry, algorithms)) entries.push(entry);
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

export type StaticKeyInput = JsonWebKey | string | KeyObject;

const isKeyObject = (input: Exclude<StaticKeyInput, string>): input is KeyObject => 'asymmetricKeyType' in input || 'type' in input;

function isPrivateKey(input: StaticKeyInput): boolean {
  if (typeof input === 'string') return /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/.test(input);
  return isKeyObject(input) ? input.type === 'private' : 'd' in input;
}

/** A key that is not private, as an entry; undefined for a JWK no algorithm can use. Throws on an unreadable PEM. */
function readPublicKey(input: StaticKeyInput, algorithms: readonly string[]): KeyEntry | undefined {
  if (typeof input === 'string') return { kid: undefined, alg: undefined, key: createPublicKey(input) };
  return isKeyObject(input) ? { kid: undefined, alg: undefined, key: input } : importJwkSet({ keys: [input] }, new Map(), algorithms)[0];
}

/** The key at `index` as an entry that can verify one of the algorithms, or what is wrong with it. */
function importStaticKey(input: StaticKeyInput, index: number, algorithms: readonly string[]): KeyEntry | string {
  // Whoever holds the private key can sign any token: it belongs with the issuer, not here.
  if (isPrivateKey(input)) return `keys[${index}] is a private key: pass only its public half (createPublicKey(key))`;
  let entry: KeyEntry | undefined;
  try {
    entry = readPublicKey(input, algorithms);
  } catch (error) {
    return `keys[${index}] cannot be read as a PEM public key or certificate: ${error instanceof Error ? error.message : String(error)}`;
  }
  if (entry && verifiesAny(entry, algorithms)) return entry;
  return (
    `keys[${index}] is not a public key that can verify ${algorithms.join(', ')}: ` +
    'check its type and size (RSA needs 2048 bits), its alg, and its use or key_ops (they must allow verification)'
  );
}

/** What is wrong with each key that {@link StaticKeySource} would refuse, so that all can be reported at once. */
export function staticKeyProblems(keys: readonly StaticKeyInput[], algorithms: readonly string[] = JWS_ALGORITHMS): string[] {
  return keys.flatMap((input, index) => {
    const imported = importStaticKey(input, index, algorithms);
    return typeof imported === 'string' ? [imported] : [];
  });
}

/**
 * Keys given at start-up: JWKs, PEM-encoded public keys or certificates, or `KeyObject`s. A private key,
 * or a key that can verify none of the algorithms (an encryption key, RSA under 2048 bits, X25519), is
 * refused here with a `TypeError` naming it.
 */
export class StaticKeySource implements KeySource {
  private readonly entries: readonly KeyEntry[];
  private readonly current: ReadonlySet<KeyObject>;

  constructor(keys: readonly StaticKeyInput[], algorithms: readonly string[] = JWS_ALGORITHMS) {
    this.entries = keys.map((input, index) => {
      const imported = importStaticKey(input, index, algorithms);
      if (typeof imported === 'string') throw new TypeError(imported);
      return imported;
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
  /** Keep only keys that can verify one of these. Default: every algorithm in {@link JWS_ALGORITHMS}. */
  readonly algorithms?: readonly string[];
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

  /** The URL as logged: no query string, which may carry an API key. */
  private readonly location: string;

  constructor(
    private readonly url: URL,
    private readonly options: RemoteKeySourceOptions,
  ) {
    this.location = url.origin + url.pathname;
  }

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
      const entries = importJwkSet(JSON.parse(await readLimited(response, MAX_JWKS_BYTES)), held, this.options.algorithms ?? JWS_ALGORITHMS);
      // A set with no usable key is a broken answer, not a rotation: dropping every key would refuse every user.
      if (entries.length === 0) throw new Error('the JWK Set holds no key that can verify an accepted algorithm');
      this.entries = entries;
      this.current = new Set(entries.map(({ key }) => key));
      this.loaded = true;
      if (this.failing) this.options.logger?.log(`JWKS ${this.location} is reachable again`);
      this.failing = false;
    } catch (error) {
      // Logged once per outage, not once per request; a fetch that outlives close() stays silent.
      if (!this.failing && !this.closed) {
        const reason = error instanceof Error ? error.message : String(error);
        const consequence = this.entries.length ? 'keys already held stay in use' : 'no signing keys yet: tokens get 503 until it loads';
        this.options.logger?.warn(`JWKS ${this.location} could not be loaded (${reason}); ${consequence}`);
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
