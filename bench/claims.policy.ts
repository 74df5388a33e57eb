/**
 * The claim checks the peer variants apply after their own signature verification: the same
 * requirement the nestjs-step-up variant declares with @RequireStepUp and @RequireScope.
 */
import type { JWTPayload } from 'jose';
import { ACR_MFA, MAX_AGE_SECONDS, REQUIRED_AMR, REQUIRED_SCOPE } from './scenario.shared.js';

export interface Denial {
  status: 401 | 403;
  /** RFC 6750 / RFC 9470 `WWW-Authenticate` value. */
  challenge: string;
}

const INSUFFICIENT_AUTHENTICATION: Denial = {
  status: 401,
  challenge:
    `Bearer error="insufficient_user_authentication", ` +
    `error_description="A different authentication level is required", ` +
    `acr_values="${ACR_MFA}", max_age="${MAX_AGE_SECONDS}"`,
};

const INSUFFICIENT_SCOPE: Denial = {
  status: 403,
  challenge: `Bearer error="insufficient_scope", scope="${REQUIRED_SCOPE}"`,
};

/** acr, amr and max_age (auth_time): the step-up part of the requirement. */
export function stepUpSatisfied(claims: JWTPayload | undefined): boolean {
  if (!claims || claims.acr !== ACR_MFA) return false;
  const { amr, auth_time: authTime } = claims;
  if (!Array.isArray(amr) || !amr.includes(REQUIRED_AMR)) return false;
  return typeof authTime === 'number' && Date.now() / 1000 - authTime <= MAX_AGE_SECONDS;
}

function scopeSatisfied(claims: JWTPayload): boolean {
  return typeof claims.scope === 'string' && claims.scope.split(' ').includes(REQUIRED_SCOPE);
}

/** The full requirement; `undefined` when the claims satisfy it. */
export function denialFor(claims: JWTPayload): Denial | undefined {
  if (!stepUpSatisfied(claims)) return INSUFFICIENT_AUTHENTICATION;
  if (!scopeSatisfied(claims)) return INSUFFICIENT_SCOPE;
  return undefined;
}
