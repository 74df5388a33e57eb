import type { BearerErrorCode } from './step-up.constants.js';

/** The parameters of a `Bearer` challenge (RFC 6750 §3, RFC 9470 §3). */
export interface BearerChallenge {
  readonly realm?: string;
  readonly error?: BearerErrorCode;
  readonly errorDescription?: string;
  /** Acceptable acr values, in order of preference. */
  readonly acrValues?: readonly string[];
  /** Allowable seconds since the user last actively authenticated. */
  readonly maxAge?: number;
  readonly scope?: readonly string[];
}

/** A challenge as read back from a `WWW-Authenticate` header. */
export interface ParsedChallenge {
  /** The auth-scheme as sent (compare case-insensitively). */
  readonly scheme: string;
  readonly token68?: string;
  /** Parameters by lower-cased name, values unquoted. */
  readonly params: Readonly<Record<string, string>>;
}

export interface ParsedStepUpChallenge {
  readonly realm?: string;
  readonly error?: string;
  readonly errorDescription?: string;
  readonly errorUri?: string;
  readonly acrValues: string[];
  readonly maxAge?: number;
  readonly scope: string[];
}

/** Thrown by the parsers for a header that does not follow RFC 9110 §11.6.1. */
export class ChallengeParseError extends Error {
  readonly code = 'ERR_CHALLENGE_MALFORMED';
  constructor(
    readonly reason: string,
    readonly position: number,
  ) {
    super(`Malformed WWW-Authenticate header at ${position}: ${reason}`);
    this.name = 'ChallengeParseError';
  }
}

// RFC 6750 §3: error, error_description and scope values use %x20-21 / %x23-5B / %x5D-7E, which keeps
// CR, LF, quote and backslash (and so header injection) out of every value we write.
const CHALLENGE_TEXT = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/;
// One scope-token or acr value: the same set without the space that separates them.
const CHALLENGE_ITEM = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

export function isChallengeText(value: string): boolean {
  return CHALLENGE_TEXT.test(value);
}

export function isChallengeItem(value: string): boolean {
  return CHALLENGE_ITEM.test(value);
}

/** Throws unless every value can be written as an acr value or scope-token of a challenge. */
export function assertChallengeItems(values: readonly unknown[], what: string): asserts values is readonly string[] {
  // From JavaScript a lone string gets here too, and would pass as a list of its characters.
  if (!Array.isArray(values)) throw new TypeError(`${what} must be given as a list of strings, not ${JSON.stringify(values)}`);
  for (const value of values) {
    if (typeof value !== 'string' || !isChallengeItem(value)) {
      throw new TypeError(
        `${what} ${JSON.stringify(value)} is not valid: use visible ASCII without spaces, quotes or backslashes (RFC 6750 §3)`,
      );
    }
  }
}

function quoted(name: string, value: string): string {
  if (!CHALLENGE_TEXT.test(value)) {
    throw new TypeError(`Refusing to write ${name}: it holds a character outside RFC 6750's set`);
  }
  return `${name}="${value}"`;
}

/** Writes the value of a `WWW-Authenticate` header for a Bearer challenge. */
export function formatBearerChallenge(challenge: BearerChallenge): string {
  const params: string[] = [];
  if (challenge.realm !== undefined) params.push(quoted('realm', challenge.realm));
  if (challenge.error !== undefined) params.push(quoted('error', challenge.error));
  if (challenge.errorDescription !== undefined) {
    params.push(quoted('error_description', challenge.errorDescription));
  }
  if (challenge.acrValues?.length) params.push(quoted('acr_values', challenge.acrValues.join(' ')));
  if (challenge.maxAge !== undefined) params.push(quoted('max_age', String(challenge.maxAge)));
  if (challenge.scope?.length) params.push(quoted('scope', challenge.scope.join(' ')));
  return params.length ? `Bearer ${params.join(', ')}` : 'Bearer';
}

// RFC 9110 §5.6.2 tchar, and token68 (§11.2).
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;
const TOKEN68_CHAR = /[A-Za-z0-9\-._~+/]/;

class ChallengeReader {
  private position = 0;

  constructor(private readonly text: string) {}

  get done(): boolean {
    return this.position >= this.text.length;
  }

  peek(offset = 0): string {
    return this.text.charAt(this.position + offset);
  }

  fail(reason: string): never {
    throw new ChallengeParseError(reason, this.position);
  }

  skipWhitespace(): void {
    while (this.peek() === ' ' || this.peek() === '\t') this.position++;
  }

  skipListSeparators(): void {
    while (this.peek() === ',' || this.peek() === ' ' || this.peek() === '\t') this.position++;
  }

