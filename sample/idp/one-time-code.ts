import { createHash, randomInt, timingSafeEqual } from 'node:crypto';

export const CODE_TTL_MS = 5 * 60_000;
/** Wrong codes (any channel, TOTP included) before the interaction fails. */
export const MAX_FAILED_ATTEMPTS = 5;
/** Codes sent per interaction: with the attempt limit, this bounds the guesses an attacker gets. */
const MAX_CODES_SENT = 3;

/** Where a code was sent: step-up by email or SMS, or first-factor sign-in by magic link/code. */
export type CodeChannel = 'email_otp' | 'sms' | 'magic';
export type CodeCheck = 'accepted' | 'no_code' | 'expired' | 'wrong' | 'locked';

interface IssuedCode {
  readonly digest: Buffer;
  readonly expiresAt: number;
}

const digestOf = (code: string) => createHash('sha256').update(code).digest();
const SIX_DIGITS = /^\d{6}$/;

/**
 * The one-time codes of one login interaction: 6 digits, valid 5 minutes, accepted once. A new code
 * on a channel replaces the previous one. Wrong attempts are counted across channels; at the limit
 * every check answers `locked`.
 */
export class OneTimeCodes {
  private readonly codes = new Map<CodeChannel, IssuedCode>();
  private failedAttempts = 0;
  private codesSent = 0;

  constructor(private readonly now: () => number = () => Date.now()) {}

  get locked(): boolean {
    return this.failedAttempts >= MAX_FAILED_ATTEMPTS;
  }

  /** A fresh code for `channel`, or undefined once the send limit is reached or the codes are locked. */
  issue(channel: CodeChannel): string | undefined {
    if (this.locked || this.codesSent >= MAX_CODES_SENT) return undefined;
    this.codesSent += 1;
    const code = randomInt(0, 1_000_000).toString().padStart(6, '0');
    this.codes.set(channel, { digest: digestOf(code), expiresAt: this.now() + CODE_TTL_MS });
    return code;
  }

  pending(channel: CodeChannel): boolean {
    const issued = this.codes.get(channel);
    return issued !== undefined && issued.expiresAt > this.now();
  }

  check(channel: CodeChannel, input: string): CodeCheck {
    if (this.locked) return 'locked';
    const issued = this.codes.get(channel);
    if (issued === undefined) return 'no_code';
    if (issued.expiresAt <= this.now()) {
      this.codes.delete(channel);
      return 'expired';
    }
    const code = input.replace(/\s+/g, '');
    if (SIX_DIGITS.test(code) && timingSafeEqual(digestOf(code), issued.digest)) {
      this.codes.delete(channel);
      return 'accepted';
    }
    return this.recordFailure();
  }

  /** Counts a wrong answer checked elsewhere (authenticator app, password, security key). */
  recordFailure(): 'wrong' | 'locked' {
    this.failedAttempts += 1;
    return this.locked ? 'locked' : 'wrong';
  }

  /** Takes back a failure counted before a check that then succeeded. */
  forgiveFailure(): void {
    this.failedAttempts = Math.max(0, this.failedAttempts - 1);
  }
}
