const UNIT_SECONDS: Readonly<Record<string, number>> = { s: 1, m: 60, h: 3600, d: 86400 };
const DURATION = /^(\d+)\s*(s|m|h|d)$/;

/**
 * Reads a duration as whole seconds: a non-negative integer number of seconds, or a string such as
 * `'90s'`, `'5m'`, `'1h'`, `'1d'`. Anything else throws, naming the value that was given.
 */
export function parseDurationSeconds(value: number | string, name: string): number {
  if (typeof value === 'number') {
    if (Number.isSafeInteger(value) && value >= 0) return value;
    throw new TypeError(`${name} must be a whole number of seconds >= 0, got ${String(value)}`);
  }
  if (typeof value === 'string') {
    const match = DURATION.exec(value.trim());
    const seconds = match ? Number(match[1]) * UNIT_SECONDS[match[2]!]! : Number.NaN;
    if (Number.isSafeInteger(seconds)) return seconds;
  }
  throw new TypeError(
    `${name} must be seconds (300) or a duration string ('90s', '5m', '1h', '1d'), got ${JSON.stringify(value)}`,
  );
}
