import type { BearerChallenge } from './step-up.challenge.js';

const ORIGIN = 'http://step-up.invalid';

/** Whether an `Accept` header ranks HTML above JSON, as a browser navigation does. */
export function prefersHtml(accept: string | undefined): boolean {
  if (!accept) return false;
  let html = 0;
  let json = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((part) => part.trim().toLowerCase());
    const q = params.find((param) => param.startsWith('q='));
    const quality = q === undefined ? 1 : Number(q.slice(2)) || 0;
    if (type === 'text/html') html = Math.max(html, quality);
    else if (type === 'application/json' || type === 'application/problem+json') json = Math.max(json, quality);
  }
  return html > 0 && html > json;
}

/**
 * The path and query of a request target, only if it stays on this origin: anything that would leave
 * it (`//host`, `/\host`, an absolute URL, control characters) becomes `/`. Never an open redirect.
 */
export function sameOriginPath(target: string): string {
  if (!target.startsWith('/') || /[\x00-\x1f\x7f\\]/.test(target)) return '/';
  try {
    const url = new URL(target, ORIGIN);
    const path = `${url.pathname}${url.search}`;
    // Checked on the result, not the input: dot segments can leave `//host` behind (`/a/..//evil.com`).
    // And a login page that percent-decodes return_to once more, then resolves it as a URL, must not
    // find `//host`, `/\host` or control characters (`/%2F%2Fevil.com`, `/..%2F%2Fevil.com`) either.
    return url.origin === ORIGIN && isLocalPath(path) && staysLocal(decodeOnce(path)) ? path : '/';
  } catch {
    return '/';
  }
}

const isLocalPath = (path: string) => /^\/(?![/\\])/.test(path) && !/[\x00-\x1f\x7f]/.test(path);

/** A local path that is still one once resolved as a URL, its dot segments removed. */
function staysLocal(path: string): boolean {
  if (!isLocalPath(path)) return false;
  const url = new URL(path, ORIGIN);
  return url.origin === ORIGIN && isLocalPath(url.pathname);
}

function decodeOnce(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path; // a malformed escape decodes to nothing else
  }
}

/**
 * Where to send a browser to step up: the re-authentication page with `acr_values`, `max_age`, the `scope`
 * the route also lacks (so that one sign-in fixes both), and `return_to`.
 */
export function reauthenticationLocation(
  reauthenticateUrl: string,
  { acrValues, maxAge, scope }: Pick<BearerChallenge, 'acrValues' | 'maxAge' | 'scope'>,
  returnTo: string,
): string {
  const url = new URL(reauthenticateUrl, ORIGIN);
  if (acrValues?.length) url.searchParams.set('acr_values', acrValues.join(' '));
  if (maxAge !== undefined) url.searchParams.set('max_age', String(maxAge));
  if (scope?.length) url.searchParams.set('scope', scope.join(' '));
  url.searchParams.set('return_to', sameOriginPath(returnTo));
  return url.origin === ORIGIN ? `${url.pathname}${url.search}${url.hash}` : url.href;
}
