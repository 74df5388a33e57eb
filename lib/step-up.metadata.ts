/** Injection token of the options as given to `forRoot` or returned by `useFactory`. */
export const STEP_UP_MODULE_OPTIONS = Symbol('STEP_UP_MODULE_OPTIONS');
/** Injection token of the validated options ({@link ResolvedStepUpOptions}). */
export const STEP_UP_OPTIONS = Symbol('STEP_UP_OPTIONS');

export const STEP_UP_REQUIREMENT_METADATA = 'nestjs-step-up:requirement';
export const STEP_UP_SCOPES_METADATA = 'nestjs-step-up:scopes';
export const STEP_UP_PUBLIC_METADATA = 'nestjs-step-up:public';
/** On a handler with a `@StepUpClaims()` parameter: the guard attaches the claims to its requests. */
export const STEP_UP_CLAIMS_PARAMETER_METADATA = 'nestjs-step-up:claims-parameter';
