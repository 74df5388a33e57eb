import { parseDurationSeconds } from './step-up.duration.js';

describe('parseDurationSeconds', () => {
  it.each([
    [300, 300],
    [0, 0],
    ['90s', 90],
    ['5m', 300],
    [' 1h ', 3600],
    ['1d', 86400],
    ['5 m', 300],
  ])('%j → %d s', (input, seconds) => {
    expect(parseDurationSeconds(input, 'maxAge')).toBe(seconds);
  });

  it.each([[-1], [1.5], [Number.NaN], ['5'], ['5 minutes'], ['1w'], [''], [null], ['99999999999999999999d'], ['9007199254740993s'], ['-5m'], ['x5m']])('refuses %j, naming the option', (input) => {
    expect(() => parseDurationSeconds(input as never, 'maxAge')).toThrow(/^maxAge must be/);
  });
});
