import type { JsonWebKey, KeyObject } from 'node:crypto';
import { IncomingMessage } from 'node:http';
import type { FactoryProvider, ModuleMetadata } from '@nestjs/common';
import {
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Max,
  Min,
  ValidateBy,
  validateSync,
  type ValidationArguments,
  type ValidationError,
  type ValidationOptions,
} from 'class-validator';
import { isChallengeItem, isChallengeText } from './core/step-up.challenge.js';
import { parseDurationSeconds } from './core/step-up.duration.js';
import { JWS_ALGORITHMS, staticKeyProblems } from './core/step-up.keys.js';
import type { ScopeClaimName } from './core/step-up.policy.js';

export type Duration = number | string;

/** Options of {@link StepUpModule.forRoot}. Only `issuer`, `audience` and a key source are required. */
export interface StepUpModuleOptions {
  /** Accepted `iss` value(s). */
  issuer: string | string[];
  /** Accepted `aud` value(s): this resource server's identifier. */
  audience: string | string[];
  /** The issuer's JWK Set URL (`jwks_uri`): https, or http on a loopback address. Either this or `keys`. */
  jwksUri?: string;
  /**
   * Accept a plain-http `jwksUri` off loopback, e.g. `http://keycloak:8080/…` inside a network you trust
   * end to end. Default false: whoever can change the key set in transit can sign any token.
   */
  allowInsecureJwksUri?: boolean;
  /** Verification keys given directly: public JWKs, PEM public keys or certificates, or `KeyObject`s; private keys are refused. */
  keys?: Array<JsonWebKey | string | KeyObject>;
  /** Accepted JWS algorithms. Default: RS256, PS256, ES256, EdDSA. `none` and HS* are refused. */
  algorithms?: string[];
  /** Clock skew tolerated on `exp`, `nbf` and `auth_time`. Default 5 s. */
  clockTolerance?: Duration;
  /** Require this JWT `typ` header, e.g. `'at+jwt'` (RFC 9068). Default: not checked. */
  tokenType?: string;
  /** Claims that must be present besides `iss`, `aud`, `exp`, e.g. `['sub', 'iat']`. */
  requiredClaims?: string[];
  /** Claims that carry granted scopes. Default: `scope`, `scp`, `permissions`. */
  scopeClaims?: ScopeClaimName[];
  /** Acr values from lowest to highest assurance; a higher one satisfies a route asking for a lower one. */
  acrRanking?: string[];
  /** `'authenticated'` (default): undecorated routes need a valid token. `'none'`: only decorated routes are checked. */
  defaultPolicy?: 'authenticated' | 'none';
  /** `realm` of every challenge. Default: the first audience. */
  realm?: string;
  /** Browser requests (GET, preferring HTML) that need step-up are redirected (303) here. */
  reauthenticateUrl?: string;
  /**
   * Request property that also receives the verified claims, for interceptors, other guards or code that
   * reads `request.user`: e.g. `'user'`. Default `false`: only `@StepUpClaims()` gets them, and the request
   * is left untouched (on Express, adding a property to a request costs microseconds). A property the
   * request already has (`headers`, `body`, `ip`…) is refused.
   */
  requestProperty?: string | false;
  /** Verified-token cache: how many tokens to remember. Default 1000; `0` turns it off. */
  tokenCacheSize?: number;
  /** Longest token accepted, in characters; longer ones are refused before parsing. Default 8192. */
  maxTokenLength?: number;
  /** JWKS request timeout. Default 5 s. */
  jwksTimeout?: Duration;
  /** Least time between JWKS fetches for unknown `kid`s or after a failure. Default 30 s. */
  jwksCooldown?: Duration;
  /** Background JWKS refresh interval. Default 10 min. */
  jwksRefreshInterval?: Duration;
  /** Register {@link StepUpGuard} as a global guard. Default true. */
  globalGuard?: boolean;
  /** Register {@link StepUpExceptionFilter} as a global filter. Default true. */
  globalFilter?: boolean;
}

/** How the module registers itself; given beside `useFactory`, as it must be known before the factory runs. */
export type StepUpRegistration = Pick<StepUpModuleOptions, 'globalGuard' | 'globalFilter'>;

export interface StepUpModuleAsyncOptions extends StepUpRegistration, Pick<ModuleMetadata, 'imports'> {
  useFactory: (...args: any[]) => Omit<StepUpModuleOptions, keyof StepUpRegistration> | Promise<Omit<StepUpModuleOptions, keyof StepUpRegistration>>;
  inject?: FactoryProvider['inject'];
}

