import 'reflect-metadata';
import { SAMPLE_CLIENT_ID, SAMPLE_REDIRECT_URI } from './idp/idp.provider.js';
import { DEMO_TOTP_SECRET, DEMO_USERS } from './idp/users.store.js';
import { createSampleApp, type SampleApp } from './sample.app.js';
import { readSampleConfig } from './sample.config.js';

function banner({ url, issuer, audience, idp }: SampleApp): string {
  const lines = [
    '',
    `Sample bank API   ${url}/api   (try: curl ${url}/api/health)`,
    `Trusted issuer    ${issuer}`,
    `API audience      ${audience}`,
  ];
  if (idp === undefined) return [...lines, ''].join('\n');
  return [
    ...lines,
    `Discovery         ${issuer}/.well-known/openid-configuration`,
    `Client            ${SAMPLE_CLIENT_ID} (public, PKCE), redirect URI ${SAMPLE_REDIRECT_URI.replace('127.0.0.1', new URL(url).host)}`,
    `Web shop          ${url}/shop   (its checkout needs a fresh MFA: the browser is sent to step up and back)`,
    '',
    'Demo users (demo passwords, never reuse them):',
    ...DEMO_USERS.map(({ email, password, description }) => `  ${email.padEnd(20)} ${(password ?? '(magic link)').padEnd(16)} ${description}`),
    `  Authenticator app secret for bob: ${DEMO_TOTP_SECRET}`,
    '',
    'Email and SMS codes are printed below unless SMTP_URL is set: that is this demo outbox\'s job.',
    'Quick start: see "Step-up by hand" in README.md, or open in a browser:',
    `  ${issuer}/auth?client_id=${SAMPLE_CLIENT_ID}&response_type=code&scope=openid%20read:balance%20transfer:funds` +
      `&redirect_uri=${encodeURIComponent(`${url}/callback`)}&code_challenge_method=S256&code_challenge=<S256 of your verifier>`,
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const sample = await createSampleApp(readSampleConfig(process.env));
  console.log(banner(sample));
  const shutdown = () => {
    sample.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
