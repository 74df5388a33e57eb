import { randomBytes } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { IssuedToken } from './shop.client.js';

/** A sign-in the shop sent to the provider and has not seen come back yet. */
export interface PendingSignIn {
  readonly codeVerifier: string;
  /** Where to send the browser afterwards: a path on this origin, checked when it was stored. */
  readonly returnTo: string;
  readonly expiresAt: number;
}

/** What the shop keeps for one browser: server-side, so tokens never reach the page or its scripts. */
export interface ShopSession {
  readonly id: string;
  /** The access token for the shop's pages, once signed in; the library's guard verifies it on each page. */
  token?: IssuedToken;
  /** Keyed by the authorization request's `state`. */
  readonly pending: Map<string, PendingSignIn>;
  readonly expiresAt: number;
}

export const SESSION_COOKIE = 'shop_session';
const SESSION_TTL_MS = 8 * 60 * 60 * 1000;
const PENDING_TTL_MS = 10 * 60 * 1000;
const MAX_PENDING = 5;
const MAX_SESSIONS = 10_000;

/** The session id in a `Cookie` header, if it has the shape this store gives out. */
function sessionIdOf(cookieHeader: unknown): string | undefined {
  if (typeof cookieHeader !== 'string') return undefined;
  for (const pair of cookieHeader.split(';')) {
    const [name, value] = pair.trim().split('=', 2);
    if (name === SESSION_COOKIE && value !== undefined && /^[A-Za-z0-9_-]{43}$/.test(value)) return value;
  }
  return undefined;
}

/**
 * The shop's sessions, in memory: a restart signs everyone out, as the embedded provider's own state
 * does. Bounded: past the limit the oldest session that never signed in goes first, and each session
 * expires after eight hours.
 */
@Injectable()
export class ShopSessions {
  private readonly sessions = new Map<string, ShopSession>();

  find(request: { readonly headers: Readonly<Record<string, unknown>> }, now = Date.now()): ShopSession | undefined {
    const id = sessionIdOf(request.headers.cookie);
    const session = id === undefined ? undefined : this.sessions.get(id);
    if (session === undefined || session.expiresAt > now) return session;
    this.sessions.delete(session.id);
    return undefined;
  }

  create(now = Date.now()): ShopSession {
    if (this.sessions.size >= MAX_SESSIONS) this.evictOne();
    const session: ShopSession = { id: randomBytes(32).toString('base64url'), pending: new Map(), expiresAt: now + SESSION_TTL_MS };
    this.sessions.set(session.id, session);
    return session;
  }

  /** Whether the session holds a token that has not expired (the guard still verifies it on every page). */
  isSignedIn(session: ShopSession | undefined, now = Date.now()): boolean {
    return session?.token !== undefined && session.token.expiresAt > now;
  }

  /** A new session, with a new id, for a browser that just signed in; the old id stops working. */
  renew(session: ShopSession): ShopSession {
    this.sessions.delete(session.id);
    return this.create();
  }

  /** The oldest session that never signed in, so that a flood of sign-ins started signs nobody out; else the oldest. */
  private evictOne(): void {
    let oldest: string | undefined;
    for (const [id, session] of this.sessions) {
      oldest ??= id;
      if (session.token === undefined) {
        oldest = id;
        break;
      }
    }
    if (oldest !== undefined) this.sessions.delete(oldest);
  }

  /** Remembers a sign-in under a new `state`, forgetting expired ones and, past a few, the oldest. */
  begin(session: ShopSession, codeVerifier: string, returnTo: string, now = Date.now()): string {
    for (const [state, pending] of session.pending) if (pending.expiresAt <= now) session.pending.delete(state);
    while (session.pending.size >= MAX_PENDING) session.pending.delete(session.pending.keys().next().value!);
    const state = randomBytes(16).toString('base64url');
    session.pending.set(state, { codeVerifier, returnTo, expiresAt: now + PENDING_TTL_MS });
    return state;
  }

  /** The pending sign-in for a `state`, used once. */
  complete(session: ShopSession, state: string, now = Date.now()): PendingSignIn | undefined {
    const pending = session.pending.get(state);
    session.pending.delete(state);
    return pending !== undefined && pending.expiresAt > now ? pending : undefined;
  }

  /** The `Set-Cookie` value for a session: HttpOnly, SameSite=Lax (the provider redirects back by a top-level GET). */
  cookieFor(session: ShopSession, secure: boolean): string {
    return `${SESSION_COOKIE}=${session.id}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${SESSION_TTL_MS / 1000}${secure ? '; Secure' : ''}`;
  }
}
