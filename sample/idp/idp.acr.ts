import { ACR_MFA, type SignInMethod } from 'nestjs-step-up';

/** Acr of a sign-in with one factor (password, magic link or magic code). Defined by this sample. */
export const ACR_SINGLE_FACTOR = 'urn:nestjs-step-up:sample:acr:single-factor';

/** The acr values this provider can satisfy, from lowest to highest assurance. */
export const ACR_RANKING = [ACR_SINGLE_FACTOR, ACR_MFA] as const;
export type SupportedAcr = (typeof ACR_RANKING)[number];

/**
 * amr of the first factor. RFC 8176 has no value for "proved control of the mailbox", so the sample
 * uses `email` (not registered); a magic code is also a one-time code, hence `otp` as well.
 */
export const SIGN_IN_AMR = {
  password: ['pwd'],
  magic_link: ['email'],
  magic_code: ['email', 'otp'],
} as const satisfies Partial<Record<SignInMethod, readonly string[]>>;
export type SampleSignInMethod = keyof typeof SIGN_IN_AMR;

const sameValues = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((value) => b.includes(value));

/** How a single-factor session signed in, read back from its amr; undefined for anything else. */
export function signInMethodOfSession(amr: readonly string[] | undefined): SampleSignInMethod | undefined {
  if (amr === undefined) return undefined;
  const methods = Object.keys(SIGN_IN_AMR) as SampleSignInMethod[];
  return methods.find((method) => sameValues(SIGN_IN_AMR[method], amr));
}

const rank = (acr: string | undefined): number => ACR_RANKING.indexOf(acr as SupportedAcr);

/**
 * The weakest acr among `acr_values` this provider can issue (the values are alternatives, any one
 * will do), or undefined when it can issue none of them. Without `acr_values`: single factor.
 */
export function requiredAcr(acrValues: string | undefined): SupportedAcr | undefined {
  const requested = (acrValues ?? '').split(' ').filter(Boolean);
  if (requested.length === 0) return ACR_SINGLE_FACTOR;
  return ACR_RANKING.find((acr) => requested.includes(acr));
}

/** Whether a session's acr meets `acr_values`: equal or stronger than the weakest acceptable one. */
export function sessionMeetsAcrValues(sessionAcr: string | undefined, acrValues: string | undefined): boolean {
  const required = requiredAcr(acrValues);
  return required !== undefined && rank(sessionAcr) >= rank(required);
}
