import type { AccessTokenClaims } from 'nestjs-step-up';
import { html } from '../idp/html.template.js';
import { page } from '../idp/interaction.views.js';

export const shopHomePage = (signedIn: boolean) =>
  page(
    'Shop',
    html`<p>${signedIn ? 'You are signed in.' : 'You are not signed in.'}</p>
<p>Your basket: one sample mug, 12.50 EUR.</p>
<p><a href="/shop/checkout">Go to checkout</a></p>
${signedIn ? '' : html`<p><a href="/shop/login">Sign in</a></p>`}`,
  );

export const checkoutPage = (claims: AccessTokenClaims) =>
  page(
    'Checkout',
    html`<p>Pay 12.50 EUR for one sample mug.</p>
<p>You confirmed it was you with: <strong id="amr">${Array.isArray(claims.amr) ? claims.amr.join(', ') : 'no second factor'}</strong>.</p>
<p><a href="/shop">Back to the shop</a></p>`,
  );

export const signInFailedPage = (reason: string) =>
  page('Sign-in not completed', html`<p class="error" role="alert">${reason}</p><p><a href="/shop">Back to the shop</a></p>`);
