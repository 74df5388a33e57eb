import { HttpException, HttpStatus } from '@nestjs/common';
import { assertChallengeItems, isChallengeText, type BearerChallenge } from './core/step-up.challenge.js';
import type { BearerErrorCode } from './core/step-up.constants.js';

/** Why a request was refused, in the style of jose's errors: a stable `code`, the `claim`, a `reason`. */
export interface StepUpErrorDetails {
  readonly code: string;
  readonly reason: string;
  readonly claim?: string;
}

/** An RFC 9457 problem details body, with the challenge parameters mirrored as members. */
export interface StepUpProblem {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail: string;
  readonly error?: BearerErrorCode;
  readonly acr_values?: string;
  readonly max_age?: number;
  readonly scope?: string;
}

/** RFC 9457 §3.1.1: a problem type per error. RFC 6750 defines its three in one section and registers each in its own. */
const RFC6750_ERROR_TYPE = {
  invalid_request: 'https://www.rfc-editor.org/rfc/rfc6750#section-6.2.1',
  invalid_token: 'https://www.rfc-editor.org/rfc/rfc6750#section-6.2.2',
  insufficient_scope: 'https://www.rfc-editor.org/rfc/rfc6750#section-6.2.3',
} as const;

/**
 * A refusal that carries a `WWW-Authenticate: Bearer` challenge. {@link StepUpExceptionFilter} writes the
 * challenge header (adding the realm); without the filter, Nest still answers with the status and body.
 */
export abstract class BearerChallengeException extends HttpException {
  readonly challenge: Omit<BearerChallenge, 'realm'>;
  readonly details: StepUpErrorDetails;

  protected constructor(
    status: HttpStatus,
    type: string,
    title: string,
    challenge: Omit<BearerChallenge, 'realm'> & { readonly errorDescription: string },
    details: StepUpErrorDetails,
    cause?: unknown,
  ) {
    // What the header cannot carry (RFC 6750 §3) fails here, where it is built, not in the filter with a 500:
    // acr values and scopes are the application's identifiers, so a wrong one is a programming error;
    // a description is prose (`1000 €`), so one outside the set stays in the body and leaves the header.
    assertChallengeItems(challenge.acrValues ?? [], 'acr value');
    assertChallengeItems(challenge.scope ?? [], 'scope');
    if (challenge.maxAge !== undefined && !(Number.isSafeInteger(challenge.maxAge) && challenge.maxAge >= 0)) {
      throw new TypeError(`maxAge ${challenge.maxAge} is not valid: use a whole, non-negative number of seconds`);
    }
    const problem: StepUpProblem = {
      type,
      title,
      status,
      detail: challenge.errorDescription,
      ...(challenge.error && { error: challenge.error }),
      ...(challenge.acrValues?.length && { acr_values: challenge.acrValues.join(' ') }),
      ...(challenge.maxAge !== undefined && { max_age: challenge.maxAge }),
      ...(challenge.scope?.length && { scope: challenge.scope.join(' ') }),
    };
    super(problem, status, cause === undefined ? undefined : { cause });
    const { errorDescription, ...writable } = challenge;
    // RFC 6750 §3.1: a request without credentials gets a challenge with no error and no description.
    this.challenge = !challenge.error ? {} : isChallengeText(errorDescription) ? challenge : writable;
    this.details = details;
  }
}

/** 401 with no error code: the request carried no bearer token at all (RFC 6750 §3.1). */
export class AuthenticationRequiredException extends BearerChallengeException {
  constructor() {
    super(
      HttpStatus.UNAUTHORIZED,
      'https://www.rfc-editor.org/rfc/rfc6750#section-3',
      'Authentication required',
      { errorDescription: 'This resource requires a bearer access token' },
      { code: 'ERR_NO_CREDENTIALS', reason: 'missing' },
    );
  }
}

/** 400 `invalid_request`: the credentials were sent in a way RFC 6750 does not allow. */
export class InvalidRequestException extends BearerChallengeException {
  constructor(description: string) {
    super(
      HttpStatus.BAD_REQUEST,
      RFC6750_ERROR_TYPE.invalid_request,
      'Invalid request',
      { error: 'invalid_request', errorDescription: description },
      { code: 'ERR_INVALID_REQUEST', reason: 'malformed' },
    );
  }
}

/** 401 `invalid_token`: expired, badly signed, from another issuer or for another audience. */
export class InvalidTokenException extends BearerChallengeException {
  constructor(
    description = 'The access token is invalid',
    details: StepUpErrorDetails = { code: 'ERR_INVALID_TOKEN', reason: 'invalid' },
    cause?: unknown,
  ) {
    super(HttpStatus.UNAUTHORIZED, RFC6750_ERROR_TYPE.invalid_token, 'Invalid token', { error: 'invalid_token', errorDescription: description }, details, cause);
  }
}

export interface StepUpRequiredOptions {
  /** Acr values the client should request (`acr_values`). */
  readonly acrValues?: readonly string[];
  /** Seconds since the last active authentication the client should request (`max_age`). */
  readonly maxAge?: number;
  /** Scopes the new token must also carry, so one re-authorization fixes both. */
  readonly scope?: readonly string[];
  readonly description?: string;
  readonly details?: StepUpErrorDetails;
}

/** 401 `insufficient_user_authentication` (RFC 9470): authenticate again, more strongly or more recently. */
export class StepUpRequiredException extends BearerChallengeException {
  constructor({ acrValues, maxAge, scope, description, details }: StepUpRequiredOptions = {}) {
    super(
      HttpStatus.UNAUTHORIZED,
      'https://www.rfc-editor.org/rfc/rfc9470#section-3',
      'Step-up authentication required',
      {
        error: 'insufficient_user_authentication',
        errorDescription: description ?? 'A stronger or more recent authentication is required',
        ...(acrValues?.length && { acrValues }),
        ...(maxAge !== undefined && { maxAge }),
        ...(scope?.length && { scope }),
      },
      details ?? { code: 'ERR_STEP_UP_REQUIRED', reason: 'insufficient' },
    );
  }
}

/** 403 `insufficient_scope`: the user authenticated well enough, but the token lacks a scope. */
export class InsufficientScopeException extends BearerChallengeException {
  constructor(scope: readonly string[], description = 'The access token lacks a scope this operation requires') {
    super(
      HttpStatus.FORBIDDEN,
      RFC6750_ERROR_TYPE.insufficient_scope,
      'Insufficient scope',
      { error: 'insufficient_scope', errorDescription: description, scope },
      { code: 'ERR_INSUFFICIENT_SCOPE', claim: 'scope', reason: 'missing' },
    );
  }
}

/**
 * 503 with `Retry-After`: the signing keys cannot be fetched. A server-side fault, so no `invalid_token`
 * that would send the user to log in again for nothing.
 */
export class KeySetUnavailableException extends HttpException {
  constructor(
    readonly retryAfterSeconds: number,
    cause?: unknown,
  ) {
    super(
      {
        type: 'about:blank',
        title: 'Service Unavailable',
        status: HttpStatus.SERVICE_UNAVAILABLE,
        detail: 'The token signing keys cannot be fetched right now; retry later',
      },
      HttpStatus.SERVICE_UNAVAILABLE,
      cause === undefined ? undefined : { cause },
    );
  }
}
