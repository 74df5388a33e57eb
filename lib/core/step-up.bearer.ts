/** What an `Authorization` header holds, as far as Bearer tokens go (RFC 6750 §2.1). */
export type BearerCredentials =
  | { readonly kind: 'none' }
  | { readonly kind: 'token'; readonly token: string }
  | { readonly kind: 'malformed'; readonly description: string };

const NONE: BearerCredentials = Object.freeze({ kind: 'none' });
// b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
// The scheme is the whole auth-scheme token "Bearer", in any case; RFC 6750 separates it from the token by 1*SP.
const BEARER_SCHEME = /^bearer(?![!#$%&'*+\-.^_`|~0-9A-Za-z])/i;

function malformed(description: string): BearerCredentials {
  return { kind: 'malformed', description };
}

/**
 * Reads the Bearer token from the values of the `Authorization` header. No header, or another scheme,
 * is `none` (the client sent no bearer credentials). An empty header, several headers, a token with
 * characters outside `b64token`, two tokens or an oversized one is `malformed`. The length is checked
 * before anything else is looked at.
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
  // "Bearer " plus the token, with room for the spaces RFC 6750's 1*SP allows.
  if (values.length > maxTokenLength + 64) {
    return malformed(`The access token must not exceed ${maxTokenLength} characters`);
  }
  const header = values.trim();
  if (header === '') return malformed('The Authorization header is empty');
  const scheme = BEARER_SCHEME.exec(header);
  if (!scheme) return NONE;
  const rest = header.slice(scheme[0].length);
  if (rest === '') return malformed('The Bearer credentials hold no token');
  const token = rest.replace(/^ +/, '');
  if (token === rest) return malformed('The Bearer credentials must be exactly one token');
  if (token.length > maxTokenLength) {
    return malformed(`The access token must not exceed ${maxTokenLength} characters`);
  }
  if (!B64TOKEN.test(token)) return malformed('The Bearer credentials must be exactly one token');
  return { kind: 'token', token };
}
