import { SESSION_COOKIE, ShopSessions } from './shop.sessions.js';

const requestWith = (id: string) => ({ headers: { cookie: `theme=dark; ${SESSION_COOKIE}=${id}` } });

describe('ShopSessions', () => {
  it('keeps signed-in sessions when a flood of sign-ins fills the store', () => {
    const sessions = new ShopSessions();
    const signedIn = sessions.create();
    signedIn.token = { accessToken: 'token', expiresAt: Date.now() + 60_000 };
    const firstAnonymous = sessions.create();
    for (let index = 0; index < 10_000; index++) sessions.create();
    expect(sessions.find(requestWith(signedIn.id))).toBe(signedIn);
    expect(sessions.find(requestWith(firstAnonymous.id))).toBeUndefined();
  });

  it('forgets the old id on renewal, and the sign-ins it had pending', () => {
    const sessions = new ShopSessions();
    const session = sessions.create();
    const state = sessions.begin(session, 'verifier', '/shop/checkout');
    const renewed = sessions.renew(session);
    expect(sessions.find(requestWith(session.id))).toBeUndefined();
    expect(sessions.find(requestWith(renewed.id))).toBe(renewed);
    expect(sessions.complete(renewed, state)).toBeUndefined();
  });

  it('completes a pending sign-in once, and not after it expired', () => {
    const sessions = new ShopSessions();
    const session = sessions.create();
    const now = Date.now();
    const state = sessions.begin(session, 'verifier', '/shop/checkout', now);
    expect(sessions.complete(session, state, now)).toMatchObject({ codeVerifier: 'verifier', returnTo: '/shop/checkout' });
    expect(sessions.complete(session, state, now)).toBeUndefined();
    const late = sessions.begin(session, 'verifier', '/shop', now);
    expect(sessions.complete(session, late, now + 10 * 60 * 1000)).toBeUndefined();
  });

  it('reads only ids of the shape it gives out', () => {
    const sessions = new ShopSessions();
    expect(sessions.find({ headers: { cookie: `${SESSION_COOKIE}=../../etc` } })).toBeUndefined();
    expect(sessions.find({ headers: {} })).toBeUndefined();
  });
});
