import { isVisibleAscii, startsWithLettersIgnoringCase } from './step-up.ascii.js';

/** What an `Authorization` header holds, as far as Bearer tokens go (RFC 6750 §2.1). */
export type BearerCredentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'malformed'; readonly description: string };

const NONE: BearerCredentials = Object.freeze({ kind: 'none' });
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const SCHEME = 'bearer';
/** The scheme as nearly every client writes it, with the one space before the token. */
const CANONICAL_PREFIX = 'Bearer ';
const SPACE = 0x20;
const TCHAR = /[!#$%&'*+\-.^_`|~0-9A-Za-z]/;

/** Whether the header's auth-scheme is exactly "Bearer", in any case (RFC 9110 §11.1). */
function isBearerScheme(header: string): boolean {
  if (!startsWithLettersIgnoringCase(header, SCHEME)) return false;
  return (
    header.length === SCHEME.length || header.charCodeAt(SCHEME.length) === SPACE || !TCHAR.test(header.charAt(SCHEME.length))
  );
}

/** The description of every Bearer credentials syntax error past the scheme. */
export const ONE_TOKEN = 'The Bearer credentials must be exactly one token';

/** The description of a token over the length limit. */
export const tooLongDescription = (maxTokenLength: number) => `The access token must not exceed ${maxTokenLength} characters`;

function malformed(description: string): BearerCredentials {
  return { kind: 'malformed', description };
}

/** Whether a token is an RFC 6750 `b64token`, the only syntax Bearer credentials may have. */
export function isB64Token(token: string): boolean {
  return B64TOKEN.test(token);
}

/**
 * Reads the Bearer token from the values of the `Authorization` header. No header, or another scheme,
 * is `none` (the client sent no bearer credentials), whatever its length. An empty header, several headers,
 * no token or an oversized one is `malformed`. The length is checked right after the scheme, before the token.
 * The token's characters, and so whether it is one token (`Bearer a b` or `Bearer a,b` is not), are left
 * to {@link isB64Token}: a caller must run it on any token it does not already know, and can skip that
 * scan for one it does.
 */
export function readBearerCredentials(
  values: string | readonly string[] | undefined,
  maxTokenLength: number,
): BearerCredentials {
  if (values === undefined) return NONE;
  if (typeof values !== 'string') {
    if (values.length === 0) return NONE;
    if (values.length > 1) return malformed('Send exactly one Authorization header');
    values = values[0]!;
  }
  // The common form, "Bearer <token>" with nothing to trim, without the general parse below (which gives
  // the same answer): a cache hit spends most of its time here otherwise.
  if (
    values.slice(0, CANONICAL_PREFIX.length) === CANONICAL_PREFIX &&
    isVisibleAscii(values.charCodeAt(CANONICAL_PREFIX.length)) &&
    isVisibleAscii(values.charCodeAt(values.length - 1)) &&
    values.length - CANONICAL_PREFIX.length <= maxTokenLength
  ) {
    return { kind: 'token', token: values.slice(CANONICAL_PREFIX.length) };
  }
  const header = values.trim();
  if (header === '') return malformed('The Authorization header is empty');
  if (!isBearerScheme(header)) return NONE;
  // "Bearer " plus the token, with room for the spaces RFC 6750's 1*SP allows.
  if (header.length > maxTokenLength + 64) {
    return malformed(tooLongDescription(maxTokenLength));
  }
  if (header.length === SCHEME.length) return malformed('The Bearer credentials hold no token');
  let start = SCHEME.length;
  while (header.charCodeAt(start) === SPACE) start++;
  if (start === SCHEME.length) return malformed(ONE_TOKEN);
  const token = header.slice(start);
  if (token.length > maxTokenLength) {
    return malformed(tooLongDescription(maxTokenLength));
  }
  return { kind: 'token', token };
}
