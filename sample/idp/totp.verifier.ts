import { verify } from 'otplib';
import type { User, UserStore } from './users.store.js';

/** One 30 s step either side, for clock drift between the phone and the server. */
const EPOCH_TOLERANCE_SECONDS = 30;
const SIX_DIGITS = /^\d{6}$/;

/**
 * Checks an authenticator-app code. A code is accepted once: its time step, and every earlier one,
 * are refused afterwards (otplib `afterTimeStep`).
 */
export async function verifyTotp(users: UserStore, user: User, input: string): Promise<boolean> {
  const token = input.replace(/\s+/g, '');
  if (user.totpSecret === undefined || !SIX_DIGITS.test(token)) return false;
  const lastStep = users.lastAcceptedTotpStep(user.id);
  const result = await verify({
    secret: user.totpSecret,
    token,
    epochTolerance: EPOCH_TOLERANCE_SECONDS,
    ...(lastStep !== undefined && { afterTimeStep: lastStep }),
  });
  // Re-read after the await: a concurrent request may have spent this step meanwhile.
  const latestStep = users.lastAcceptedTotpStep(user.id);
  if (!result.valid || !('timeStep' in result) || (latestStep !== undefined && result.timeStep <= latestStep)) return false;
  users.acceptTotpStep(user.id, result.timeStep);
  return true;
}
