// Presses counted by time: the relays of one Ctrl-C (npx, tsx, make) are one press; a later one stops now.
import { describe, expect, it } from 'vitest';
import { SAME_PRESS_MS, StopSignals } from '../src/stage/stop_signals.js';

function counter(times: number[]) {
  let i = 0;
  const seen = { first: 0, again: 0 };
  const presses = new StopSignals({ first: () => seen.first++, again: () => seen.again++ }, () => times[i++]!);
  for (let k = 0; k < times.length; k++) presses.received();
  return seen;
}

describe('StopSignals', () => {
  it('three signals within 200 ms are one press', () => {
    expect(counter([10_000, 10_040, 10_200])).toEqual({ first: 1, again: 0 });
  });
  it(`a signal ${SAME_PRESS_MS} ms or more after the first is a second press`, () => {
    expect(counter([10_000, 10_030, 10_000 + SAME_PRESS_MS])).toEqual({ first: 1, again: 1 });
  });
  it('a slow relay chain does not stretch the window: it is measured from the first signal', () => {
    expect(counter([0, 600, 1200])).toEqual({ first: 1, again: 1 });
  });
});
