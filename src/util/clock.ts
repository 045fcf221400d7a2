/** Time as a dependency, so tests can move it. */
export type Clock = { now(): number };

export const systemClock: Clock = { now: () => Date.now() };
