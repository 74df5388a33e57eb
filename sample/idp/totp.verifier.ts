import { verify } from 'otplib';
import type { User, UserStore } from './users.store.js';

const STEP_SECONDS = 30;
/** One 30 s step either side, for clock drift between the phone and the server. */
const EPOCH_TOLERANCE_SECONDS = STEP_SECONDS;
const SIX_DIGITS = /^\d{6}$/;

/**
 * Checks an authenticator-app code. A code is accepted once: its time step, and every earlier one,
 * are refused afterwards (otplib `afterTimeStep`).
 */
export async function verifyTotp(users: UserStore, user: User, input: string): Promise<boolean> {
  const token = input.replace(/\s+/g, '');
  if (user.totpSecret === undefined || !SIX_DIGITS.test(token)) return false;
  const lastStep = users.lastAcceptedTotpStep(user.id);
  // Every step the window accepts is already spent, as when the clock stepped back after a code of the next
  // step was accepted: no code can pass (and otplib throws for an afterTimeStep beyond its window).
  const newestStep = Math.floor(Date.now() / 1000 / STEP_SECONDS) + EPOCH_TOLERANCE_SECONDS / STEP_SECONDS;
  if (lastStep !== undefined && lastStep >= newestStep) return false;
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
