import { ACR_MFA } from 'nestjs-step-up';
import { ACR_SINGLE_FACTOR, requiredAcr, sessionMeetsAcrValues, signInMethodOfSession } from './idp.acr.js';

describe('acr_values handling of the embedded provider', () => {
  it('requires the weakest acr it can issue among the requested ones', () => {
    expect(requiredAcr(undefined)).toBe(ACR_SINGLE_FACTOR);
    expect(requiredAcr(`urn:unknown ${ACR_MFA}`)).toBe(ACR_MFA);
    expect(requiredAcr(`${ACR_MFA} ${ACR_SINGLE_FACTOR}`)).toBe(ACR_SINGLE_FACTOR);
    expect(requiredAcr('urn:unknown')).toBeUndefined();
  });

  it('lets a stronger session acr meet a weaker request, never the reverse', () => {
    expect(sessionMeetsAcrValues(ACR_MFA, ACR_SINGLE_FACTOR)).toBe(true);
    expect(sessionMeetsAcrValues(ACR_MFA, ACR_MFA)).toBe(true);
    expect(sessionMeetsAcrValues(ACR_SINGLE_FACTOR, undefined)).toBe(true);
    expect(sessionMeetsAcrValues(ACR_SINGLE_FACTOR, ACR_MFA)).toBe(false);
    expect(sessionMeetsAcrValues(undefined, ACR_SINGLE_FACTOR)).toBe(false);
    expect(sessionMeetsAcrValues(ACR_MFA, 'urn:unknown')).toBe(false);
  });

  it('reads the first factor back from a single-factor session amr only', () => {
    expect(signInMethodOfSession(['pwd'])).toBe('password');
    expect(signInMethodOfSession(['email'])).toBe('magic_link');
    expect(signInMethodOfSession(['otp', 'email'])).toBe('magic_code');
    expect(signInMethodOfSession(['mfa', 'otp'])).toBeUndefined();
    expect(signInMethodOfSession(undefined)).toBeUndefined();
  });
});
