// Each attempt's signal lets go of the stage's stop signal and its timer when the attempt ends: a stage of 100,000
// calls must not keep one timer and one signal per call alive until their timeouts pass.
import { describe, expect, it } from 'vitest';
import { AdaptiveLimiter } from '../src/limiter.js';
import { attemptSignal, withRetries } from '../src/llm/retry.js';

/** The signals Node registered on `signal` for AbortSignal.any (nodejs/node#55351): each one is kept. */
function dependantsOf(signal: AbortSignal): number {
  const key = Object.getOwnPropertySymbols(signal).find((s) => s.description === 'kDependantSignals');
  return key ? ((signal as unknown as Record<symbol, Set<unknown> | undefined>)[key]?.size ?? 0) : 0;
}

const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('attemptSignal', () => {
  it('aborts with a TimeoutError after the timeout, and with the stop reason when the stage stops', async () => {
    const stop = new AbortController();
    const timed = attemptSignal(stop.signal, 20);
    await new Promise((r) => setTimeout(r, 60));
    expect(timed.signal.reason).toMatchObject({ name: 'TimeoutError' });
    timed.release();
    const stopped = attemptSignal(stop.signal, 60_000);
    stop.abort(new Error('second Ctrl-C'));
    expect(stopped.signal.reason).toMatchObject({ message: 'second Ctrl-C' });
    stopped.release();
    expect(attemptSignal(stop.signal, 60_000).signal.aborted).toBe(true);
  });

  it('500 calls through withRetries leave nothing registered on the stop signal and no timer running', async () => {
    const stop = new AbortController();
    const limiter = new AdaptiveLimiter({ max: 50 });
    const seen: AbortSignal[] = [];
    const timersBefore = timers();
    await Promise.all(
      Array.from({ length: 500 }, () =>
        withRetries(
          async (signal) => {
            seen.push(signal);
            return 'ok';
          },
          0,
          { limiter, signal: stop.signal, timeoutMs: 120_000, maxAttempts: 3 },
        ),
      ),
    );
    expect(seen).toHaveLength(500);
    // AbortSignal.any([stop, AbortSignal.timeout(120 s)]) registered all 500 on `stop` and left 500 timers running.
    expect(dependantsOf(stop.signal)).toBe(0);
    expect(timers() - timersBefore).toBeLessThan(10);
    expect(seen.every((s) => !s.aborted)).toBe(true);
  });
});
