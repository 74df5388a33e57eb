import { MAX_FAILED_ATTEMPTS, OneTimeCodes } from './one-time-code.js';

describe('OneTimeCodes', () => {
  let now: number;
  const codes = () => new OneTimeCodes(() => now);
  const wrongFor = (code: string) => (code === '000000' ? '111111' : '000000');

  beforeEach(() => {
    now = 1_000_000;
  });

  it('issues 6-digit codes accepted once, spaces ignored', () => {
    const store = codes();
    const code = store.issue('email_otp')!;
    expect(code).toMatch(/^\d{6}$/);
    expect(store.pending('email_otp')).toBe(true);
    expect(store.check('email_otp', `${code.slice(0, 3)} ${code.slice(3)}`)).toBe('accepted');
    expect(store.check('email_otp', code)).toBe('no_code');
    expect(store.pending('email_otp')).toBe(false);
  });

  it('keeps channels apart', () => {
    const store = codes();
    const code = store.issue('sms')!;
    expect(store.check('email_otp', code)).toBe('no_code');
    expect(store.check('sms', code)).toBe('accepted');
  });

  it('expires a code after 5 minutes', () => {
    const store = codes();
    const code = store.issue('email_otp')!;
    now += 5 * 60_000 - 1;
    expect(store.pending('email_otp')).toBe(true);
    now += 1;
    expect(store.pending('email_otp')).toBe(false);
    expect(store.check('email_otp', code)).toBe('expired');
    expect(store.check('email_otp', code)).toBe('no_code');
  });

  it('replaces the previous code of a channel', () => {
    const store = codes();
    const first = store.issue('email_otp')!;
    const second = store.issue('email_otp')!;
    if (first !== second) expect(store.check('email_otp', first)).toBe('wrong');
    expect(store.check('email_otp', second)).toBe('accepted');
  });

  it(`locks after ${MAX_FAILED_ATTEMPTS} wrong attempts across channels and TOTP, refusing even the right code`, () => {
    const store = codes();
    const email = store.issue('email_otp')!;
    store.issue('sms');
    expect(store.check('email_otp', wrongFor(email))).toBe('wrong');
    expect(store.check('sms', 'abc')).toBe('wrong');
    expect(store.recordFailure()).toBe('wrong');
    expect(store.check('email_otp', wrongFor(email))).toBe('wrong');
    expect(store.check('email_otp', wrongFor(email))).toBe('locked');
    expect(store.locked).toBe(true);
    expect(store.check('email_otp', email)).toBe('locked');
    expect(store.issue('email_otp')).toBeUndefined();
  });

  it('sends at most 3 codes per interaction', () => {
    const store = codes();
    for (let sent = 0; sent < 3; sent += 1) expect(store.issue('magic')).toMatch(/^\d{6}$/);
    expect(store.issue('email_otp')).toBeUndefined();
  });

  it('draws codes from the whole range 000000-999999', () => {
    const drawn = Array.from({ length: 100 }, () => codes()).flatMap((store) => [store.issue('email_otp')!, store.issue('sms')!, store.issue('magic')!]);
    for (const code of drawn) expect(code).toMatch(/^\d{6}$/);
    // Each fails with probability 0.9^300, about 2e-14.
    expect(drawn.some((code) => Number(code) < 100_000)).toBe(true);
    expect(drawn.some((code) => Number(code) >= 900_000)).toBe(true);
  });

  it('takes back one failure for a proof that succeeded, never below none', () => {
    const store = codes();
    store.forgiveFailure();
    for (let failure = 1; failure < MAX_FAILED_ATTEMPTS; failure += 1) expect(store.recordFailure()).toBe('wrong');
    store.forgiveFailure();
    expect(store.recordFailure()).toBe('wrong');
    expect(store.recordFailure()).toBe('locked');
  });
});
