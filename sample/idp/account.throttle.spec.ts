import { ACCOUNT_FAILURE_LIMIT, ACCOUNT_FAILURE_WINDOW_MS, AccountThrottle } from './account.throttle.js';

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

  it('tracks a bounded number of accounts, evicting the one that failed least recently', () => {
    const limiter = throttle();
    fail(limiter, 'victim', ACCOUNT_FAILURE_LIMIT);
    for (let account = 0; account < 10_000; account += 1) limiter.recordFailure(`made-up-${account}`);
    expect(limiter.locked('victim')).toBe(false);
    fail(limiter, 'alice', ACCOUNT_FAILURE_LIMIT);
    limiter.recordFailure('one-more');
    expect(limiter.locked('alice')).toBe(true);
  });
});
