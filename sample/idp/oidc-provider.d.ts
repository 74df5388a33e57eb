/**
 * The part of node oidc-provider 9 (which ships no types) that the sample's identity provider uses.
 * Field names follow oidc-provider's documentation.
 */
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http';
  import type { JsonWebKey } from 'node:crypto';

  export interface OidcSession {
    accountId: string;
    uid?: string;
    acr?: string;
    amr?: string[];
  }

  export interface InteractionPrompt {
    name: 'login' | 'consent' | (string & {});
    reasons: string[];
    details: {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
  }

  export interface Interaction {
    uid: string;
    exp: number;
    prompt: InteractionPrompt;
    params: Record<string, string | undefined>;
    session?: OidcSession;
    grantId?: string;
    returnTo: string;
  }

  export interface InteractionResults {
    login?: { accountId: string; acr?: string; amr?: string[]; remember?: boolean; ts?: number };
    consent?: { grantId?: string };
    error?: string;
    error_description?: string;
  }

  export class Grant {
    constructor(properties: { accountId: string; clientId: string });
    static find(id: string): Promise<Grant | undefined>;
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    addResourceScope(resource: string, scope: string): void;
    rejectResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  }

  /** The token carrying the end-user authentication a new access token is issued from. */
  export interface AuthenticationSource {
    acr?: string;
    amr?: string[];
    authTime?: number;
  }

  export interface KoaContextWithOIDC {
    oidc: {
      params: Record<string, unknown>;
      acr?: string;
      entities: { AuthorizationCode?: AuthenticationSource; RefreshToken?: AuthenticationSource };
    };
  }

  export interface AccountClaims {
    sub: string;
    [claim: string]: unknown;
  }

  export interface Account {
    accountId: string;
    claims(use: string, scope: string): Promise<AccountClaims> | AccountClaims;
  }

  export interface ClientMetadata {
    client_id: string;
    client_secret?: string;
    application_type?: 'web' | 'native';
    token_endpoint_auth_method?: string;
    redirect_uris: string[];
    grant_types?: string[];
    response_types?: string[];
  }

  export interface ResourceServer {
    scope: string;
    audience: string;
    accessTokenFormat: 'jwt' | 'opaque';
    accessTokenTTL?: number;
    jwt?: { sign?: { alg: string } };
  }

  export class Check {
    constructor(
      reason: string,
      description: string,
      error: string,
      check: (ctx: KoaContextWithOIDC) => boolean | Promise<boolean>,
    );
    static readonly REQUEST_PROMPT: true;
    static readonly NO_NEED_TO_PROMPT: false;
  }

  export interface Prompt {
    name: string;
    checks: Check[] & { add(check: Check, index?: number): void };
  }

  export const errors: {
    InvalidTarget: new (description?: string) => Error;
    SessionNotFound: new (description?: string) => Error;
  };

  export const interactionPolicy: {
    Check: typeof Check;
    base(): Prompt[] & { get(name: string): Prompt | undefined };
  };

  export interface Configuration {
    clients: ClientMetadata[];
    jwks: { keys: JsonWebKey[] };
    cookies: { keys: string[] };
    acrValues: string[];
    claims: Record<string, string[]>;
    scopes: string[];
    findAccount(ctx: KoaContextWithOIDC, sub: string): Promise<Account | undefined>;
    extraTokenClaims(ctx: KoaContextWithOIDC, token: unknown): Promise<Record<string, unknown> | undefined>;
    interactions: { url(ctx: KoaContextWithOIDC, interaction: Interaction): string; policy: Prompt[] };
    features: Record<string, unknown>;
    clientDefaults: Record<string, unknown>;
    pkce: { required(): boolean };
    ttl: Record<string, number>;
    rotateRefreshToken: boolean;
    renderError(ctx: { type: string; body: string }, out: Record<string, string>, error: Error): void;
  }

  /** The provider's sign-in session. */
  export interface Session {
    /** Epoch seconds of the last sign-in (the session's `loginTs`). */
    authTime(): number | undefined;
  }

  export default class Provider {
    constructor(issuer: string, configuration: Partial<Configuration>);
    readonly Grant: typeof Grant;
    readonly Session: { findByUid(uid: string): Promise<Session | undefined> };
    readonly issuer: string;
    callback(): (req: IncomingMessage, res: ServerResponse) => void;
    interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
    interactionFinished(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<void>;
    /** Like interactionFinished, but returns where to send the browser instead of redirecting. */
    interactionResult(
      req: IncomingMessage,
      res: ServerResponse,
      result: InteractionResults,
      options?: { mergeWithLastSubmission?: boolean },
    ): Promise<string>;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
}
