import { constants, generateKeyPairSync, sign as nodeSign, type KeyObject } from 'node:crypto';
import { base64url, compactVerify, SignJWT } from 'jose';
import { JwsFormatError, parseCompactJws, verifyJwsSignature } from './step-up.jws.js';

const b64 = (value: unknown) => base64url.encode(typeof value === 'string' ? value : JSON.stringify(value));
const pairs = {
  ES256: generateKeyPairSync('ec', { namedCurve: 'P-256' }),
  ES384: generateKeyPairSync('ec', { namedCurve: 'P-384' }),
  RS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  PS256: generateKeyPairSync('rsa', { modulusLength: 2048 }),
  EdDSA: generateKeyPairSync('ed25519'),
};
type Alg = keyof typeof pairs;

const signed = (alg: Alg, payload: object = { sub: 'x' }, key: KeyObject = pairs[alg].privateKey) =>
  new SignJWT(payload as never).setProtectedHeader({ alg }).sign(key);

describe('parseCompactJws', () => {
  it('splits a JWS and decodes its header', async () => {
    const token = await signed('ES256');
    const jws = parseCompactJws(token);
    expect(jws.header).toEqual({ alg: 'ES256' });
    expect(JSON.parse(jws.payload)).toEqual({ sub: 'x' });
    expect(jws.signingInput).toBe(token.slice(0, token.lastIndexOf('.')));
  });

  it.each([
    ['a JWE (five parts)', `${b64({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.a.b.c.d`, 'malformed'],
    ['two parts', `${b64({ alg: 'ES256' })}.${b64({})}`, 'malformed'],
    ['an empty signature (unsecured JWS)', `${b64({ alg: 'none' })}.${b64({})}.`, 'malformed'],
    ['a header that is not JSON', `${b64('nope')}.${b64({})}.c2ln`, 'malformed'],
    ['a header that is an array', `${b64(['ES256'])}.${b64({})}.c2ln`, 'malformed'],
    ['a header without alg', `${b64({ kid: 'k' })}.${b64({})}.c2ln`, 'malformed'],
    ['padding or standard base64', `${b64({ alg: 'ES256' })}=.${b64({})}.c2ln`, 'malformed'],
    ['invalid UTF-8 in the header', `${base64url.encode(new Uint8Array([0x7b, 0xff, 0x7d]))}.${b64({})}.c2ln`, 'malformed'],
    ['a critical extension', `${b64({ alg: 'ES256', crit: ['exp'], exp: 1 })}.${b64({})}.c2ln`, 'unsupported'],
    ['b64=false', `${b64({ alg: 'ES256', crit: ['b64'], b64: false })}.${b64({})}.c2ln`, 'unsupported'],
  ])('refuses %s', (_name, token, reason) => {
    expect(() => parseCompactJws(token)).toThrow(JwsFormatError);
    expect(() => parseCompactJws(token)).toThrow(expect.objectContaining({ reason }));
  });

  it('refuses a genuine token with a part appended', async () => {
    const token = await signed('ES256');
    expect(() => parseCompactJws(`${token}.c2ln`)).toThrow(expect.objectContaining({ reason: 'malformed' }));
  });

  it('refuses invalid UTF-8 inside a JSON string of the header or the payload', () => {
    const invalid = (json: string) => base64url.encode(Buffer.concat([Buffer.from(json), Buffer.from([0xff]), Buffer.from('"}')]));
    expect(() => parseCompactJws(`${invalid('{"alg":"ES256","x":"')}.${b64({})}.c2ln`)).toThrow(expect.objectContaining({ reason: 'malformed' }));
    expect(() => parseCompactJws(`${b64({ alg: 'ES256' })}.${invalid('{"sub":"')}.c2ln`)).toThrow(expect.objectContaining({ reason: 'malformed' }));
  });

  it('refuses a second spelling of a genuine token: a last character whose unused bits are set, or an impossible length', async () => {
    const token = await signed('ES256');
    const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    // A 64-byte signature takes 86 characters, the last of which carries 2 bits and 4 unused ones.
    const respelled = token.slice(0, -1) + ALPHABET[ALPHABET.indexOf(token.at(-1)!) | 1];
    expect(respelled).not.toBe(token);
    expect(Buffer.from(respelled.split('.')[2]!, 'base64url')).toEqual(Buffer.from(token.split('.')[2]!, 'base64url'));
    expect(() => parseCompactJws(respelled)).toThrow(expect.objectContaining({ reason: 'malformed' }));
    expect(() => parseCompactJws(`${token}AAA`)).toThrow(expect.objectContaining({ reason: 'malformed' }));
    expect(parseCompactJws(token).header).toEqual({ alg: 'ES256' });
  });
});

