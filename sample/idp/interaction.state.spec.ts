import { InteractionEndedError, InteractionStates } from './interaction.state.js';

describe('InteractionStates', () => {
  let now: number;
  const states = () => new InteractionStates(() => now);
  /** An interaction that expires in 10 minutes, in epoch seconds as the provider gives it. */
  const interaction = (uid: string) => ({ uid, exp: now / 1000 + 600 });

  beforeEach(() => {
    now = 1_000_000_000;
  });

  it('keeps one state per interaction, with its limits, until it expires', () => {
    const store = states();
    const login = interaction('a');
    const state = store.for(login);
    for (let failure = 0; failure < 5; failure += 1) state.codes.recordFailure();
    now += 600_000 - 1000;
    store.for(interaction('b'));
    expect(store.for(login)).toBe(state);
    expect(store.for(login).codes.locked).toBe(true);
    now += 1000;
    expect(store.for(login)).not.toBe(state);
  });

  it('refuses an interaction that ended until it expires, whether or not it had a state', () => {
    const store = states();
    const unseen = interaction('unseen');
    store.end(unseen);
    const finished = interaction('finished');
    store.for(finished);
    store.end(finished);
    now += 600_000 - 1000;
    expect(() => store.for(finished)).toThrow(InteractionEndedError);
    expect(() => store.for(unseen)).toThrow(InteractionEndedError);
  });
});
