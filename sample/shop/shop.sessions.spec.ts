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

  it('reads the id from the shop_session cookie only', () => {
    const sessions = new ShopSessions();
    const session = sessions.create();
    expect(sessions.find({ headers: { cookie: `not_${SESSION_COOKIE}=${session.id}` } })).toBeUndefined();
    expect(sessions.find({ headers: { cookie: `other=${session.id}` } })).toBeUndefined();
  });

  it('ends a session after 8 hours, as its cookie does', () => {
    const sessions = new ShopSessions();
    const now = Date.now();
    const session = sessions.create(now);
    expect(sessions.find(requestWith(session.id), now + 8 * 60 * 60 * 1000 - 1)).toBe(session);
    expect(sessions.find(requestWith(session.id), now + 8 * 60 * 60 * 1000)).toBeUndefined();
  });

  it('sets the cookie HttpOnly, SameSite=Lax, for the whole origin, for 8 hours, and Secure over https', () => {
    const sessions = new ShopSessions();
    const session = sessions.create();
    expect(sessions.cookieFor(session, false)).toBe(`shop_session=${session.id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=28800`);
    expect(sessions.cookieFor(session, true)).toBe(`shop_session=${session.id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=28800; Secure`);
  });

  it('is signed in only while its token has not expired', () => {
    const sessions = new ShopSessions();
    const now = Date.now();
    const session = sessions.create(now);
    expect(sessions.isSignedIn(undefined, now)).toBe(false);
    expect(sessions.isSignedIn(session, now)).toBe(false);
    session.token = { accessToken: 'token', expiresAt: now + 1000 };
    expect(sessions.isSignedIn(session, now + 999)).toBe(true);
    expect(sessions.isSignedIn(session, now + 1000)).toBe(false);
  });

  it('holds 10 000 sessions, then lets the oldest go, signed in or not', () => {
    const sessions = new ShopSessions();
    const created = Array.from({ length: 10_000 }, () => sessions.create());
    for (const session of created) session.token = { accessToken: 'token', expiresAt: Date.now() + 60_000 };
    expect(sessions.find(requestWith(created[0]!.id))).toBe(created[0]);
    sessions.create();
    expect(sessions.find(requestWith(created[0]!.id))).toBeUndefined();
    expect(sessions.find(requestWith(created[1]!.id))).toBe(created[1]);
  });

  it('keeps a pending sign-in 10 minutes, and the last 5 of them', () => {
    const sessions = new ShopSessions();
    const session = sessions.create();
    const now = Date.now();
    const states = Array.from({ length: 6 }, (_, index) => sessions.begin(session, `verifier-${index}`, '/shop', now));
    expect(sessions.complete(session, states[0]!, now)).toBeUndefined();
    expect(sessions.complete(session, states[1]!, now + 10 * 60 * 1000 - 1)).toMatchObject({ codeVerifier: 'verifier-1' });
    expect(sessions.complete(session, states[2]!, now + 10 * 60 * 1000)).toBeUndefined();
    expect(sessions.complete(session, states[5]!, now)).toMatchObject({ codeVerifier: 'verifier-5' });
  });
});