  token(): string {
    const start = this.position;
    while (!this.done && TCHAR.test(this.peek())) this.position++;
    return this.text.slice(start, this.position);
  }

  /** True when an `auth-param` (token BWS "=" BWS value) starts here. */
  atAuthParam(): boolean {
    let offset = 0;
    while (TCHAR.test(this.peek(offset))) offset++;
    if (offset === 0) return false;
    while (this.peek(offset) === ' ' || this.peek(offset) === '\t') offset++;
    if (this.peek(offset) !== '=') return false;
    offset++;
    while (this.peek(offset) === ' ' || this.peek(offset) === '\t') offset++;
    return this.peek(offset) === '"' || TCHAR.test(this.peek(offset));
  }

  token68(): string | undefined {
    let offset = 0;
    while (TOKEN68_CHAR.test(this.peek(offset))) offset++;
    if (offset === 0) return undefined;
    while (this.peek(offset) === '=') offset++;
    let end = offset;
    while (this.peek(end) === ' ' || this.peek(end) === '\t') end++;
    if (this.peek(end) !== '' && this.peek(end) !== ',') return undefined;
    const value = this.text.slice(this.position, this.position + offset);
    this.position += offset;
    return value;
  }

  quotedString(): string {
    this.position++; // opening quote
    let value = '';
    for (;;) {
      if (this.done) this.fail('unterminated quoted-string');
      const char = this.peek();
      this.position++;
      if (char === '"') return value;
      if (char === '\\') {
        if (this.done) this.fail('unterminated quoted-pair');
        value += this.peek();
        this.position++;
      } else {
        value += char;
      }
    }
  }

  authParam(): [string, string] {
    const name = this.token().toLowerCase();
    this.skipWhitespace();
    this.position++; // "=", guaranteed by atAuthParam
    this.skipWhitespace();
    const value = this.peek() === '"' ? this.quotedString() : this.token();
    return [name, value];
  }
}

/** Reads every challenge of a `WWW-Authenticate` header value (RFC 9110 §11.6.1). */
export function parseChallenges(header: string): ParsedChallenge[] {
  const reader = new ChallengeReader(header);
  const challenges: ParsedChallenge[] = [];
  reader.skipListSeparators();
  while (!reader.done) {
    const scheme = reader.token();
    if (!scheme) reader.fail('expected an auth-scheme');
    const params: Record<string, string> = Object.create(null);
    let token68: string | undefined;
    reader.skipWhitespace();
    if (reader.atAuthParam()) {
      for (;;) {
        const [name, value] = reader.authParam();
        if (name in params) reader.fail(`parameter "${name}" repeated`);
        params[name] = value;
        reader.skipWhitespace();
        if (reader.done) break;
        if (reader.peek() !== ',') reader.fail('expected "," between parameters');
        reader.skipListSeparators();
        if (!reader.atAuthParam()) break;
      }
    } else if (!reader.done && reader.peek() !== ',') {
      token68 = reader.token68();
      if (token68 === undefined) reader.fail('expected auth-params or a token68');
    }
    challenges.push(token68 === undefined ? { scheme, params } : { scheme, token68, params });
    reader.skipListSeparators();
  }
  return challenges;
}

function spaceSeparated(value: string | undefined): string[] {
  return value === undefined ? [] : value.split(' ').filter(Boolean);
}

/**
 * Reads the Bearer challenge of a `WWW-Authenticate` header, as a client does before it steps up
 * (RFC 9470 §3). Returns `undefined` when the header holds no Bearer challenge; throws
 * {@link ChallengeParseError} when it is malformed.
 */
export function parseStepUpChallenge(header: string): ParsedStepUpChallenge | undefined {
  const bearer = parseChallenges(header).find(({ scheme }) => scheme.toLowerCase() === 'bearer');
  if (!bearer) return undefined;
  const { realm, error, error_description, error_uri, acr_values, max_age, scope } = bearer.params;
  if (max_age !== undefined && !(/^\d+$/.test(max_age) && Number.isSafeInteger(Number(max_age)))) {
    throw new ChallengeParseError('max_age is not a non-negative integer of seconds', header.indexOf('max_age'));
  }
  return {
    ...(realm !== undefined && { realm }),
    ...(error !== undefined && { error }),
    ...(error_description !== undefined && { errorDescription: error_description }),
    ...(error_uri !== undefined && { errorUri: error_uri }),
    acrValues: spaceSeparated(acr_values),
    ...(max_age !== undefined && { maxAge: Number(max_age) }),
    scope: spaceSeparated(scope),
  };
}
