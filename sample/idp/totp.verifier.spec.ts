import { jest } from '@jest/globals';
import { generate } from 'otplib';
import { verifyTotp } from './totp.verifier.js';
import { DEMO_TOTP_SECRET, UserStore } from './users.store.js';

describe('verifyTotp', () => {
  afterEach(() => jest.useRealTimers());

  async function bob() {
    const users = await UserStore.seed();
    return { users, user: users.findByEmail('bob@bank.example')! };
  }

  it('accepts a code once, and no code of the same or an earlier step after it', async () => {
    const { users, user } = await bob();
    const code = await generate({ secret: DEMO_TOTP_SECRET });
    expect(await verifyTotp(users, user, code)).toBe(true);
    expect(await verifyTotp(users, user, code)).toBe(false);
  });

  it('refuses, without throwing, when the clock stepped back behind a code already accepted', async () => {
    const { users, user } = await bob();
    const now = Math.floor(Date.now() / 1000);
    // A phone running 30 s ahead: the code of the next step is within the window and accepted.
    expect(await verifyTotp(users, user, await generate({ secret: DEMO_TOTP_SECRET, epoch: now + 30 }))).toBe(true);
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'queueMicrotask'], now: (now - 90) * 1000 });
    expect(await verifyTotp(users, user, await generate({ secret: DEMO_TOTP_SECRET }))).toBe(false);
  });
});