/** The options after validation, with every default applied. */
export interface ResolvedStepUpOptions {
  readonly issuer: readonly string[];
  readonly audience: readonly string[];
  readonly jwksUri: URL | undefined;
  readonly keys: ReadonlyArray<JsonWebKey | string | KeyObject> | undefined;
  readonly algorithms: readonly string[];
  readonly clockTolerance: number;
  readonly tokenType: string | undefined;
  readonly requiredClaims: readonly string[];
  readonly scopeClaims: readonly ScopeClaimName[];
  readonly acrRanking: readonly string[];
  readonly defaultPolicy: 'authenticated' | 'none';
  readonly realm: string;
  readonly reauthenticateUrl: string | undefined;
  readonly requestProperty: string | false;
  readonly tokenCacheSize: number;
  readonly maxTokenLength: number;
  readonly jwksTimeoutMs: number;
  readonly jwksCooldownMs: number;
  readonly jwksRefreshIntervalMs: number;
}

/** Thrown at start-up when the options are wrong; the message lists every problem and its fix. */
export class StepUpOptionsError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid StepUpModule options:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'StepUpOptionsError';
  }
}

const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA'];
const DEFAULT_SCOPE_CLAIMS: readonly ScopeClaimName[] = ['scope', 'scp', 'permissions'];

function Is(name: string, test: (value: unknown) => boolean, message: string | ((args: ValidationArguments) => string), options?: ValidationOptions) {
  return ValidateBy({ name, validator: { validate: test, defaultMessage: typeof message === 'string' ? () => message : message } }, options);
}

/** A required option: a missing value, as an unset environment variable gives, is named as missing rather than wrong. */
function IsRequired(name: string, test: (value: unknown) => boolean, expected: string) {
  return Is(name, test, ({ value }) => (value == null ? `${name} is required (got ${value}): ${expected}` : `${name} must be ${expected}`));
}

/**
 * Properties that Node's IncomingMessage, Express or Fastify give a request and that apps and middleware
 * read. Claims written over one would break whatever reads it, e.g. `headers`. Whatever a request inherits
 * is refused as well: the stream methods (`on`, `pipe`…) and Object's (`constructor`, `__proto__`…).
 */
const REQUEST_PROPERTIES: ReadonlySet<string> = new Set([
  // Node
  'aborted', 'complete', 'connection', 'headers', 'headersDistinct', 'httpVersion', 'httpVersionMajor', 'httpVersionMinor',
  'method', 'rawHeaders', 'rawTrailers', 'socket', 'statusCode', 'statusMessage', 'trailers', 'trailersDistinct', 'url',
  // Express, and the session, cookie and upload middleware commonly used with it
  'accepts', 'acceptsCharsets', 'acceptsEncodings', 'acceptsLanguages', 'app', 'baseUrl', 'body', 'cookies', 'file', 'files',
  'fresh', 'get', 'header', 'host', 'hostname', 'ip', 'ips', 'is', 'next', 'originalUrl', 'param', 'params', 'path', 'protocol',
  'query', 'range', 'res', 'route', 'secret', 'secure', 'session', 'sessionID', 'signedCookies', 'stale', 'subdomains', 'xhr',
  // Fastify
  'context', 'id', 'is404', 'log', 'port', 'raw', 'routeConfig', 'routeOptions', 'routerMethod', 'routerPath', 'routeSchema',
  'server', 'validationError',
]);
const isRequestProperty = (name: string) => REQUEST_PROPERTIES.has(name) || name in IncomingMessage.prototype;

const isNonEmptyString = (value: unknown): value is string => typeof value === 'string' && value.trim() !== '';
const isOneOrMoreStrings = (value: unknown) =>
  isNonEmptyString(value) || (Array.isArray(value) && value.length > 0 && value.every(isNonEmptyString));
const urlOf = (value: unknown) => {
  try {
    return new URL(value as string);
  } catch {
    return undefined;
  }
};
const isHttpUrl = (value: unknown) => ['https:', 'http:'].includes(urlOf(value)?.protocol ?? '');
const isLoopback = ({ hostname }: URL) => hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname);
const hasNoCredentials = (value: unknown) => {
  const url = urlOf(value);
  return url === undefined || (url.username === '' && url.password === '');
};
const isKeyInput = (value: unknown) =>
  typeof value === 'string' ? value.includes('-----BEGIN ') : typeof value === 'object' && value !== null;

const DURATION_HINT = "seconds (30) or a duration string ('30s', '5m')";

/** A duration option: its value must read as whole seconds within these bounds, which the message states. */
function DurationWithin(name: string, min: number, max: number, bounds: string) {
  const within = (value: unknown) => {
    try {
      const seconds = parseDurationSeconds(value as Duration, name);
      return seconds >= min && seconds <= max;
    } catch {
      return false;
    }
  };
  return Is(name, within, `${name} must be ${DURATION_HINT}, ${bounds}`);
}

class StepUpOptionsSchema {
  @IsRequired('issuer', isOneOrMoreStrings, 'the issuer identifier (iss), or a list of them')
  issuer!: unknown;

