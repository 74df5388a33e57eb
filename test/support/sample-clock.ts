import { jest } from '@jest/globals';

/** Everything but `Date` keeps running on real time, so servers, sockets and timeouts are unaffected. */
const KEEP_REAL = [
  'hrtime', 'nextTick', 'performance', 'queueMicrotask', 'requestAnimationFrame', 'cancelAnimationFrame',
  'requestIdleCallback', 'cancelIdleCallback', 'setImmediate', 'clearImmediate', 'setInterval', 'clearInterval',
  'setTimeout', 'clearTimeout',
] as const;

/**
 * Moves the wall clock of this test process forward (provider, API and client share it), instead of
 * sleeping through a max_age. Undo with {@link restoreWallClock}.
 */
export function advanceWallClock(seconds: number): void {
  jest.useFakeTimers({ doNotFake: [...KEEP_REAL], now: Date.now() + seconds * 1000, advanceTimers: true });
}

export function restoreWallClock(): void {
  jest.useRealTimers();
}
