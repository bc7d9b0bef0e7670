// The adaptive limiter: AIMD on 429s, the --concurrency ceiling, server-requested pauses and RPM/TPM windows.
import { getEventListeners } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AdaptiveLimiter } from '../src/limiter.js';

/** Tracks which acquisitions have been granted, without awaiting them. */
function track(promise: Promise<void>) {
  const state = { granted: false, error: undefined as unknown };
  promise.then(
    () => (state.granted = true),
    (error) => (state.error = error),
  );
  return state;
}
const flush = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('AIMD', { timeout: 5_000 }, () => {
  it('halves the limit on every 429, never below 1', () => {
    const limiter = new AdaptiveLimiter({ max: 10 });
    expect(limiter.limit).toBe(10);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      limiter.onRateLimited();
      seen.push(limiter.limit);
    }
    expect(seen).toEqual([5, 2, 1, 1, 1]);
    expect(limiter.rateLimitEvents).toBe(5);
  });

  it('grows back by one after a full window of successes, up to max and never beyond', () => {
    const limiter = new AdaptiveLimiter({ max: 6 });
    limiter.onRateLimited();
    limiter.onRateLimited();
    expect(limiter.limit).toBe(1);
    const limits: number[] = [];
    for (let i = 0; i < 40; i++) {
      limiter.onSuccess();
      limits.push(limiter.limit);
    }
    // 1 success at limit 1, 2 at limit 2, … : the limit rises after 1, 3, 6, 10, 15 successes.
    expect(limits.slice(0, 15)).toEqual([2, 2, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 5, 6]);
    expect(Math.max(...limits)).toBe(6);
    expect(limits.at(-1)).toBe(6);
  });

  it('halves once per burst when callers pass the epoch their request was sent in', () => {
    const limiter = new AdaptiveLimiter({ max: 16 });
    const sentAt = limiter.epoch;
    for (let i = 0; i < 5; i++) limiter.onRateLimited(undefined, sentAt);
    expect(limiter.limit).toBe(8);
    expect(limiter.rateLimitEvents).toBe(5);
    limiter.onRateLimited(undefined, limiter.epoch);
    expect(limiter.limit).toBe(4);
  });

  it('a 429 restarts the count of successes', () => {
    const limiter = new AdaptiveLimiter({ max: 8 });
    limiter.onRateLimited(); // 4
    for (let i = 0; i < 3; i++) limiter.onSuccess();
    limiter.onRateLimited(); // 2
    limiter.onSuccess();
    expect(limiter.limit).toBe(2);
    limiter.onSuccess();
    expect(limiter.limit).toBe(3);
  });
});

describe('admission', { timeout: 5_000 }, () => {
  it('never has more than max requests in flight, and uses all of them', async () => {
    const limiter = new AdaptiveLimiter({ max: 3 });
    let inFlight = 0;
    let peak = 0;
    const task = async () => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await flush();
      inFlight--;
    };
    await Promise.all(Array.from({ length: 20 }, () => limiter.run(task)));
    expect(peak).toBe(3);
  });

  it('admits no new request while the halved limit is below the requests in flight', async () => {
    const limiter = new AdaptiveLimiter({ max: 4 });
    for (let i = 0; i < 4; i++) await limiter.acquire();
    limiter.onRateLimited(); // limit 2, 4 in flight
    const next = track(limiter.acquire());
    limiter.release(); // 3 in flight
    limiter.release(); // 2 in flight: still at the limit
    await flush();
    expect(next.granted).toBe(false);
    limiter.release(); // 1 in flight
    await flush();
    expect(next.granted).toBe(true);
  });

  it('leaves no abort listener behind on a shared signal once slots are granted', async () => {
    const limiter = new AdaptiveLimiter({ max: 2 });
    const stage = new AbortController();
    await Promise.all(Array.from({ length: 30 }, () => limiter.run(flush, 0, stage.signal)));
    expect(getEventListeners(stage.signal, 'abort')).toHaveLength(0);
  });

  it('rejects a waiter whose signal aborts, and frees its place in the queue', async () => {
    const limiter = new AdaptiveLimiter({ max: 1 });
    await limiter.acquire();
    const controller = new AbortController();
    const aborted = track(limiter.acquire(0, controller.signal));
    const after = track(limiter.acquire());
    controller.abort(new Error('stop'));
    await flush();
    expect((aborted.error as Error).message).toBe('stop');
    limiter.release();
    await flush();
    expect(after.granted).toBe(true);
  });
});

describe('slow start', { timeout: 5_000 }, () => {
  /** Grants every acquisition it can now; returns how many were granted. */
  async function grantable(_limiter: AdaptiveLimiter, waiting: Array<ReturnType<typeof track>>): Promise<number> {
    await flush();
    return waiting.filter((w) => w.granted).length;
  }

  it('without a proof: the first request alone, then doubling every round trip up to the ceiling', async () => {
    const limiter = new AdaptiveLimiter({ max: 20, slowStart: true });
    const waiting = Array.from({ length: 100 }, () => track(limiter.acquire()));
    const inFlightPerRound: number[] = [];
    let done = 0;
    for (let round = 0; round < 7; round++) {
      const granted = await grantable(limiter, waiting);
      inFlightPerRound.push(granted - done);
      // The whole round trip answers: each success frees its slot and, while ramping, opens one more.
      for (let i = done; i < granted; i++) {
        limiter.release();
        limiter.onSuccess();
      }
      done = granted;
    }
    expect(inFlightPerRound).toEqual([1, 2, 4, 8, 16, 20, 20]);
    expect(limiter.reached).toBe(20);
  });

  it('with the concurrency an earlier stage reached: opens there at once and doubles on from it', async () => {
    const limiter = new AdaptiveLimiter({ max: 50, slowStart: true, startAt: 12 });
    expect(limiter.reached).toBe(12);
    const waiting = Array.from({ length: 200 }, () => track(limiter.acquire()));
    expect(await grantable(limiter, waiting)).toBe(12);
    for (let i = 0; i < 12; i++) {
      limiter.release();
      limiter.onSuccess();
    }
    expect(await grantable(limiter, waiting)).toBe(12 + 24);
  });

  it('a proof at or above the ceiling means no ramp; a 429 with a pause still starts over from one', async () => {
    let clock = 0;
    const limiter = new AdaptiveLimiter({ max: 8, slowStart: true, startAt: 30, now: () => clock });
    const waiting = Array.from({ length: 20 }, () => track(limiter.acquire()));
    expect(await grantable(limiter, waiting)).toBe(8);
    limiter.onRateLimited(1, limiter.epoch);
    expect(limiter.reached).toBe(1);
    clock = 10;
    limiter.release();
    expect(await grantable(limiter, waiting)).toBe(8);
  });
});

