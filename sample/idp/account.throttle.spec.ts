import { ACCOUNT_FAILURE_LIMIT, ACCOUNT_FAILURE_WINDOW_MS, AccountThrottle, accountKey } from './account.throttle.js';

describe('AccountThrottle', () => {
  let now = 0;
  const throttle = () => new AccountThrottle(() => now);
  const fail = (limiter: AccountThrottle, account: string, times: number) => {
    for (let failure = 0; failure < times; failure += 1) limiter.recordFailure(account);
  };

  beforeEach(() => {
    now = 1_000_000;
  });

  it('locks an account at its limit of failures, and that account only', () => {
    const limiter = throttle();
    fail(limiter, 'alice', ACCOUNT_FAILURE_LIMIT - 1);
    expect(limiter.locked('alice')).toBe(false);
    limiter.recordFailure('alice');
    expect(limiter.locked('alice')).toBe(true);
    expect(limiter.locked('bob')).toBe(false);
  });

  it('forgets failures older than the window', () => {
    const limiter = throttle();
    fail(limiter, 'alice', ACCOUNT_FAILURE_LIMIT);
    now += ACCOUNT_FAILURE_WINDOW_MS;
    expect(limiter.locked('alice')).toBe(false);
  });

  it('locks at the 10th failure, for the 15 minutes the refusal announces', () => {
    const limiter = throttle();
    fail(limiter, 'alice', 9);
    expect(limiter.locked('alice')).toBe(false);
    limiter.recordFailure('alice');
    expect(limiter.locked('alice')).toBe(true);
    now += 15 * 60_000 - 1;
    expect(limiter.locked('alice')).toBe(true);
    now += 1;
    expect(limiter.locked('alice')).toBe(false);
  });

  it('counts the failures within the window: an older one neither adds to them nor takes them along when it goes', () => {
    const limiter = throttle();
    limiter.recordFailure('alice');
    now += ACCOUNT_FAILURE_WINDOW_MS / 2;
    fail(limiter, 'alice', ACCOUNT_FAILURE_LIMIT - 1);
    now += ACCOUNT_FAILURE_WINDOW_MS / 2;
    expect(limiter.locked('alice')).toBe(false);
    limiter.recordFailure('alice');
    expect(limiter.locked('alice')).toBe(true);
  });

  it('keeps a locked account locked however many other addresses fail meanwhile', () => {
    const limiter = throttle();
    fail(limiter, 'victim', ACCOUNT_FAILURE_LIMIT);
    for (let account = 0; account < 20_000; account += 1) limiter.recordFailure(`made-up-${account}`);
    expect(limiter.locked('victim')).toBe(true);
  });

  it('takes back the very failure counted before a proof that succeeded', () => {
    const limiter = throttle();
    const first = limiter.recordFailure('alice');
    now += ACCOUNT_FAILURE_WINDOW_MS / 2;
    fail(limiter, 'alice', ACCOUNT_FAILURE_LIMIT - 1);
    limiter.forgive('alice', first);
    expect(limiter.locked('alice')).toBe(false);
    limiter.recordFailure('alice');
    now += ACCOUNT_FAILURE_WINDOW_MS / 2; // had the newest been forgiven instead, the first would now age out
    expect(limiter.locked('alice')).toBe(true);
  });

  it('keys an address the same however it is spelled, in 64 characters however long it is', () => {
    expect(accountKey(' Alice@Bank.Example ')).toBe(accountKey('alice@bank.example'));
    expect(accountKey('ａｌｉｃｅ@bank.example')).toBe(accountKey('alice@bank.example'));
    expect(accountKey('bob@bank.example')).not.toBe(accountKey('alice@bank.example'));
    expect(accountKey(`${'a'.repeat(4000)}@bank.example`)).toHaveLength(64);
  });
});
