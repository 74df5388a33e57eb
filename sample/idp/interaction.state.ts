import type { StepUpMethod } from 'nestjs-step-up';
import type { SampleSignInMethod } from './idp.acr.js';
import { OneTimeCodes } from './one-time-code.js';

/** A first factor passed during this interaction. */
export interface PrimarySignIn {
  readonly userId: string;
  readonly method: SampleSignInMethod;
}

export interface InteractionState {
  primary?: PrimarySignIn;
  /** Who asked for a magic link; unset when the address cannot sign in by email (not revealed to the user). */
  magicUserId?: string;
  readonly codes: OneTimeCodes;
  /** The user a second factor is being proved for, from the first code sent or tried, or key asked. */
  stepUpUserId?: string;
  /** The second factor proved, while the user is offered to add a security key before going back. */
  verified?: StepUpMethod;
  /** The challenge of the WebAuthn ceremony in progress. */
  challenge?: string;
  /** Epoch seconds, the interaction's own expiry. */
  readonly expiresAt: number;
}

/**
 * Server-side progress of each login interaction, keyed by its uid: what was proved so far and which
 * codes are outstanding. Entries live no longer than the interaction.
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
    return state;
  }

  end(uid: string): void {
    this.states.delete(uid);
  }

  private prune(): void {
    const nowSeconds = this.now() / 1000;
    for (const [uid, state] of this.states) if (state.expiresAt <= nowSeconds) this.states.delete(uid);
  }
}
