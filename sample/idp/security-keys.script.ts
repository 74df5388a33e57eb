/**
 * The script of the provider's security-key buttons, served as /interaction/webauthn.js (the pages allow
 * scripts from their own origin only). It asks the provider for the ceremony's options, lets the browser
 * talk to the key, posts the answer, and follows where the provider sends it.
 */
export const SECURITY_KEY_SCRIPT = `'use strict';
const post = (url, body) =>
  fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) });
for (const button of document.querySelectorAll('button[data-ceremony]')) {
  button.addEventListener('click', async () => {
    const status = document.getElementById('security-key-status');
    button.disabled = true;
    status.textContent = '';
    try {
      const offered = await post(button.dataset.options);
      const options = await offered.json();
      if (!offered.ok) {
        status.textContent = options.error ?? 'The security key cannot be used now.';
        button.disabled = false;
        return;
      }
      const credential =
        button.dataset.ceremony === 'register'
          ? await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(options) })
          : await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(options) });
      const result = await (await post(button.dataset.answer, credential.toJSON())).json();
      if (typeof result.location === 'string') return window.location.assign(result.location);
      status.textContent = result.error ?? 'The security key was not accepted.';
    } catch {
      status.textContent = 'The security key did not answer. Try again, or choose another way.';
    }
    button.disabled = false;
  });
}
`;