describe('with an injected clock', { timeout: 5_000 }, () => {
  let clock = 0;
  const advance = async (ms: number) => {
    clock += ms;
    await vi.advanceTimersByTimeAsync(ms);
  };
  /** `waiting` is granted exactly `ms` from now, and not a millisecond earlier. */
  const grantedIn = async (waiting: { granted: boolean }, ms: number) => {
    await advance(ms - 1);
    expect(waiting.granted).toBe(false);
    await advance(1);
    expect(waiting.granted).toBe(true);
  };
  beforeEach(() => {
    clock = 1_000_000;
    // Only the limiter's timers: setImmediate stays real so `flush` works.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  });
  afterEach(() => vi.useRealTimers());

  it('respects the pause a 429 asked for', async () => {
    const limiter = new AdaptiveLimiter({ max: 4, now: () => clock });
    await limiter.acquire();
    limiter.onRateLimited(500);
    limiter.release();
    await grantedIn(track(limiter.acquire()), 500);
  });

  it('keeps the longest pause when several 429s arrive', async () => {
    const limiter = new AdaptiveLimiter({ max: 4, now: () => clock });
    limiter.onRateLimited(2000);
    limiter.onRateLimited(300);
    await grantedIn(track(limiter.acquire()), 2000);
  });

  it('holds to the rpm budget over a sliding 60 s window', async () => {
    const limiter = new AdaptiveLimiter({ max: 10, rpm: 2, now: () => clock });
    const first = track(limiter.run(async () => undefined));
    await advance(10_000);
    const second = track(limiter.run(async () => undefined));
    const third = track(limiter.acquire());
    const fourth = track(limiter.acquire());
    await flush();
    expect([first.granted, second.granted, third.granted]).toEqual([true, true, false]);
    // The first start leaves the window 60 s after it happened (t = 60 s), the second at t = 70 s.
    await grantedIn(third, 50_000);
    expect(fourth.granted).toBe(false);
    await advance(10_000);
    expect(fourth.granted).toBe(true);
  });

  it('says what it waits for and until when: the rpm window, the tpm window, a server pause', async () => {
    const limiter = new AdaptiveLimiter({ max: 10, rpm: 1, tpm: 1000, now: () => clock });
    const start = clock;
    expect(limiter.waitState()).toBeUndefined();
    await limiter.acquire(10);
    limiter.release();
    const held = track(limiter.acquire(10));
    await flush();
    expect(held.granted).toBe(false);
    expect(limiter.waitState()).toEqual({ reason: 'rpm', until: start + 60_000 });
    await advance(60_000);
    expect(held.granted).toBe(true);
    expect(limiter.waitState()).toBeUndefined();
    limiter.release();

    const tpm = new AdaptiveLimiter({ max: 10, tpm: 1000, now: () => clock });
    const t0 = clock;
    await tpm.acquire(900);
    const big = track(tpm.acquire(500));
    await flush();
    expect(big.granted).toBe(false);
    expect(tpm.waitState()).toEqual({ reason: 'tpm', until: t0 + 60_000 });

    const paused = new AdaptiveLimiter({ max: 4, now: () => clock });
    paused.onRateLimited(5_000);
    const after = track(paused.acquire());
    await flush();
    expect(after.granted).toBe(false);
    expect(paused.waitState()).toEqual({ reason: 'server pause', until: clock + 5_000 });
  });

  it('reports a backoff while nothing is in flight, with how many requests sit it out', () => {
    const limiter = new AdaptiveLimiter({ max: 4, now: () => clock });
    const a = limiter.beginBackoff(8_000);
    const b = limiter.beginBackoff(3_000);
    expect(limiter.waitState()).toEqual({ reason: 'backoff', until: clock + 3_000, items: 2 });
    b();
    expect(limiter.waitState()).toEqual({ reason: 'backoff', until: clock + 8_000, items: 1 });
    a();
    expect(limiter.waitState()).toBeUndefined();
  });

  it('holds to the tpm budget, and lets an oversized request go alone', async () => {
    const limiter = new AdaptiveLimiter({ max: 10, tpm: 1000, now: () => clock });
    await limiter.acquire(600);
    const fits = track(limiter.acquire(400));
    const over = track(limiter.acquire(100));
    await flush();
    expect(fits.granted).toBe(true);
    expect(over.granted).toBe(false);
    await advance(60_000);
    expect(over.granted).toBe(true);
    const huge = track(limiter.acquire(5000));
    await flush();
    expect(huge.granted).toBe(false);
    await advance(60_000);
    expect(huge.granted).toBe(true);
  });
});
