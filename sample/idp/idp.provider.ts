import { generateKeyPairSync, randomBytes, randomUUID, type JsonWebKey } from 'node:crypto';
import { Logger } from '@nestjs/common';
import Provider, { errors, interactionPolicy, type KoaContextWithOIDC } from 'oidc-provider';
import { ACR_RANKING, sessionMeetsAcrValues } from './idp.acr.js';
import { API_SCOPES, type UserStore } from './users.store.js';

/** The sample's public client: authorization code + PKCE, no secret (RFC 8252 native app). */
export const SAMPLE_CLIENT_ID = 'sample-bank-cli';
/** Loopback redirect: any port is accepted on 127.0.0.1 (RFC 8252 §7.3), so tests and CLIs can listen anywhere. */
export const SAMPLE_REDIRECT_URI = 'http://127.0.0.1/callback';
/** The sample's web shop: a confidential client whose server keeps the tokens. */
export const SHOP_CLIENT_ID = 'sample-shop-web';
/** Access tokens for the API live 10 minutes; refresh tokens renew them. */
const ACCESS_TOKEN_TTL_SECONDS = 600;
const TTL_SECONDS = {
  AccessToken: ACCESS_TOKEN_TTL_SECONDS,
  AuthorizationCode: 60,
  IdToken: ACCESS_TOKEN_TTL_SECONDS,
  Interaction: 600,
  Grant: 86_400,
  RefreshToken: 86_400,
  Session: 86_400,
};

export interface IdentityProviderOptions {
  readonly issuer: string;
  /** The bank API's resource indicator, used as the access tokens' `aud`. */
  readonly audience: string;
  readonly users: UserStore;
  /** The web shop's registration: its secret (new at each start) and its redirect URI. */
  readonly shop: { readonly clientSecret: string; readonly redirectUri: string };
}

/** A fresh P-256 signing key each start: tokens from a previous run stop verifying, as they should. */
function signingKey(): JsonWebKey {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { ...privateKey.export({ format: 'jwk' }), kid: randomUUID(), alg: 'ES256', use: 'sig' };
}

/**
 * oidc-provider treats `acr_values` as a wish. This check makes it a requirement: while the session's
 * acr is weaker than every requested value, the login prompt stays open, so a weaker acr is never
 * issued silently; with `prompt=none` the client gets `login_required`.
 */
function loginPolicyEnforcingAcrValues() {
  const policy = interactionPolicy.base();
  policy.get('login')!.checks.add(
    new interactionPolicy.Check(
      'acr_values_not_met',
      'the requested acr_values are not met by the current session',
      'login_required',
      ({ oidc }) => {
        const acrValues = oidc.params.acr_values;
        if (typeof acrValues !== 'string' || acrValues.trim() === '') return interactionPolicy.Check.NO_NEED_TO_PROMPT;
        return !sessionMeetsAcrValues(oidc.acr, acrValues);
      },
    ),
  );
  return policy;
}

/** Copies the end-user authentication into JWT access tokens; a refresh keeps the original values. */
async function authenticationClaims({ oidc }: KoaContextWithOIDC) {
  const source = oidc.entities.AuthorizationCode ?? oidc.entities.RefreshToken;
  if (source === undefined) return undefined;
  return { acr: source.acr, amr: source.amr, auth_time: source.authTime };
}

export function createIdentityProvider({ issuer, audience, users, shop }: IdentityProviderOptions): Provider {
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: SAMPLE_CLIENT_ID,
        application_type: 'native',
        token_endpoint_auth_method: 'none',
        // localhost too, for the sample served with HOST=localhost (security keys).
        redirect_uris: [SAMPLE_REDIRECT_URI, SAMPLE_REDIRECT_URI.replace('127.0.0.1', 'localhost')],
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
      },
      {
        client_id: SHOP_CLIENT_ID,
        client_secret: shop.clientSecret,
        application_type: 'web',
        token_endpoint_auth_method: 'client_secret_basic',
        redirect_uris: [shop.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [signingKey()] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    acrValues: [...ACR_RANKING],
    // Replacing `claims` drops oidc-provider's defaults, so the openid ones are listed again.
    claims: {
      openid: ['sub', 'acr', 'amr', 'auth_time', 'sid', 'iss'],
      email: ['email', 'email_verified'],
      profile: ['name'],
    },
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    ttl: TTL_SECONDS,
    async findAccount(_ctx, sub) {
      const user = users.findById(sub);
      if (user === undefined) return undefined;
      return {
        accountId: user.id,
        claims: () => ({ sub: user.id, email: user.email, email_verified: true, name: user.name }),
      };
    },
    extraTokenClaims: authenticationClaims,
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      policy: loginPolicyEnforcingAcrValues(),
    },
    features: {
      devInteractions: { enabled: false },
      revocation: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => audience,
        useGrantedResource: async () => true,
        getResourceServerInfo: async (_ctx: KoaContextWithOIDC, resource: string) => {
          if (resource !== audience) throw new errors.InvalidTarget();
          return {
            scope: API_SCOPES.join(' '),
            audience,
            accessTokenFormat: 'jwt',
            accessTokenTTL: ACCESS_TOKEN_TTL_SECONDS,
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
  });
  const logger = new Logger('IdentityProvider');
  provider.on('server_error', (_ctx, error) => logger.error(error));
  return provider;
}
