import { createHash } from 'node:crypto';

/** Failed proofs an account may collect within the window before its sign-ins are refused. */
export const ACCOUNT_FAILURE_LIMIT = 10;
export const ACCOUNT_FAILURE_WINDOW_MS = 15 * 60_000;

/**
 * The throttle's key for an email address, whether or not an account has it: the same for every spelling,
 * and a digest, so that a flood of long made-up addresses costs 64 characters a record, not kilobytes.
 */
export const accountKey = (email: string) => createHash('sha256').update(email.normalize('NFKC').trim().toLowerCase()).digest('hex');

/**
 * Failed proofs (passwords, codes, authenticator app, security key) per account, across interactions.
 * Each interaction has its own small limit, but a new interaction costs one request: without this, an
 * attacker who knows a password could try authenticator codes for as long as it takes.
 *
 * An account is forgotten only once its last failure has left the window, never to make room: a flood of
 * made-up addresses must not wipe a locked account's record. Memory is bounded by the accounts that failed
 * within the window, and each keeps at most its last {@link ACCOUNT_FAILURE_LIMIT} failures.
 */
export class AccountThrottle {
  /** Ordered by each account's latest failure, oldest first: expired records are pruned from the front. */
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** Whether the account has reached its limit of failures within the window. */
  locked(account: string): boolean {
    this.prune();
    const since = this.now() - ACCOUNT_FAILURE_WINDOW_MS;
    return (this.failures.get(account) ?? []).filter((at) => at > since).length >= ACCOUNT_FAILURE_LIMIT;
  }

  /**
   * Counts a failure, and returns when, for {@link forgive}. A proof that waits is counted before it is
   * checked and forgiven if it succeeds: counted afterwards, a burst of guesses would all pass the lock
   * before any of them counted.
   */
  recordFailure(account: string): number {
    const at = this.now();
    const recent = [...(this.failures.get(account) ?? []), at].slice(-ACCOUNT_FAILURE_LIMIT);
    this.failures.delete(account); // re-inserted last: the map's order is the order of latest failures
    this.failures.set(account, recent);
    this.prune();
    return at;
  }

  /** Takes back the failure counted `at`, for a proof that then succeeded. */
  forgive(account: string, at: number): void {
    const recent = this.failures.get(account);
    const index = recent?.lastIndexOf(at) ?? -1;
    if (index >= 0) recent!.splice(index, 1);
    if (recent?.length === 0) this.failures.delete(account);
  }

  private prune(): void {
    const since = this.now() - ACCOUNT_FAILURE_WINDOW_MS;
    for (const [account, recent] of this.failures) {
      if (recent[recent.length - 1]! > since) return;
      this.failures.delete(account);
    }
  }
}
