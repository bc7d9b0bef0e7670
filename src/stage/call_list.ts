// A stage's calls as a list that builds each one when asked for, so a call's prompt lives while it is used and not
// for the whole stage (at 100,000 calls the prompts were most of stages 3 and 4's memory). An array is one too.

/** `length` calls; `at(i)` builds call i afresh each time it is asked for (an array hands out the one it holds). */
export interface CallList<C> {
  readonly length: number;
  at(index: number): C | undefined;
}

/** The list of `length` calls that `build` makes, one when it is asked for and none held. */
export function buildOnDemand<C>(length: number, build: (index: number) => C): CallList<C> {
  return { length, at: (i) => (Number.isInteger(i) && i >= 0 && i < length ? build(i) : undefined) };
}
