import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { compilePolicy, type StepUpRequirement } from './core/step-up.policy.js';
import { attachedClaims } from './step-up.claims.js';
import {
  STEP_UP_CLAIMS_PARAMETER_METADATA,
  STEP_UP_PUBLIC_METADATA,
  STEP_UP_REQUIREMENT_METADATA,
  STEP_UP_SCOPES_METADATA,
} from './step-up.metadata.js';

/** A class or method decorator that reads, then writes, metadata where Nest's `SetMetadata()` keeps it. */
function updatingMetadata<T>(key: string, update: (declared: T | undefined) => T): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => {
    const holder: object = descriptor?.value ?? target;
    Reflect.defineMetadata(key, update(Reflect.getOwnMetadata(key, holder)), holder);
  };
}

/**
 * Requires a stronger or more recent authentication: `acr` (any of), `amr` (all of), `maxAge`.
 * On a method it replaces a class-level requirement. Mistakes throw when the class is defined, and so
 * does a second `@RequireStepUp()` on the same class or method, which would otherwise hide the first.
 */
export function RequireStepUp(requirement: StepUpRequirement): ClassDecorator & MethodDecorator {
  if (requirement?.acr === undefined && requirement?.amr === undefined && requirement?.maxAge === undefined) {
    throw new TypeError('@RequireStepUp() needs acr, amr or maxAge, e.g. @RequireStepUp({ acr: ACR_MFA, maxAge: 300 })');
  }
  compilePolicy(requirement);
  return updatingMetadata<StepUpRequirement>(STEP_UP_REQUIREMENT_METADATA, (declared) => {
    if (declared !== undefined) {
      throw new TypeError('@RequireStepUp() is declared twice on the same class or method: merge them into one requirement');
    }
    return requirement;
  });
}

/** Requires every listed OAuth scope. Scopes add up: several decorators, and the class's with the method's. */
export function RequireScope(...scopes: string[]): ClassDecorator & MethodDecorator {
  if (scopes.length === 0) throw new TypeError("@RequireScope() needs at least one scope, e.g. @RequireScope('transfer:funds')");
  compilePolicy(undefined, scopes);
  return updatingMetadata<string[]>(STEP_UP_SCOPES_METADATA, (declared = []) => [...declared, ...scopes]);
}

/**
 * No authentication at all. On a class, it opens the routes that declare no requirement of their own;
 * on a method, it opens that route whatever the class says.
 */
export function Public(): ClassDecorator & MethodDecorator {
  return SetMetadata(STEP_UP_PUBLIC_METADATA, true);
}

const claimsParameter = createParamDecorator((claim: string | undefined, context: ExecutionContext): unknown => {
  const claims = attachedClaims(context.switchToHttp().getRequest());
  return claim === undefined ? claims : claims?.[claim];
});

/**
 * The verified access token claims, or one claim: `@StepUpClaims('sub') sub: string`. It also marks its
 * handler, so the guard attaches the claims to the request only on routes that read them.
 */
export function StepUpClaims(claim?: string): ParameterDecorator {
  const parameter = claimsParameter(claim);
  return (target, key, index) => {
    parameter(target, key, index);
    if (key !== undefined) SetMetadata(STEP_UP_CLAIMS_PARAMETER_METADATA, true)(target, key, Object.getOwnPropertyDescriptor(target, key)!);
  };
}