  @IsRequired('audience', isOneOrMoreStrings, "this API's identifier (aud), or a list of them")
  audience!: unknown;

  @IsOptional()
  @Is('jwksUri', isHttpUrl, "jwksUri must be an http(s) URL, such as the issuer metadata's jwks_uri")
  @Is('jwksUriCredentials', hasNoCredentials, 'jwksUri must not carry a user name or password: fetch refuses such URLs, and they would show in logs')
  jwksUri?: unknown;

  @IsOptional()
  @IsArray({ message: 'keys must be an array of public JWKs, PEM strings or KeyObjects' })
  @Is('keys', isKeyInput, 'keys must hold public JWKs, PEM strings or KeyObjects', { each: true })
  keys?: unknown;

  @IsOptional()
  @IsArray({ message: `algorithms must be a list drawn from ${JWS_ALGORITHMS.join(', ')}` })
  @IsIn(JWS_ALGORITHMS, {
    each: true,
    message: ({ value }) =>
      `algorithms may only hold ${JWS_ALGORITHMS.join(', ')}: "none" and HMAC (HS*) algorithms are refused, ` +
      `because a resource server verifies with the issuer's public keys (got ${JSON.stringify(
        [value].flat().filter((algorithm) => !JWS_ALGORITHMS.includes(algorithm as string)).join(', '),
      )})`,
  })
  algorithms?: unknown;

  @IsOptional()
  @DurationWithin('clockTolerance', 0, 300, 'at most 5 minutes: every second of it keeps an expired token alive')
  clockTolerance?: unknown;

  @IsOptional()
  @IsString({ message: "tokenType must be a JWT typ such as 'at+jwt'" })
  tokenType?: unknown;

  @IsOptional()
  @IsArray({ message: 'requiredClaims must be a list of claim names' })
  @IsString({ each: true, message: 'requiredClaims must be a list of claim names' })
  requiredClaims?: unknown;

  @IsOptional()
  @IsArray({ message: "scopeClaims must be a list of 'scope', 'scp', 'permissions'" })
  @IsIn(['scope', 'scp', 'permissions'], { each: true, message: "scopeClaims may only hold 'scope', 'scp', 'permissions'" })
  scopeClaims?: unknown;

  @IsOptional()
  @IsArray({ message: 'acrRanking must list acr values from lowest to highest assurance' })
  @Is('acrRanking', (value) => typeof value === 'string' && isChallengeItem(value), 'acrRanking values must be visible ASCII without spaces, quotes or backslashes', { each: true })
  acrRanking?: unknown;

  @IsOptional()
  @IsIn(['authenticated', 'none'], { message: "defaultPolicy must be 'authenticated' or 'none'" })
  defaultPolicy?: unknown;

  @IsOptional()
  @Is('realm', (value) => isNonEmptyString(value) && isChallengeText(value), 'realm must be printable ASCII without quotes or backslashes, and not empty')
  realm?: unknown;

  @IsOptional()
  @Is('reauthenticateUrl', (value) => isHttpUrl(value) || (typeof value === 'string' && /^\/(?![/\\])/.test(value)), 'reauthenticateUrl must be an absolute http(s) URL or a path starting with a single "/"')
  reauthenticateUrl?: unknown;

  @IsOptional()
  @Is('requestProperty', (value) => value === false || isNonEmptyString(value), "requestProperty must be a property name such as 'user', or false")
  @Is(
    'requestPropertyFree',
    (value) => typeof value !== 'string' || !isRequestProperty(value),
    ({ value }) => `requestProperty '${value}' would overwrite the request's own property: use 'user' or another free name`,
  )
  requestProperty?: unknown;

  @IsOptional()
  @IsInt({ message: 'tokenCacheSize must be a whole number of tokens (0 turns the cache off)' })
  @Min(0, { message: 'tokenCacheSize must be 0 or more' })
  tokenCacheSize?: unknown;

  @IsOptional()
  @IsInt({ message: 'maxTokenLength must be a whole number of characters' })
  @Min(256, { message: 'maxTokenLength must be at least 256' })
  @Max(65536, { message: 'maxTokenLength must be at most 65536' })
  maxTokenLength?: unknown;

  @IsOptional()
  @DurationWithin('jwksTimeout', 1, 60, 'from 1 second to 1 minute')
  jwksTimeout?: unknown;

  @IsOptional()
  @DurationWithin('jwksCooldown', 1, 3600, 'from 1 second to 1 hour')
  jwksCooldown?: unknown;

  @IsOptional()
  @DurationWithin('jwksRefreshInterval', 1, 86400, 'from 1 second to 1 day')
  jwksRefreshInterval?: unknown;

  @IsOptional()
  @IsBoolean({ message: 'allowInsecureJwksUri must be true or false' })
  allowInsecureJwksUri?: unknown;

