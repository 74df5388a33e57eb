import { html } from '../idp/html.template.js';
import { SAMPLE_CLIENT_ID } from '../idp/idp.provider.js';
import { page } from '../idp/interaction.views.js';

export interface CallbackContext {
  readonly tokenEndpoint: string;
  readonly redirectUri: string;
}

const single = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
/** Authorization codes are base64url: anything else is refused rather than put in a command to copy. */
const CODE = /^[A-Za-z0-9_-]{1,256}$/;

/**
 * The demo client's redirect URI, for following the flow by hand: shows the authorization code (or
 * the error) and the curl command that exchanges it. A real client handles this itself.
 */
export function callbackPage(query: Record<string, unknown>, { tokenEndpoint, redirectUri }: CallbackContext): string {
  const error = single(query.error);
  if (error !== undefined) {
    return page('Authorization failed', html`<p class="error" role="alert">${error}: ${single(query.error_description) ?? ''}</p>`);
  }
  const code = single(query.code);
  if (code === undefined || !CODE.test(code)) {
    return page('Authorization failed', html`<p class="error" role="alert">No valid authorization code in this URL.</p>`);
  }
  const curl = `curl -s ${tokenEndpoint} -d grant_type=authorization_code -d client_id=${SAMPLE_CLIENT_ID} \\
  -d redirect_uri=${redirectUri} -d code_verifier="$CODE_VERIFIER" \\
  -d code=${code}`;
  return page(
    'Authorization code received',
    html`<p>Exchange it within a minute, with the <code>CODE_VERIFIER</code> you generated:</p><pre>${curl}</pre>`,
  );
}
