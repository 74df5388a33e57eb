// The public API, named one by one: a new export in lib/ stays internal until it is listed here and in
// README.md (test/public-api.spec.ts checks that every value exported here is documented there).

// The Nest layer
export { StepUpModule } from './step-up.module.js';
export { STEP_UP_OPTIONS } from './step-up.metadata.js';
export {
  StepUpOptionsError,
  type Duration,
  type ResolvedStepUpOptions,
  type StepUpModuleAsyncOptions,
  type StepUpModuleOptions,
  type StepUpRegistration,
} from './step-up.options.js';
export { Public, RequireScope, RequireStepUp, StepUpClaims } from './step-up.decorators.js';
export { StepUpGuard, type StepUpRequest } from './step-up.guard.js';
export { StepUpExceptionFilter } from './step-up.filter.js';
export { StepUpAuthenticator } from './step-up.authenticator.js';
export {
  AuthenticationRequiredException,
  BearerChallengeException,
  InsufficientScopeException,
  InvalidRequestException,
  InvalidTokenException,
  KeySetUnavailableException,
  StepUpRequiredException,
  type StepUpErrorDetails,
  type StepUpProblem,
  type StepUpRequiredOptions,
} from './step-up.exceptions.js';

// The policy core: no Nest import
export { ACR_MFA, AMR, type BearerErrorCode } from './core/step-up.constants.js';
export {
  compilePolicy,
  evaluatePolicy,
  PolicyDecisions,
  type CompiledPolicy,
  type EvaluationContext,
  type FailedClaim,
  type FailureReason,
  type PolicyFailure,
  type PolicyOptions,
  type PolicyResult,
  type ScopeClaimName,
  type StepUpRequirement,
} from './core/step-up.policy.js';
export {
  ChallengeParseError,
  formatBearerChallenge,
  parseChallenges,
  parseStepUpChallenge,
  type BearerChallenge,
  type ParsedChallenge,
  type ParsedStepUpChallenge,
} from './core/step-up.challenge.js';
export { isB64Token, readBearerCredentials, type BearerCredentials } from './core/step-up.bearer.js';
export { sameOriginPath } from './core/step-up.redirect.js';
export {
  AccessTokenVerifier,
  TokenVerificationError,
  type AccessTokenClaims,
  type AccessTokenVerifierOptions,
} from './core/step-up.verifier.js';
export {
  KeySetUnavailableError,
  NoMatchingKeyError,
  RemoteKeySource,
  StaticKeySource,
  type KeySelector,
  type KeySource,
  type RemoteKeySourceOptions,
  type StepUpLogger,
} from './core/step-up.keys.js';
export {
  buildSteppedUpClaims,
  chooseStepUpMethods,
  type BuildSteppedUpClaimsInput,
  type MfaEnrolmentRequiredError,
  type MfaMethod,
  type SignInMethod,
  type SteppedUpClaims,
  type StepUpDecision,
  type StepUpMethod,
  type StepUpOption,
  type StepUpPolicy,
  type StepUpUser,
  type UnenrolledMfaPolicy,
} from './core/step-up.mfa.js';
