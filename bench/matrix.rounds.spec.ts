import { expectedStatus } from './matrix.rounds.js';

describe('expectedStatus', () => {
  it('expects the references to answer as they always do, whatever the token', () => {
    expect(expectedStatus('none', 'no-mfa')).toBe(200);
    expect(expectedStatus('allow-all-guard', 'no-scope')).toBe(200);
    expect(expectedStatus('none', 'anonymous')).toBe(200);
    expect(expectedStatus('refuse-all-guard', 'allowed')).toBe(401);
  });

  it('expects a protected variant to answer as its token kind deserves', () => {
    expect(expectedStatus('stepup', 'allowed')).toBe(200);
    expect(expectedStatus('stepup', 'no-mfa')).toBe(401);
    expect(expectedStatus('stepup-baseline', 'no-scope')).toBe(403);
    expect(expectedStatus('jose-guard', 'no-scope')).toBe(403);
    expect(expectedStatus('stepup', 'anonymous')).toBe(401);
    expect(expectedStatus('passport-jwt', 'anonymous')).toBe(401);
  });
});
