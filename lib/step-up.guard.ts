import {
  ForbiddenException,
  HttpException,
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { startsWithLettersIgnoringCase } from './core/step-up.ascii.js';
import { isB64Token, ONE_TOKEN, readBearerCredentials, tooLongDescription } from './core/step-up.bearer.js';
import { withoutStackTrace } from './core/step-up.errors.js';
import { KeySetUnavailableError } from './core/step-up.keys.js';
import {
  compilePolicy,
  evaluatePolicy,
  layerRequirements,
  PolicyDecisions,
  type CompiledPolicy,
  type PolicyFailure,
  type PolicyResult,
  type StepUpRequirement,
} from './core/step-up.policy.js';
import { TokenVerificationError, type AccessTokenClaims } from './core/step-up.verifier.js';
import { StepUpAuthenticator } from './step-up.authenticator.js';
import { attachClaims } from './step-up.claims.js';
import {
  AuthenticationRequiredException,
  InsufficientScopeException,
  InvalidRequestException,
  InvalidTokenException,
  KeySetUnavailableException,
  StepUpRequiredException,
} from './step-up.exceptions.js';
import {
  declaresRequirement,
  STEP_UP_CLAIMS_PARAMETER_METADATA,
  STEP_UP_OPTIONS,
  STEP_UP_PUBLIC_METADATA,
  STEP_UP_REQUIREMENT_METADATA,
  STEP_UP_SCOPES_METADATA,
} from './step-up.metadata.js';
import type { ResolvedStepUpOptions } from './step-up.options.js';

/** The request shape the guard reads: Express and Fastify requests both fit. */
export interface StepUpRequest {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly url?: string;
  /** Express: the field lines as received. */
  readonly rawHeaders?: readonly string[];
  /** Fastify: Node's request, with its `rawHeaders`. */
  readonly raw?: { readonly rawHeaders?: readonly string[] };
  [property: string]: unknown;
}

/** A route the guard protects, as prepared on its first request. */
interface GuardedRoute {
  readonly policy: CompiledPolicy;
  /** Its handler has a `@StepUpClaims()` parameter. */
  readonly readsClaims: boolean;
}

const OPEN = null;

/**
 * RFC 6750 §2.3's `access_token` query parameter, however its name is written: query parsers decode
 * names, so `access%5Ftoken=` puts a token in the URL (and in every access log) just the same.
 */
function hasQueryToken(url: string): boolean {
  const query = url.indexOf('?');
  return query >= 0 && new URLSearchParams(url.slice(query + 1)).has('access_token');
}

const AUTHORIZATION = 'authorization';
// Every field name of every request comes through here: the length rules out nearly all of them, and the
// two spellings clients use are compared whole, far cheaper than the letter-by-letter loop.
const isAuthorizationName = (name: string) =>
  name.length === AUTHORIZATION.length &&
  (name === AUTHORIZATION || name === 'Authorization' || startsWithLettersIgnoringCase(name, AUTHORIZATION));

/**
 * Every `Authorization` field line. Node keeps only the first in `headers` and silently drops repeats,
 * which RFC 9110 §5.3 forbids for this non-list field and which an intermediary may resolve the other
 * way; they are only visible in `rawHeaders` (Express: the request; Fastify: `request.raw`). A single
 * value is read from `headers`, where an application's middleware may have put it.
 */
function authorizationValues(request: StepUpRequest): string | string[] | undefined {
  const raw = request.rawHeaders ?? request.raw?.rawHeaders;
  if (raw !== undefined) {
    let lines = 0;
    for (let index = 0; index < raw.length; index += 2) if (isAuthorizationName(raw[index]!)) lines++;
    if (lines > 1) return raw.filter((_, index) => index % 2 === 1 && isAuthorizationName(raw[index - 1]!));
  }
  return request.headers.authorization;
}

/**
 * A refusal that any number of requests can return. It is marked handled as it is built: a new rejected
 * promise costs two calls from V8 into Node's unhandled-rejection tracking (one when it rejects with no
 * handler, one when Nest's `await` adds one).
 */
function reusableRefusal(exception: HttpException): Promise<never> {
  const refusal = Promise.reject(exception);
  refusal.catch(() => undefined);
  return refusal;
}

function refusalFor(failure: PolicyFailure): HttpException {
  const details = { code: `ERR_${failure.error.toUpperCase()}`, claim: failure.claim, reason: failure.reason };
  switch (failure.error) {
    case 'insufficient_user_authentication':
      return new StepUpRequiredException({ ...failure, details });
    case 'insufficient_scope':
      return new InsufficientScopeException(failure.scope ?? [], failure.description);
    case 'invalid_token':
      return new InvalidTokenException(failure.description, details);
  }
}

/**
 * Authenticates the bearer token and enforces `@RequireStepUp()` and `@RequireScope()`. Fails closed:
 * an unknown execution context, a missing or malformed token, or a claim of the wrong type denies.
 * Extend it and override the protected hooks to read tokens or requests from elsewhere.
 */
@Injectable()
export class StepUpGuard implements CanActivate {
  private readonly logger = new Logger(StepUpGuard.name);
  private readonly routes = new WeakMap<Function, WeakMap<Function, GuardedRoute | typeof OPEN>>();
  private readonly refusals = new WeakMap<PolicyFailure, Promise<never>>();
  private readonly unauthenticated = reusableRefusal(withoutStackTrace(() => new AuthenticationRequiredException()));
  /** Decisions on the claims of cached tokens: a repeat costs two comparisons of the clock. */
  private readonly decisions: PolicyDecisions;

  constructor(
    protected readonly reflector: Reflector,
    @Inject(STEP_UP_OPTIONS) protected readonly options: ResolvedStepUpOptions,
    protected readonly authenticator: StepUpAuthenticator,
  ) {
    this.decisions = new PolicyDecisions({ clockTolerance: options.clockTolerance, scopeClaims: options.scopeClaims });
  }

  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    const route = this.routeFor(context.getClass(), context.getHandler());
    if (route === OPEN) return true;
    const request = this.getRequest(context);
    const token = this.getToken(request);
    if (token === undefined) return this.unauthenticated;
    const now = Date.now() / 1000;
    // A token verified before takes the synchronous path: no syntax scan, no signature work.
    const cached = this.authenticator.cached(token, now);
    if (cached !== undefined) return this.authorize(request, cached, route, this.decisions.evaluate(cached, route.policy, now));
    // Checked again here for a token that an overridden getToken() read from elsewhere.
    const { maxTokenLength } = this.options;
    if (token.length > maxTokenLength) throw withoutStackTrace(() => new InvalidRequestException(tooLongDescription(maxTokenLength)));
    if (!isB64Token(token)) throw withoutStackTrace(() => new InvalidRequestException(ONE_TOKEN));
    return this.verify(token, now).then((claims) => {
      const { clockTolerance, scopeClaims } = this.options;
      return this.authorize(request, claims, route, evaluatePolicy(claims, route.policy, { now, clockTolerance, scopeClaims }));
    });
  }

  /** The HTTP request. Other contexts are refused: override this to support, say, GraphQL. */
  protected getRequest(context: ExecutionContext): StepUpRequest {
    if (context.getType() !== 'http') {
      throw new ForbiddenException(
        `StepUpGuard protects HTTP routes only; mark this ${context.getType()} handler @Public() or override getRequest()`,
      );
    }
    // switchToHttp() assigns three new closures to the context on every call; the request is argument 0.
    return context.getArgByIndex<StepUpRequest>(0);
  }

  /**
   * The bearer token from the `Authorization` header, or undefined when the request carries none: the guard
   * then answers 401 with the bare challenge (RFC 6750 §3.1). Throws for a token sent in a way RFC 6750
   * does not allow: in the query string (§2.3), in several `Authorization` headers, or malformed.
   */
  protected getToken(request: StepUpRequest): string | undefined {
    if (request.url !== undefined && hasQueryToken(request.url)) {
      throw withoutStackTrace(() => new InvalidRequestException('Send the access token in the Authorization header, not in the URL'));
    }
    const credentials = readBearerCredentials(authorizationValues(request), this.options.maxTokenLength);
    if (credentials.kind === 'none') return undefined;
    if (credentials.kind === 'malformed') throw withoutStackTrace(() => new InvalidRequestException(credentials.description));
    return credentials.token;
  }

  /**
   * A refusal is returned as a rejected promise, not thrown: Nest awaits either the same way, and under
   * the profiler a `throw` from here cost over a microsecond per refused request, the promise a fraction.
   * The claims are written to the request only where something reads them: on Express, whose requests
   * each get a hidden class of their own, every property added to one costs microseconds.
   */
  private authorize(request: StepUpRequest, claims: AccessTokenClaims, route: GuardedRoute, result: PolicyResult): true | Promise<never> {
    if (!result.allowed) return this.refusal(result.failure);
    if (route.readsClaims) attachClaims(request, claims);
    if (this.options.requestProperty !== false) request[this.options.requestProperty] = claims;
    return true;
  }

  private async verify(token: string, now: number): Promise<AccessTokenClaims> {
    try {
      return await this.authenticator.verify(token, now);
    } catch (error) {
      if (error instanceof TokenVerificationError) {
        throw withoutStackTrace(() => new InvalidTokenException(error.description, error, error));
      }
      if (error instanceof KeySetUnavailableError) {
        throw new KeySetUnavailableException(error.retryAfterSeconds, error);
      }
      // A server fault: deny with a 500. Log it once, here, without the token's signature (failing code
      // may quote its input), and hand Nest an HttpException so it does not log the raw error again.
      const signature = token.slice(token.lastIndexOf('.') + 1);
      const reason = error instanceof Error ? error.message : String(error);
      const logged = signature.length >= 8 ? reason.split(signature).join('[redacted]') : reason;
      this.logger.error(`Token verification failed unexpectedly: ${logged}`);
      throw new InternalServerErrorException(undefined, { cause: error });
    }
  }

  /**
   * The refusal for a policy failure. The policy core returns the same failure object for the same route
   * and failing rule, so each refusal is built once and then reused: the challenge path allocates nothing.
   */
  private refusal(failure: PolicyFailure): Promise<never> {
    let refusal = this.refusals.get(failure);
    if (!refusal) this.refusals.set(failure, (refusal = reusableRefusal(withoutStackTrace(() => refusalFor(failure)))));
    return refusal;
  }

  private routeFor(target: Function, handler: Function): GuardedRoute | typeof OPEN {
    let byHandler = this.routes.get(target);
    if (!byHandler) this.routes.set(target, (byHandler = new WeakMap()));
    let route = byHandler.get(handler);
    if (route === undefined) byHandler.set(handler, (route = this.prepare(target, handler)));
    return route;
  }

  private prepare(target: Function, handler: Function): GuardedRoute | typeof OPEN {
    const { reflector } = this;
    const requirement = layerRequirements(
      reflector.get<StepUpRequirement | undefined>(STEP_UP_REQUIREMENT_METADATA, target),
      reflector.get<StepUpRequirement | undefined>(STEP_UP_REQUIREMENT_METADATA, handler),
    );
    const scopes = reflector.getAllAndMerge<string[]>(STEP_UP_SCOPES_METADATA, [handler, target]);
    // A class is open only if nothing in its chain of base classes requires anything (the decorators refuse
    // @Public() beside a requirement on one class, but a subclass may protect what its base opened).
    const isPublic =
      reflector.get(STEP_UP_PUBLIC_METADATA, handler) === true ||
      (!declaresRequirement(handler) && reflector.get(STEP_UP_PUBLIC_METADATA, target) === true && !declaresRequirement(target));
    if (isPublic) return OPEN;
    const readsClaims = reflector.get(STEP_UP_CLAIMS_PARAMETER_METADATA, handler) === true;
    // Under defaultPolicy 'none' a route that asks for nothing is open, unless its handler reads the claims.
    if (requirement === undefined && scopes.length === 0 && !readsClaims && this.options.defaultPolicy === 'none') return OPEN;
    return { policy: compilePolicy(requirement, scopes, { acrRanking: this.options.acrRanking }), readsClaims };
  }
}