describe('verifyJwsSignature', () => {
  it.each(Object.keys(pairs) as Alg[])('agrees with jose on %s, for genuine and tampered tokens', async (alg) => {
    const { publicKey } = pairs[alg];
    const token = await signed(alg, { sub: 'alice', amr: ['mfa'] });
    const tampered = token.replace(/\.([^.]+)\./, `.${b64({ sub: 'mallory', amr: ['mfa'] })}.`);
    for (const candidate of [token, tampered]) {
      const jws = parseCompactJws(candidate);
      const ours = verifyJwsSignature(alg, publicKey, jws.signingInput, jws.signature);
      const theirs = await compactVerify(candidate, publicKey).then(() => true, () => false);
      expect(ours).toBe(theirs);
    }
    const genuine = parseCompactJws(token);
    expect(verifyJwsSignature(alg, publicKey, genuine.signingInput, genuine.signature)).toBe(true);
  });

  it('refuses a signature made by another key', async () => {
    const jws = parseCompactJws(await signed('ES256'));
    expect(verifyJwsSignature('ES256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey, jws.signingInput, jws.signature)).toBe(false);
  });

  it('refuses an ECDSA signature in DER rather than the JWS encoding, or of the wrong length', () => {
    const input = `${b64({ alg: 'ES256' })}.${b64({})}`;
    const der = nodeSign('sha256', Buffer.from(input), pairs.ES256.privateKey);
    expect(verifyJwsSignature('ES256', pairs.ES256.publicKey, input, der)).toBe(false);
    expect(verifyJwsSignature('ES256', pairs.ES256.publicKey, input, new Uint8Array(63))).toBe(false);
  });

  it.each([
    ['ES512', generateKeyPairSync('ec', { namedCurve: 'P-521' })],
    ['RS384', pairs.RS256],
    ['RS512', pairs.RS256],
    ['PS384', pairs.PS256],
    ['PS512', pairs.PS256],
    ['Ed25519', pairs.EdDSA],
  ] as const)('agrees with jose on %s', async (alg, { privateKey, publicKey }) => {
    const token = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg }).sign(privateKey);
    await expect(compactVerify(token, publicKey)).resolves.toBeDefined();
    const jws = parseCompactJws(token);
    expect(verifyJwsSignature(alg, publicKey, jws.signingInput, jws.signature)).toBe(true);
    const other = alg === 'RS512' ? 'RS384' : alg.startsWith('PS') ? 'PS256' : undefined;
    if (other) expect(verifyJwsSignature(other, publicKey, jws.signingInput, jws.signature)).toBe(false);
  });

  it('refuses an RSASSA-PSS signature whose salt is not the length of the hash (RFC 7518 §3.5)', () => {
    const input = `${b64({ alg: 'PS256' })}.${b64({})}`;
    const sign = (saltLength: number) =>
      nodeSign('sha256', Buffer.from(input), { key: pairs.PS256.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
    expect(verifyJwsSignature('PS256', pairs.PS256.publicKey, input, sign(32))).toBe(true);
    expect(verifyJwsSignature('PS256', pairs.PS256.publicKey, input, sign(0))).toBe(false);
  });

  it('answers false, never throws nor accepts, for a key of another type', async () => {
    const jws = parseCompactJws(await signed('ES256'));
    expect(verifyJwsSignature('ES256', pairs.RS256.publicKey, jws.signingInput, jws.signature)).toBe(false);
    expect(verifyJwsSignature('EdDSA', pairs.ES256.publicKey, jws.signingInput, jws.signature)).toBe(false);
    // Node throws for these (a digest an Ed25519 key cannot use).
    for (const alg of ['RS256', 'PS256', 'ES256']) expect(verifyJwsSignature(alg, pairs.EdDSA.publicKey, jws.signingInput, jws.signature)).toBe(false);
  });

  it('knows no digest but SHA-256, 384 and 512, even for an RS, PS or ES prefix', async () => {
    const jws = parseCompactJws(await signed('RS256'));
    expect(verifyJwsSignature('RS256', pairs.RS256.publicKey, jws.signingInput, jws.signature)).toBe(true);
    for (const alg of ['RS', 'RS1', 'RS25', 'RSsha256']) {
      expect(verifyJwsSignature(alg, pairs.RS256.publicKey, jws.signingInput, jws.signature)).toBe(false);
    }
  });

  it('knows no other algorithm', () => {
    expect(verifyJwsSignature('HS256', pairs.RS256.publicKey, 'a.b', new Uint8Array(32))).toBe(false);
    expect(verifyJwsSignature('none', pairs.RS256.publicKey, 'a.b', new Uint8Array(1))).toBe(false);
  });
});
