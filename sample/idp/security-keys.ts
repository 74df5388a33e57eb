import { isIP } from 'node:net';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
  type WebAuthnCredential,
} from '@simplewebauthn/server';
import type { User } from './users.store.js';

/** A WebAuthn ceremony's challenge, kept server-side until its answer comes back (used once). */
export interface PendingCeremony {
  challenge?: string;
}

/**
 * The provider's WebAuthn relying party (security keys, amr `hwk`). A key is a second factor, proof of
 * possession after the password: user verification (a PIN or a fingerprint on the key) is asked for when
 * the key can do it, and not required, so keys without a PIN work. WebAuthn needs a host name as the
 * relying party id: on an IP address (the sample's default 127.0.0.1) it is not available, and the
 * provider offers no security key. `HOST=localhost` turns it on.
 */
export class SecurityKeys {
  private readonly rpID: string;

  constructor(private readonly origin: string) {
    this.rpID = new URL(origin).hostname;
  }

  get available(): boolean {
    return isIP(this.rpID) === 0;
  }

  async registrationOptions(user: User, held: readonly WebAuthnCredential[], pending: PendingCeremony): Promise<PublicKeyCredentialCreationOptionsJSON> {
    const options = await generateRegistrationOptions({
      rpName: 'Sample Bank',
      rpID: this.rpID,
      userName: user.email,
      userDisplayName: user.name,
      userID: new TextEncoder().encode(user.id),
      attestationType: 'none',
      excludeCredentials: descriptorsOf(held),
      authenticatorSelection: { residentKey: 'discouraged', userVerification: 'preferred' },
    });
    pending.challenge = options.challenge;
    return options;
  }

  /** The new credential, or undefined when the answer does not verify. */
  async register(response: Record<string, unknown>, pending: PendingCeremony): Promise<WebAuthnCredential | undefined> {
    const expectedChallenge = takeChallenge(pending);
    if (expectedChallenge === undefined) return undefined;
    const result = await verifyRegistrationResponse({
      response: response as unknown as RegistrationResponseJSON,
      expectedChallenge,
      expectedOrigin: this.origin,
      expectedRPID: this.rpID,
      requireUserVerification: false,
    }).catch(() => undefined);
    return result?.verified ? result.registrationInfo.credential : undefined;
  }

  async authenticationOptions(held: readonly WebAuthnCredential[], pending: PendingCeremony): Promise<PublicKeyCredentialRequestOptionsJSON> {
    const options = await generateAuthenticationOptions({
      rpID: this.rpID,
      allowCredentials: descriptorsOf(held),
      userVerification: 'preferred',
    });
    pending.challenge = options.challenge;
    return options;
  }

  /** The new signature counter if one of `held` signed the pending challenge, else undefined. */
  async authenticate(response: Record<string, unknown>, held: readonly WebAuthnCredential[], pending: PendingCeremony): Promise<number | undefined> {
    const expectedChallenge = takeChallenge(pending);
    const credential = held.find(({ id }) => id === response.id);
    if (expectedChallenge === undefined || credential === undefined) return undefined;
    const result = await verifyAuthenticationResponse({
      response: response as unknown as AuthenticationResponseJSON,
      expectedChallenge,
      expectedOrigin: this.origin,
      expectedRPID: this.rpID,
      credential,
      requireUserVerification: false,
    }).catch(() => undefined);
    return result?.verified ? result.authenticationInfo.newCounter : undefined;
  }
}

/** The keys as a ceremony names them to the browser. */
const descriptorsOf = (held: readonly WebAuthnCredential[]) => held.map(({ id, transports }) => ({ id, ...(transports && { transports }) }));

function takeChallenge(pending: PendingCeremony): string | undefined {
  const { challenge } = pending;
  pending.challenge = undefined;
  return challenge;
}
