import type { AccessTokenClaims } from './core/step-up.verifier.js';

/**
 * Where the guard leaves a route's verified claims for `@StepUpClaims()`. Internal (not exported by the
 * package): other code reads the claims from the request property named by the `requestProperty` option.
 */
const CLAIMS = Symbol('nestjs-step-up:claims');

type ClaimsCarrier = { [CLAIMS]?: AccessTokenClaims };

export function attachClaims(request: object, claims: AccessTokenClaims): void {
  (request as ClaimsCarrier)[CLAIMS] = claims;
}

export function attachedClaims(request: object): AccessTokenClaims | undefined {
  return (request as ClaimsCarrier)[CLAIMS];
}
