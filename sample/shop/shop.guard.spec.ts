import { Reflector } from '@nestjs/core';
import type { ResolvedStepUpOptions, StepUpAuthenticator, StepUpRequest } from 'nestjs-step-up';
import { SessionStepUpGuard } from './shop.guard.js';
import { SESSION_COOKIE, ShopSessions } from './shop.sessions.js';

/** The guard's token lookup, the one thing the shop changes in the library's guard. */
class TokenOf extends SessionStepUpGuard {
  read(request: StepUpRequest): string | undefined {
    return this.getToken(request);
  }
}

describe('SessionStepUpGuard', () => {
  const sessions = new ShopSessions();
  const options = { clockTolerance: 5, scopeClaims: ['scope'], maxTokenLength: 8192 } as unknown as ResolvedStepUpOptions;
  const guard = new TokenOf(new Reflector(), options, {} as StepUpAuthenticator, sessions);
  const session = sessions.create();
  session.token = { accessToken: 'session-token', expiresAt: Date.now() + 60_000 };
  const request = (method: string, url: string, authorization?: string): StepUpRequest => ({
    method,
    url,
    headers: { cookie: `${SESSION_COOKIE}=${session.id}`, ...(authorization !== undefined && { authorization }) },
  });

  it('reads the session cookie for shop pages read with GET or HEAD, in any case', () => {
    expect(guard.read(request('GET', '/shop/checkout'))).toBe('session-token');
    expect(guard.read(request('HEAD', '/shop/checkout'))).toBe('session-token');
    expect(guard.read(request('GET', '/SHOP/Checkout?x=1'))).toBe('session-token');
  });

  it('never lets the cookie authorize a request that changes something, the bank API, or a path outside /shop/', () => {
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) expect(guard.read(request(method, '/shop/checkout'))).toBeUndefined();
    expect(guard.read(request('GET', '/api/accounts/balance'))).toBeUndefined();
    expect(guard.read(request('GET', '/api/accounts/balance?next=/shop/'))).toBeUndefined();
    expect(guard.read(request('GET', '/shopping/cart'))).toBeUndefined();
    expect(guard.read(request('GET', '/api/shop/checkout'))).toBeUndefined();
  });

  it('reads a shop page\'s token from the session only', () => {
    expect(guard.read({ method: 'GET', url: '/shop/checkout', headers: { authorization: 'Bearer header-token' } })).toBeUndefined();
  });

  it('reads the Authorization header everywhere else, as the library does', () => {
    expect(guard.read(request('POST', '/shop/checkout', 'Bearer header-token'))).toBe('header-token');
    expect(guard.read(request('GET', '/api/accounts/balance', 'Bearer header-token'))).toBe('header-token');
  });
});
