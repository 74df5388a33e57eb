import type { StepUpOption } from 'nestjs-step-up';
import { html, SafeHtml } from './html.template.js';

const STYLE = new SafeHtml(`body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1b1f24}
form{margin:1rem 0;padding:1rem;border:1px solid #d0d7de;border-radius:8px}
label,input,button{display:block;width:100%;box-sizing:border-box;margin:.4rem 0;font-size:1rem}
input{padding:.5rem}button{padding:.6rem;cursor:pointer}.error{color:#b42318;font-weight:600}
button.link{background:none;border:none;color:#0969da;text-decoration:underline}`);

export function page(title: string, body: SafeHtml): string {
  return html`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${title} · Sample Bank</title><style>${STYLE}</style></head>
<body><h1>${title}</h1>${body}</body></html>`.value;
}

const errorLine = (error: string | undefined) => error && html`<p class="error" role="alert">${error}</p>`;

const cancelForm = (uid: string, label = 'Cancel') =>
  html`<form method="post" action="/interaction/${uid}/abort"><button type="submit" class="link">${label}</button></form>`;

export interface LoginView {
  readonly uid: string;
  readonly error?: string;
  readonly email?: string;
}

export const loginPage = ({ uid, error, email }: LoginView) =>
  page(
    'Sign in',
    html`${errorLine(error)}
<form method="post" action="/interaction/${uid}/login">
  <label for="email">Email</label><input id="email" name="email" type="email" autocomplete="username" required value="${email ?? ''}">
  <label for="password">Password</label><input id="password" name="password" type="password" autocomplete="current-password" required>
  <button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${uid}/magic/send">
  <label for="magic-email">No password? Email me a sign-in link and code</label>
  <input id="magic-email" name="email" type="email" autocomplete="username" required>
  <button type="submit">Email me a link</button>
</form>
${cancelForm(uid)}`,
  );

export const magicSentPage = ({ uid, error }: { uid: string; error?: string }) =>
  page(
    'Check your email',
    html`${errorLine(error)}
<p>If that address can sign in by email, we sent it a link and a 6-digit code. Open the link in this browser, or type the code.</p>
<form method="post" action="/interaction/${uid}/magic/code">
  <label for="code">Sign-in code</label><input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>
  <button type="submit">Sign in</button>
</form>
${cancelForm(uid)}`,
  );

const METHOD_LABELS: Readonly<Record<StepUpOption['method'], string>> = {
  email_otp: 'Email code',
  authenticator_app: 'Authenticator app',
  sms: 'Text message',
  webauthn: 'Security key',
};

export interface StepUpView {
  readonly uid: string;
  readonly email: string;
  readonly phone?: string;
  readonly options: readonly StepUpOption[];
  /** Methods with a code sent and still valid: they show a code field. */
  readonly codeSent: ReadonlySet<StepUpOption['method']>;
  readonly error?: string;
}

const codeForm = (uid: string, method: string, label: string) =>
  html`<form method="post" action="/interaction/${uid}/step-up/verify">
  <input type="hidden" name="method" value="${method}">
  <label for="code-${method}">${label}</label>
  <input id="code-${method}" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" required>
  <button type="submit">Verify</button>
</form>`;

const sendForm = (uid: string, method: string, label: string) =>
  html`<form method="post" action="/interaction/${uid}/step-up/send">
  <input type="hidden" name="method" value="${method}"><button type="submit">${label}</button>
</form>`;

function optionForm({ uid, email, phone, codeSent }: StepUpView, { method }: StepUpOption): SafeHtml | undefined {
  switch (method) {
    case 'authenticator_app':
      return codeForm(uid, method, 'Code from your authenticator app');
    case 'email_otp':
      return codeSent.has(method)
        ? codeForm(uid, method, `Code sent to ${email}`)
        : sendForm(uid, method, `${METHOD_LABELS[method]}: send a code to ${email}`);
    case 'sms':
      return codeSent.has(method)
        ? codeForm(uid, method, `Code sent to ${phone ?? 'your phone'}`)
        : sendForm(uid, method, `${METHOD_LABELS[method]}: send a code to ${phone ?? 'your phone'}`);
    case 'webauthn':
      return html`<form>${securityKeyButton('authenticate', `/interaction/${uid}/step-up/webauthn`, 'Security key: use your key')}</form>`;
  }
}

/** A button that runs a WebAuthn ceremony through SECURITY_KEY_SCRIPT: options from `{answer}/options`, answer to `answer`. */
const securityKeyButton = (ceremony: 'register' | 'authenticate', answer: string, label: string) =>
  html`<button type="button" data-ceremony="${ceremony}" data-options="${answer}/options" data-answer="${answer}">${label}</button>`;

const securityKeyScript = html`<p id="security-key-status" class="error" role="alert"></p><script src="/interaction/webauthn.js"></script>`;

export const stepUpPage = (view: StepUpView) =>
  page(
    'Confirm it is you',
    html`${errorLine(view.error)}
<p>This action needs a second factor. Choose one:</p>
${view.options.map((option) => optionForm(view, option))}
${view.options.some(({ method }) => method === 'webauthn') && securityKeyScript}
${cancelForm(view.uid)}`,
  );

/** After a second factor was proved: an offer to add a security key for next time. */
export const addSecurityKeyPage = ({ uid }: { uid: string }) =>
  page(
    'Add a security key?',
    html`<p>Next time, confirm it is you with a touch of your security key (WebAuthn).</p>
<form>${securityKeyButton('register', `/interaction/${uid}/security-key`, 'Add a security key')}</form>
<form method="post" action="/interaction/${uid}/security-key/skip"><button type="submit" class="link">Not now</button></form>
${securityKeyScript}`,
  );

export const enrolRequiredPage = ({ uid, message }: { uid: string; message: string }) =>
  page('Second factor required', html`<p class="error" role="alert">${message}</p>${cancelForm(uid, 'Back to the app')}`);

export const errorPage = (message: string) => page('Sign-in problem', html`<p class="error" role="alert">${message}</p>`);
