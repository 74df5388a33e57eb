/** Failed proofs an account may collect within the window before its sign-ins are refused. */
export const ACCOUNT_FAILURE_LIMIT = 10;
export const ACCOUNT_FAILURE_WINDOW_MS = 15 * 60_000;
/** Accounts tracked at once: a flood of made-up addresses evicts the oldest instead of growing memory. */
const TRACKED_ACCOUNTS = 10_000;

/**
 * Failed proofs (passwords, codes, authenticator app, security key) per account, across interactions.
 * Each interaction has its own small limit, but a new interaction costs one request: without this, an
 * attacker who knows a password could try authenticator codes for as long as it takes.
 */
export class AccountThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  /** Whether the account has reached its limit of failures within the window. */
  locked(account: string): boolean {
    return this.recent(account).length >= ACCOUNT_FAILURE_LIMIT;
  }

  recordFailure(account: string): void {
    const recent = this.recent(account);
    recent.push(this.now());
    this.failures.delete(account); // re-inserted last: the map's order is the eviction order
    this.failures.set(account, recent);
    if (this.failures.size > TRACKED_ACCOUNTS) this.failures.delete(this.failures.keys().next().value!);
  }

  private recent(account: string): number[] {
    const since = this.now() - ACCOUNT_FAILURE_WINDOW_MS;
    return (this.failures.get(account) ?? []).filter((at) => at > since);
  }
}
