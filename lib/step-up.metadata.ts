/** Injection token of the options as given to `forRoot` or returned by `useFactory`. */
export const STEP_UP_MODULE_OPTIONS = Symbol('STEP_UP_MODULE_OPTIONS');
/** Injection token of the validated options ({@link ResolvedStepUpOptions}). */
export const STEP_UP_OPTIONS = Symbol('STEP_UP_OPTIONS');

export const STEP_UP_REQUIREMENT_METADATA = 'nestjs-step-up:requirement';
export const STEP_UP_SCOPES_METADATA = 'nestjs-step-up:scopes';
export const STEP_UP_PUBLIC_METADATA = 'nestjs-step-up:public';
/** On a handler with a `@StepUpClaims()` parameter: the guard attaches the claims to its requests. */
export const STEP_UP_CLAIMS_PARAMETER_METADATA = 'nestjs-step-up:claims-parameter';

/**
 * Whether a method, or a class or one it extends, declares `@RequireStepUp()` or `@RequireScope()`. A class's
 * metadata is found through its prototype chain; a method's is its own.
 */
export const declaresRequirement = (holder: object): boolean =>
  Reflect.getMetadata(STEP_UP_REQUIREMENT_METADATA, holder) !== undefined || Reflect.getMetadata(STEP_UP_SCOPES_METADATA, holder) !== undefined;
