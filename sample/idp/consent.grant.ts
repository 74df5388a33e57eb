import type { Request, Response } from 'express';
import type Provider from 'oidc-provider';
import type { Interaction } from 'oidc-provider';
import type { UserStore } from './users.store.js';

/**
 * Consent for the sample's first-party client is implied, so no screen is shown. The grant is limited
 * to the API scopes the user holds: the others are recorded as refused and never reach a token.
 */
export async function grantConsent(provider: Provider, users: UserStore, req: Request, res: Response, interaction: Interaction) {
  const { prompt, params, session, grantId } = interaction;
  const user = session && users.findById(session.accountId);
  if (user === undefined || params.client_id === undefined) {
    await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'No signed-in user to grant access for.' });
    return;
  }
  const grant =
    (grantId !== undefined && (await provider.Grant.find(grantId))) ||
    new provider.Grant({ accountId: user.id, clientId: params.client_id });
  const { missingOIDCScope, missingOIDCClaims, missingResourceScopes } = prompt.details;
  if (missingOIDCScope) grant.addOIDCScope(missingOIDCScope.join(' '));
  if (missingOIDCClaims) grant.addOIDCClaims(missingOIDCClaims);
  for (const [resource, scopes] of Object.entries(missingResourceScopes ?? {})) {
    const held = scopes.filter((scope) => user.scopes.includes(scope));
    const refused = scopes.filter((scope) => !user.scopes.includes(scope));
    if (held.length > 0) grant.addResourceScope(resource, held.join(' '));
    if (refused.length > 0) grant.rejectResourceScope(resource, refused.join(' '));
  }
  await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
}
