import type { StepUpMethod } from 'nestjs-step-up';
import type { SampleSignInMethod } from './idp.acr.js';
import { OneTimeCodes } from './one-time-code.js';

/** A first factor passed during this interaction, or in the session a step-up builds on. */
export interface PrimarySignIn {
  readonly userId: string;
  readonly method: SampleSignInMethod;
  /** Epoch seconds when it was proved; unknown here for the session's, which the provider keeps. */
  readonly at?: number;
}

/** A second factor proved, while the user is offered to add a security key before going back. */
export interface ProvedSecondFactor {
  readonly method: StepUpMethod;
  /** Epoch seconds: the token's auth_time, however long the user then stays on the offer. */
  readonly at: number;
}

/** A request on an interaction that already ended (finished, denied or stopped at a limit). */
export class InteractionEndedError extends Error {
  constructor() {
    super('This sign-in has ended');
    this.name = 'InteractionEndedError';
  }
}

export interface InteractionState {
  primary?: PrimarySignIn;
  /** Who asked for a magic link; unset when the address cannot sign in by email (not revealed to the user). */
  magicUserId?: string;
  /** The throttle's key for the address a magic link was last asked for, whoever has it. */
  magicAccount?: string;
  readonly codes: OneTimeCodes;
  /** The user a second factor is being proved for, from the first code sent or tried, or key asked. */
  stepUpUserId?: string;
  verified?: ProvedSecondFactor;
  /** The challenge of the WebAuthn ceremony in progress. */
  challenge?: string;
  /** Epoch seconds, the interaction's own expiry. */
  readonly expiresAt: number;
  /** Finished or denied: kept until it expires so that no request can start it over with fresh limits. */
  ended?: boolean;
}

/**
 * Server-side progress of each login interaction, keyed by its uid: what was proved so far and which
 * codes are outstanding. Entries live as long as the interaction, past its end: the provider still
 * answers for an interaction until the browser follows the redirect out of it, and a fresh state would
 * reset its attempt limits.
 */
export class InteractionStates {
  private readonly states = new Map<string, InteractionState>();

  constructor(private readonly now: () => number = () => Date.now()) {}

  for({ uid, exp }: { uid: string; exp: number }): InteractionState {
    this.prune();
    let state = this.states.get(uid);
    if (state === undefined) {
      state = { codes: new OneTimeCodes(this.now), expiresAt: exp };
      this.states.set(uid, state);
    }
    if (state.ended) throw new InteractionEndedError();
    return state;
  }

  end({ uid, exp }: { uid: string; exp: number }): void {
    const state = this.states.get(uid);
    if (state === undefined) this.states.set(uid, { codes: new OneTimeCodes(this.now), expiresAt: exp, ended: true });
    else state.ended = true;
  }

  /** Interactions share one lifetime, so the oldest come first: pruning stops at the first one still alive. */
  private prune(): void {
    const nowSeconds = this.now() / 1000;
    for (const [uid, state] of this.states) {
      if (state.expiresAt > nowSeconds) return;
      this.states.delete(uid);
    }
  }
}
