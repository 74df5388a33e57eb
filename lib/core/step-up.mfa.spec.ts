import { ACR_MFA } from './step-up.constants.js';
import {
  buildSteppedUpClaims,
  chooseStepUpMethods,
  STEP_UP_METHOD_AMR,
  type MfaMethod,
  type SignInMethod,
  type StepUpDecision,
  type StepUpMethod,
  type UnenrolledMfaPolicy,
} from './step-up.mfa.js';

const choose = (
  enrolled: readonly MfaMethod[],
  signedInWith: SignInMethod,
  unenrolledMfaPolicy: UnenrolledMfaPolicy = 'FORCE_ENROLL',
): StepUpDecision => chooseStepUpMethods({ enrolled, signedInWith }, { unenrolledMfaPolicy });

const offered = (decision: StepUpDecision): StepUpMethod[] => {
  if (decision.outcome !== 'challenge') throw new Error(`expected a challenge, got ${decision.outcome}`);
  return decision.options.map((option) => option.method);
};

describe('STEP_UP_METHOD_AMR', () => {
  it('maps each method to the amr of the method table', () => {
    expect(STEP_UP_METHOD_AMR).toEqual({
      email_otp: ['mfa', 'otp'],
      authenticator_app: ['mfa', 'otp'],
      sms: ['mfa', 'sms'],
      webauthn: ['mfa', 'hwk'],
    });
  });
});

describe('chooseStepUpMethods', () => {
  describe('no MFA enrolled, not signed in through the mailbox', () => {
    it.each<SignInMethod>(['password', 'social', 'sso'])('offers only email OTP [mfa, otp] after %s', (signIn) => {
      for (const policy of ['ALLOW_SKIP', 'FORCE_ENROLL'] as const) {
        expect(choose([], signIn, policy)).toEqual({
          outcome: 'challenge',
          options: [{ method: 'email_otp', amr: ['mfa', 'otp'] }],
        });
      }
    });
  });

  describe('no MFA enrolled, signed in by magic link or magic code', () => {
    it.each<SignInMethod>(['magic_link', 'magic_code'])('ALLOW_SKIP skips the challenge after %s', (signIn) => {
      expect(choose([], signIn, 'ALLOW_SKIP')).toEqual({ outcome: 'skip' });
    });

    it.each<SignInMethod>(['magic_link', 'magic_code'])(
      'FORCE_ENROLL refuses with an enrolment error after %s',
      (signIn) => {
        const decision = choose([], signIn, 'FORCE_ENROLL');
        expect(decision).toEqual({
          outcome: 'enrol_required',
          error: {
            code: 'ERR_STEP_UP_MFA_ENROLMENT_REQUIRED',
            reason: 'no_second_factor_available',
            message: expect.stringMatching(/^This action needs a second factor\. Enrol /),
          },
        });
      },
    );
  });

  describe('one method enrolled', () => {
    it.each<[MfaMethod, string[]]>([
      ['authenticator_app', ['mfa', 'otp']],
      ['sms', ['mfa', 'sms']],
      ['webauthn', ['mfa', 'hwk']],
    ])('offers %s first, then email OTP', (method, amr) => {
      expect(choose([method], 'password')).toEqual({
        outcome: 'challenge',
        options: [
          { method, amr },
          { method: 'email_otp', amr: ['mfa', 'otp'] },
        ],
      });
    });

    it('drops email OTP after a magic link sign-in: the mailbox is not a second factor then', () => {
      expect(offered(choose(['sms'], 'magic_link'))).toEqual(['sms']);
      expect(offered(choose(['authenticator_app'], 'magic_code', 'ALLOW_SKIP'))).toEqual(['authenticator_app']);
    });
  });

  describe('several methods enrolled', () => {
    it('lists all of them in enrolment order, email OTP always last', () => {
      expect(offered(choose(['webauthn', 'sms', 'authenticator_app'], 'password'))).toEqual([
        'webauthn',
        'sms',
        'authenticator_app',
        'email_otp',
      ]);
    });

    it('lists a method enrolled twice once', () => {
      expect(offered(choose(['sms', 'authenticator_app', 'sms'], 'password'))).toEqual([
        'sms',
        'authenticator_app',
        'email_otp',
      ]);
    });
  });
});

describe('buildSteppedUpClaims', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  const nowSeconds = now.getTime() / 1000;

  it.each<[StepUpMethod, string[]]>([
    ['email_otp', ['mfa', 'otp']],
    ['authenticator_app', ['mfa', 'otp']],
    ['sms', ['mfa', 'sms']],
    ['webauthn', ['mfa', 'hwk']],
  ])('gives acr MFA, the amr of %s and auth_time = now by default', (method, amr) => {
    expect(buildSteppedUpClaims({ method, now })).toEqual({ acr: ACR_MFA, amr, auth_time: nowSeconds });
  });

  it('takes authTime as a Date or as epoch seconds', () => {
    const earlier = new Date(now.getTime() - 90_000);
    expect(buildSteppedUpClaims({ method: 'sms', authTime: earlier, now }).auth_time).toBe(nowSeconds - 90);
    expect(buildSteppedUpClaims({ method: 'sms', authTime: nowSeconds - 5, now: nowSeconds }).auth_time).toBe(
      nowSeconds - 5,
    );
  });

  it('defaults now to the current time', () => {
    const before = Math.floor(Date.now() / 1000);
    const { auth_time } = buildSteppedUpClaims({ method: 'email_otp' });
    expect(auth_time).toBeGreaterThanOrEqual(before);
    expect(auth_time).toBeLessThanOrEqual(Math.floor(Date.now() / 1000));
  });

  it('returns an amr array the caller can change without changing the table', () => {
    buildSteppedUpClaims({ method: 'sms', now }).amr.push('pwd');
    expect(STEP_UP_METHOD_AMR.sms).toEqual(['mfa', 'sms']);
  });

  it('refuses milliseconds, fractions, negatives and invalid dates', () => {
    expect(() => buildSteppedUpClaims({ method: 'sms', authTime: now.getTime(), now })).toThrow(
      /authTime looks like milliseconds/,
    );
    expect(() => buildSteppedUpClaims({ method: 'sms', authTime: 1.5, now })).toThrow(/whole epoch seconds/);
    expect(() => buildSteppedUpClaims({ method: 'sms', authTime: -1, now })).toThrow(TypeError);
    expect(() => buildSteppedUpClaims({ method: 'sms', now: new Date('nonsense') })).toThrow(/^now must be/);
  });

  it('refuses an authTime in the future', () => {
    expect(() => buildSteppedUpClaims({ method: 'sms', authTime: nowSeconds + 1, now })).toThrow(/in the future/);
  });

  it('refuses an unknown method, including inherited property names', () => {
    for (const method of ['password', 'toString']) {
      expect(() => buildSteppedUpClaims({ method: method as StepUpMethod, now })).toThrow(
        `unknown step-up method "${method}"`,
      );
    }
  });
});