  @IsOptional()
  @IsBoolean({ message: 'globalGuard must be true or false' })
  globalGuard?: unknown;

  @IsOptional()
  @IsBoolean({ message: 'globalFilter must be true or false' })
  globalFilter?: unknown;
}

const KNOWN_OPTIONS = Object.keys(new StepUpOptionsSchema());

function problemsOf(errors: readonly ValidationError[]): string[] {
  return errors.flatMap(({ property, constraints = {} }) =>
    Object.entries(constraints).map(([name, message]) =>
      name === 'whitelistValidation'
        ? `unknown option "${property}": check its spelling (known options: ${KNOWN_OPTIONS.join(', ')})`
        : message,
    ),
  );
}

const isAlgorithmList = (value: unknown): value is string[] =>
  Array.isArray(value) && value.length > 0 && value.every((algorithm) => JWS_ALGORITHMS.includes(algorithm));

/** What is wrong with each static key, once the list and the algorithms are well formed enough to tell. */
function keyProblems({ keys, algorithms = DEFAULT_ALGORITHMS }: StepUpModuleOptions): string[] {
  return Array.isArray(keys) && keys.every(isKeyInput) && isAlgorithmList(algorithms) ? staticKeyProblems(keys, algorithms) : [];
}

const list = (value: string | string[]): string[] => (typeof value === 'string' ? [value] : value);
const seconds = (value: Duration | undefined, fallback: number, name: string) =>
  value === undefined ? fallback : parseDurationSeconds(value, name);

/** Checks the options and applies defaults. Throws {@link StepUpOptionsError} naming each problem. */
export function resolveStepUpOptions(options: StepUpModuleOptions): ResolvedStepUpOptions {
  if (typeof options !== 'object' || options === null) {
    throw new StepUpOptionsError(['StepUpModule needs an options object: { issuer, audience, jwksUri }']);
  }
  const schema = Object.assign(new StepUpOptionsSchema(), options);
  const problems = problemsOf(validateSync(schema, { whitelist: true, forbidNonWhitelisted: true }));
  if ((options.jwksUri == null) === (options.keys == null)) {
    problems.push("give exactly one key source: jwksUri (the issuer's JWK Set URL) or keys (public keys)");
  }
  if (Array.isArray(options.keys) && options.keys.length === 0) problems.push('keys must hold at least one key');
  problems.push(...keyProblems(options));
  const jwksUrl = urlOf(options.jwksUri);
  // Keys fetched in clear can be swapped on the way, and with them the signature of every token.
  if (jwksUrl?.protocol === 'http:' && !isLoopback(jwksUrl) && options.allowInsecureJwksUri !== true) {
    problems.push(
      `jwksUri must use https: ${jwksUrl.host} is not a loopback address, and keys fetched in clear can be replaced on the way ` +
        '(inside a network you trust end to end, set allowInsecureJwksUri: true)',
    );
  }
  if (Array.isArray(options.algorithms) && options.algorithms.length === 0) {
    problems.push('algorithms must name at least one algorithm; leave it out for the default');
  }
  const audience = isOneOrMoreStrings(options.audience) ? list(options.audience) : [];
  const realm = options.realm ?? audience[0];
  if (options.realm === undefined && realm !== undefined && !isChallengeText(realm)) {
    problems.push('realm: the audience cannot serve as realm (it holds quotes or backslashes); set realm');
  }
  if (problems.length) throw new StepUpOptionsError(problems);

  return Object.freeze({
    issuer: list(options.issuer),
    audience,
    jwksUri: options.jwksUri == null ? undefined : new URL(options.jwksUri),
    keys: options.keys ?? undefined,
    algorithms: options.algorithms ?? DEFAULT_ALGORITHMS,
    clockTolerance: seconds(options.clockTolerance, 5, 'clockTolerance'),
    tokenType: options.tokenType,
    requiredClaims: options.requiredClaims ?? [],
    scopeClaims: options.scopeClaims ?? DEFAULT_SCOPE_CLAIMS,
    acrRanking: options.acrRanking ?? [],
    defaultPolicy: options.defaultPolicy ?? 'authenticated',
    realm: realm!,
    reauthenticateUrl: options.reauthenticateUrl,
    requestProperty: options.requestProperty ?? false,
    tokenCacheSize: options.tokenCacheSize ?? 1000,
    maxTokenLength: options.maxTokenLength ?? 8192,
    jwksTimeoutMs: seconds(options.jwksTimeout, 5, 'jwksTimeout') * 1000,
    jwksCooldownMs: seconds(options.jwksCooldown, 30, 'jwksCooldown') * 1000,
    jwksRefreshIntervalMs: seconds(options.jwksRefreshInterval, 600, 'jwksRefreshInterval') * 1000,
  });
}
