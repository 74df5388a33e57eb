/** OpenID PAPE multi-factor policy: the acr value most issuers use for "the user passed MFA". */
export const ACR_MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

/** Authentication method reference values from RFC 8176 that step-up flows use. */
export const AMR = {
  /** Multiple-factor authentication. */
  mfa: 'mfa',
  /** One-time password (email code or authenticator app). */
  otp: 'otp',
  /** Confirmation by text message. */
  sms: 'sms',
  /** Proof of possession of a hardware-secured key (WebAuthn). */
  hwk: 'hwk',
  /** Proof of possession of a software-secured key. */
  swk: 'swk',
  /** Password. */
  pwd: 'pwd',
  /** Biometric user verification. */
  user: 'user',
} as const;

/** Bearer error codes of RFC 6750 §3.1 and RFC 9470 §3. */
export type BearerErrorCode =
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'insufficient_user_authentication';
