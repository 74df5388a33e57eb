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

  /** Stops the clock halfway through a 30 s step, so that "now + 30 s" is the next step and "now + 60 s" the one after. */
  function midStep(): number {
    const now = Math.floor(Date.now() / 30_000) * 30 + 15;
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'queueMicrotask'], now: now * 1000 });
    return now;
  }

  it('refuses a user who has no authenticator app', async () => {
    const users = await UserStore.seed();
    const alice = users.findByEmail('alice@bank.example')!;
    expect(await verifyTotp(users, alice, await generate({ secret: DEMO_TOTP_SECRET }))).toBe(false);
  });

  it('ignores spaces in a code, and refuses a code with a digit more or less', async () => {
    const { users, user } = await bob();
    const code = await generate({ secret: DEMO_TOTP_SECRET });
    expect(await verifyTotp(users, user, `${code}0`)).toBe(false);
    expect(await verifyTotp(users, user, code.slice(1))).toBe(false);
    expect(await verifyTotp(users, user, ` ${code.slice(0, 3)} ${code.slice(3)} `)).toBe(true);
  });

  it('accepts one step of drift either side, not two', async () => {
    const { users, user } = await bob();
    const now = midStep();
    expect(await verifyTotp(users, user, await generate({ secret: DEMO_TOTP_SECRET, epoch: now - 60 }))).toBe(false);
    expect(await verifyTotp(users, user, await generate({ secret: DEMO_TOTP_SECRET, epoch: now + 60 }))).toBe(false);
    expect(await verifyTotp(users, user, await generate({ secret: DEMO_TOTP_SECRET, epoch: now - 30 }))).toBe(true);
  });

  it('after a code of this step, still accepts the next step\'s, then nothing of this step', async () => {
    const { users, user } = await bob();
    const now = midStep();
    expect(await verifyTotp(users, user, await generate({ secret: DEMO_TOTP_SECRET }))).toBe(true);
    expect(await verifyTotp(users, user, await generate({ secret: DEMO_TOTP_SECRET, epoch: now + 30 }))).toBe(true);
    expect(await verifyTotp(users, user, await generate({ secret: DEMO_TOTP_SECRET }))).toBe(false);
  });

  it('accepts a code sent twice at once only once', async () => {
    const { users, user } = await bob();
    const code = await generate({ secret: DEMO_TOTP_SECRET });
    const answers = await Promise.all([verifyTotp(users, user, code), verifyTotp(users, user, code)]);
    expect(answers.sort()).toEqual([false, true]);
  });
});
