import { ACR_MFA, AMR } from './step-up.constants.js';

/**
 * Issuer-side step-up rules: which second factors to offer a signed-in user, and the claims a
 * stepped-up token carries. Framework-free so an identity provider, a login service or an app that
 * mints its own tokens can all apply the same rules.
 */

/** Second factors a user can enrol in. Email OTP is not enrolled: it is the fallback for everyone. */
export const ENROLLABLE_MFA_METHODS = ['authenticator_app', 'sms', 'webauthn'] as const;
export type MfaMethod = (typeof ENROLLABLE_MFA_METHODS)[number];

export const EMAIL_OTP = 'email_otp';
export type StepUpMethod = MfaMethod | typeof EMAIL_OTP;

/** The amr a successful challenge puts in the token, per method. */
export const STEP_UP_METHOD_AMR: Readonly<Record<StepUpMethod, readonly string[]>> = {
  email_otp: [AMR.mfa, AMR.otp],
  authenticator_app: [AMR.mfa, AMR.otp],
  sms: [AMR.mfa, AMR.sms],
  webauthn: [AMR.mfa, AMR.hwk],
};

/** How the user proved who they are before the step-up. */
export type SignInMethod = 'password' | 'magic_link' | 'magic_code' | 'social' | 'sso';

/** Sign-ins that already proved control of the mailbox, so an email code adds no second factor. */
const MAILBOX_SIGN_INS: ReadonlySet<SignInMethod> = new Set(['magic_link', 'magic_code']);

/** What to do with a user who signed in through their mailbox and has no second factor enrolled. */
export type UnenrolledMfaPolicy = 'ALLOW_SKIP' | 'FORCE_ENROLL';

export interface StepUpUser {
  readonly enrolled: readonly MfaMethod[];
  readonly signedInWith: SignInMethod;
}

export interface StepUpPolicy {
  readonly unenrolledMfaPolicy: UnenrolledMfaPolicy;
}

export interface StepUpOption {
  readonly method: StepUpMethod;
  readonly amr: readonly string[];
}

export interface MfaEnrolmentRequiredError {
  readonly code: 'ERR_STEP_UP_MFA_ENROLMENT_REQUIRED';
  readonly reason: 'no_second_factor_available';
  readonly message: string;
}

/**
 * - `challenge`: ask for one of `options` (enrolled methods first, in enrolment order).
 * - `skip`: the policy lets the user through without a challenge. The issuer sets acr MFA because the
 *   policy says so, but no second factor happened: keep the sign-in's own amr and never add `mfa`,
 *   so a resource server that also requires `amr: ['mfa']` still refuses the token.
 * - `enrol_required`: refuse the step-up and tell the user to enrol a second factor.
 */
export type StepUpDecision =
  | { readonly outcome: 'challenge'; readonly options: readonly StepUpOption[] }
  | { readonly outcome: 'skip' }
  | { readonly outcome: 'enrol_required'; readonly error: MfaEnrolmentRequiredError };

const optionFor = (method: StepUpMethod): StepUpOption => ({
  method,
  amr: STEP_UP_METHOD_AMR[method],
});

/**
 * Chooses the step-up challenges to offer. Email OTP is always offered, except after a magic link
 * or magic code sign-in: that sign-in already came through the mailbox, so a second email code would
 * prove the same factor twice. This holds even when other methods are enrolled (stricter than
 * "email OTP is always available", on purpose).
 */
export function chooseStepUpMethods(user: StepUpUser, policy: StepUpPolicy): StepUpDecision {
  const enrolled = [...new Set(user.enrolled)];
  const emailOtpAllowed = !MAILBOX_SIGN_INS.has(user.signedInWith);
  const methods: StepUpMethod[] = emailOtpAllowed ? [...enrolled, EMAIL_OTP] : enrolled;

  if (methods.length > 0) return { outcome: 'challenge', options: methods.map(optionFor) };
  if (policy.unenrolledMfaPolicy === 'ALLOW_SKIP') return { outcome: 'skip' };
  return {
    outcome: 'enrol_required',
    error: {
      code: 'ERR_STEP_UP_MFA_ENROLMENT_REQUIRED',
      reason: 'no_second_factor_available',
      message:
        'This action needs a second factor. Enrol an authenticator app, a phone number or a security key, then try again.',
    },
  };
}

export interface SteppedUpClaims {
  readonly acr: typeof ACR_MFA;
  readonly amr: string[];
  readonly auth_time: number;
}

export interface BuildSteppedUpClaimsInput {
  /** The method the user just passed. */
  readonly method: StepUpMethod;
  /** When the challenge was passed: a Date or epoch seconds. Defaults to `now`. */
  readonly authTime?: Date | number;
  /** The current time, for tests and injected clocks: a Date or epoch seconds. */
  readonly now?: Date | number;
}

/** Far beyond any real date in seconds (year 5138) yet reached by every millisecond timestamp. */
const SECONDS_UPPER_BOUND = 1e11;

function toEpochSeconds(value: Date | number, name: string): number {
  const seconds = value instanceof Date ? Math.floor(value.getTime() / 1000) : value;
  if (!Number.isSafeInteger(seconds) || seconds < 0) {
    throw new TypeError(`${name} must be a valid Date or whole epoch seconds, got ${String(value)}`);
  }
  if (seconds >= SECONDS_UPPER_BOUND) {
    throw new TypeError(`${name} looks like milliseconds (${seconds}); pass epoch seconds or a Date`);
  }
  return seconds;
}

/**
 * The claims to put in a token minted after a successful step-up challenge, for apps that issue
 * their own tokens (for example with @nestjs/jwt). `auth_time` is when the challenge was passed:
 * that is the authentication event `max_age` is measured from.
 */
export function buildSteppedUpClaims(input: BuildSteppedUpClaimsInput): SteppedUpClaims {
  if (!Object.hasOwn(STEP_UP_METHOD_AMR, input.method)) {
    throw new TypeError(`unknown step-up method ${JSON.stringify(input.method)}`);
  }
  const amr = STEP_UP_METHOD_AMR[input.method];
  const now = toEpochSeconds(input.now ?? new Date(), 'now');
  const authTime = input.authTime === undefined ? now : toEpochSeconds(input.authTime, 'authTime');
  if (authTime > now) {
    throw new TypeError(`authTime (${authTime}) is in the future (now ${now})`);
  }
  return { acr: ACR_MFA, amr: [...amr], auth_time: authTime };
}
