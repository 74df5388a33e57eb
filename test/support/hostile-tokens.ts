import { createHmac, KeyObject, sign as nodeSign } from 'node:crypto';
import type { SigningKey } from './test-issuer.js';

export const b64url = (input: string | Buffer): string => Buffer.from(input).toString('base64url');

/** The private key of a test signing key as a Node `KeyObject`, for signing outside jose's checks. */
export function privateKeyObject(key: SigningKey): KeyObject {
  return KeyObject.from(key.privateKey as unknown as Parameters<typeof KeyObject.from>[0]);
}

/**
 * A compact JWS whose header and payload are written exactly as given: `payload` may be raw JSON text
 * (so it can hold `__proto__` members, `1e309` or duplicate names, which no object literal can express).
 * Signed with Node's crypto, without any of jose's producer-side checks (`crit`, `b64`, finite dates).
 */
export function signRaw(header: Record<string, unknown>, payload: string | Record<string, unknown>, key: SigningKey): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(typeof payload === 'string' ? payload : JSON.stringify(payload))}`;
  const privateKey = privateKeyObject(key);
  const signature =
    key.alg === 'ES256'
      ? nodeSign('sha256', Buffer.from(input), { key: privateKey, dsaEncoding: 'ieee-p1363' })
      : nodeSign('sha256', Buffer.from(input), privateKey);
  return `${input}.${b64url(signature)}`;
}

/** An HMAC-signed token whose secret is attacker-known text, e.g. the issuer's public key (alg confusion). */
export function signHmac(header: Record<string, unknown>, payload: Record<string, unknown>, secret: string | Buffer): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** An unsecured JWT (RFC 7519 §6): `alg` as given (any casing of "none"), empty signature. */
export function unsecured(alg: string, payload: Record<string, unknown>, extraHeader: Record<string, unknown> = {}): string {
  return `${b64url(JSON.stringify({ alg, typ: 'at+jwt', ...extraHeader }))}.${b64url(JSON.stringify(payload))}.`;
}

