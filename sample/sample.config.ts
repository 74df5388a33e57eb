import type { UnenrolledMfaPolicy } from 'nestjs-step-up';
import type { SampleAppOptions } from './sample.app.js';

/** Thrown for a wrong environment variable; the message names it and what is expected. */
export class SampleConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SampleConfigError';
  }
}

const POLICIES: readonly UnenrolledMfaPolicy[] = ['ALLOW_SKIP', 'FORCE_ENROLL'];

function portOf(value: string | undefined): number {
  if (value === undefined || value === '') return 3000;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SampleConfigError(`PORT must be 0-65535, got ${JSON.stringify(value)}`);
  return port;
}

/**
 * Reads the sample's settings from the environment: PORT, HOST, SMTP_URL,
 * STEPUP_UNENROLLED_MFA_POLICY, and STEPUP_ISSUER + STEPUP_AUDIENCE (+ STEPUP_JWKS_URI) to trust an
 * external issuer instead of the embedded one.
 */
export function readSampleConfig(env: NodeJS.ProcessEnv): SampleAppOptions {
  const { STEPUP_ISSUER: issuer, STEPUP_AUDIENCE: audience, STEPUP_JWKS_URI: jwksUri } = env;
  if ((issuer === undefined) !== (audience === undefined)) {
    throw new SampleConfigError('set both STEPUP_ISSUER and STEPUP_AUDIENCE to trust an external issuer, or neither');
  }
  if (jwksUri !== undefined && issuer === undefined) {
    throw new SampleConfigError('STEPUP_JWKS_URI needs STEPUP_ISSUER and STEPUP_AUDIENCE');
  }
  const policy = env.STEPUP_UNENROLLED_MFA_POLICY;
  if (policy !== undefined && !POLICIES.includes(policy as UnenrolledMfaPolicy)) {
    throw new SampleConfigError(`STEPUP_UNENROLLED_MFA_POLICY must be ${POLICIES.join(' or ')}, got ${JSON.stringify(policy)}`);
  }
  return {
    port: portOf(env.PORT),
    ...(env.HOST && { host: env.HOST }),
    ...(env.SMTP_URL && { smtpUrl: env.SMTP_URL }),
    ...(policy !== undefined && { unenrolledMfaPolicy: policy as UnenrolledMfaPolicy }),
    ...(issuer !== undefined && audience !== undefined && { externalIssuer: { issuer, audience, ...(jwksUri && { jwksUri }) } }),
  };
}
