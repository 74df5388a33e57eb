import { constants, verify, type KeyObject } from 'node:crypto';

/** The protected header of a JWS, as far as verification goes. */
export interface JwsHeader {
  readonly alg: string;
  readonly kid?: unknown;
  readonly typ?: unknown;
  readonly [member: string]: unknown;
}

/** A compact JWS split into its parts; nothing is trusted yet. */
export interface CompactJws {
  readonly header: JwsHeader;
  readonly signingInput: string;
  readonly signature: Uint8Array;
  readonly payload: string;
}

/** Why a compact JWS was refused before its signature was checked. */
export class JwsFormatError extends Error {
  constructor(readonly reason: 'malformed' | 'unsupported') {
    super(reason === 'malformed' ? 'The JWS is malformed' : 'The JWS uses an unsupported feature');
    this.name = 'JwsFormatError';
  }
}

const BASE64URL = /^[A-Za-z0-9_-]*$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Strict base64url (RFC 7515 §2): its alphabet only, no padding, and canonical (RFC 4648 §3.5), so that
 * a token has one spelling only: a last character with its unused bits set would otherwise decode the same.
 */
function decodeSegment(segment: string): Buffer {
  if (!BASE64URL.test(segment)) throw new JwsFormatError('malformed');
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) throw new JwsFormatError('malformed');
  return bytes;
}

function decodeText(segment: string): string {
  try {
    return UTF8.decode(decodeSegment(segment));
  } catch (error) {
    if (error instanceof JwsFormatError) throw error;
    throw new JwsFormatError('malformed');
  }
}

function decodeObject(segment: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decodeText(segment));
  } catch (error) {
    if (error instanceof JwsFormatError) throw error;
    throw new JwsFormatError('malformed');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new JwsFormatError('malformed');
  return value as Record<string, unknown>;
}

/**
 * Splits a JWS in compact serialization (RFC 7515 §7.1). A JWE (five parts), an unsecured JWS, or a
 * header with `crit` (no extension is understood here, so RFC 7515 §4.1.11 requires refusal) is refused.
 * `jku`, `x5u`, `jwk` and `x5c` are never looked at: keys come only from the configured key source.
 */
export function parseCompactJws(token: string): CompactJws {
  const parts = token.split('.');
  if (parts.length !== 3) throw new JwsFormatError('malformed');
  const [encodedHeader, encodedPayload, encodedSignature] = parts as [string, string, string];
  const header = decodeObject(encodedHeader);
  if (typeof header.alg !== 'string') throw new JwsFormatError('malformed');
  if (header.crit !== undefined) throw new JwsFormatError('unsupported');
  const signature = decodeSegment(encodedSignature);
  if (signature.length === 0) throw new JwsFormatError('malformed');
  const payload = decodeText(encodedPayload);
  return { header: header as JwsHeader, signingInput: `${encodedHeader}.${encodedPayload}`, signature, payload };
}

const DIGEST: Readonly<Record<string, string>> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/**
 * Checks a JWS signature with Node's crypto and a `KeyObject`: the same primitives WebCrypto uses, without
 * its per-call overhead. The caller has already checked that the key fits the algorithm.
 */
export function verifyJwsSignature(alg: string, key: KeyObject, signingInput: string, signature: Uint8Array): boolean {
  const data = Buffer.from(signingInput, 'latin1');
  const digest = DIGEST[alg.slice(2)];
  try {
    if (alg === 'EdDSA' || alg === 'Ed25519') return verify(null, data, key, signature);
    if (digest === undefined) return false;
    switch (alg.slice(0, 2)) {
      case 'RS':
        return verify(digest, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
      case 'PS':
        return verify(digest, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }, signature);
      case 'ES':
        return verify(digest, data, { key, dsaEncoding: 'ieee-p1363' }, signature);
      default:
        return false;
    }
  } catch {
    return false; // a signature of the wrong length or shape is simply not valid
  }
}
