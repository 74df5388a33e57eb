import { createParamDecorator, SetMetadata, type ExecutionContext } from '@nestjs/common';
import { compilePolicy, layerRequirements, type StepUpRequirement } from './core/step-up.policy.js';
import { attachedClaims } from './step-up.claims.js';
import {
  declaresRequirement,
  STEP_UP_CLAIMS_PARAMETER_METADATA,
  STEP_UP_PUBLIC_METADATA,
  STEP_UP_REQUIREMENT_METADATA,
  STEP_UP_SCOPES_METADATA,
} from './step-up.metadata.js';

/** A class or method decorator, given the function Nest's `SetMetadata()` keeps the metadata on. */
function decorating(apply: (holder: object, onClass: boolean) => void): ClassDecorator & MethodDecorator {
  return (target: object, _key?: string | symbol, descriptor?: PropertyDescriptor) => apply(descriptor?.value ?? target, descriptor === undefined);
}

function refusePublic(holder: object, decorator: string): void {
  if (Reflect.getOwnMetadata(STEP_UP_PUBLIC_METADATA, holder) === true) {
    throw new TypeError(`${decorator} and @Public() on the same class or method contradict each other: remove one`);
  }
}

/**
 * Requires a stronger or more recent authentication: `acr` (any of), `amr` (all of), `maxAge`.
 * On a method it is laid over its class's requirement, and on a class over an inherited one: the fields it
 * sets replace theirs, the others stay (`{ maxAge: 60 }` on a method of an MFA class asks for a recent MFA).
 * Mistakes throw when the class is defined, and so does a second `@RequireStepUp()` on the same class or
 * method, which would otherwise hide the first, or one beside `@Public()`.
 */
export function RequireStepUp(requirement: StepUpRequirement): ClassDecorator & MethodDecorator {
  if (requirement?.acr === undefined && requirement?.amr === undefined && requirement?.maxAge === undefined) {
    throw new TypeError('@RequireStepUp() needs acr, amr or maxAge, e.g. @RequireStepUp({ acr: ACR_MFA, maxAge: 300 })');
  }
  compilePolicy(requirement);
  return decorating((holder) => {
    refusePublic(holder, '@RequireStepUp()');
    if (Reflect.getOwnMetadata(STEP_UP_REQUIREMENT_METADATA, holder) !== undefined) {
      throw new TypeError('@RequireStepUp() is declared twice on the same class or method: merge them into one requirement');
    }
    // A class's own requirement is laid over the one it inherits, found through its prototype chain.
    const inherited = Reflect.getMetadata(STEP_UP_REQUIREMENT_METADATA, holder) as StepUpRequirement | undefined;
    Reflect.defineMetadata(STEP_UP_REQUIREMENT_METADATA, layerRequirements(inherited, requirement), holder);
  });
}

/**
 * Requires every listed OAuth scope. Scopes add up: several decorators, a class's with those of the
 * classes it extends, and a method's with its class's.
 */
export function RequireScope(...scopes: string[]): ClassDecorator & MethodDecorator {
  if (scopes.length === 0) throw new TypeError("@RequireScope() needs at least one scope, e.g. @RequireScope('transfer:funds')");
  compilePolicy(undefined, scopes);
  return decorating((holder) => {
    refusePublic(holder, '@RequireScope()');
    // A class's scopes add to those it inherits, found through its prototype chain.
    const inherited = (Reflect.getMetadata(STEP_UP_SCOPES_METADATA, holder) as string[] | undefined) ?? [];
    Reflect.defineMetadata(STEP_UP_SCOPES_METADATA, [...inherited, ...scopes], holder);
  });
}

/**
 * No authentication at all. On a method, it opens that route whatever its class says. On a class, it
 * opens the routes that declare no requirement of their own, in it and in the classes that extend it,
 * unless one of those declares a class-level requirement. Beside a requirement it throws: on the same
 * method, or on a class that declares or inherits one.
 */
export function Public(): ClassDecorator & MethodDecorator {
  return decorating((holder, onClass) => {
    if (declaresRequirement(holder)) {
      throw new TypeError(
        onClass
          ? '@Public() on a class that declares or inherits @RequireStepUp() or @RequireScope() contradicts them: ' +
              'remove one, or open single routes with a method-level @Public()'
          : '@Public() and @RequireStepUp() or @RequireScope() on the same method contradict each other: remove one',
      );
    }
    Reflect.defineMetadata(STEP_UP_PUBLIC_METADATA, true, holder);
  });
}

const claimsParameter = createParamDecorator((claim: string | undefined, context: ExecutionContext): unknown => {
  const claims = attachedClaims(context.switchToHttp().getRequest());
  // Fail closed: a handler given undefined could go on as if anyone were allowed. A plain Error is logged by
  // Nest and answered with a bare 500, which tells the client nothing about the app's set-up.
  if (claims === undefined) {
    throw new Error('@StepUpClaims() has no verified claims to give: StepUpGuard did not run for this route, or the route is public');
  }
  return claim === undefined ? claims : claims[claim];
});

/**
 * The verified access token claims, or one claim: `@StepUpClaims('sub') sub: string`. It also marks its
 * handler, so the guard attaches the claims to the request only on routes that read them. Where the guard
 * verified no token (a public route, or one the guard does not run on) the request fails with a 500.
 */
export function StepUpClaims(claim?: string): ParameterDecorator {
  const parameter = claimsParameter(claim);
  return (target, key, index) => {
    parameter(target, key, index);
    if (key !== undefined) SetMetadata(STEP_UP_CLAIMS_PARAMETER_METADATA, true)(target, key, Object.getOwnPropertyDescriptor(target, key)!);
  };
}
