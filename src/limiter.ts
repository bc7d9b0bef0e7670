// Admits requests: adaptive concurrency (AIMD on 429s), a pause the server asked for, and optional RPM/TPM budgets.

export interface LimiterOptions {
  /** The ceiling: --concurrency. */
  max: number;
  rpm?: number;
  tpm?: number;
  /**
   * Slow start: admit one request alone, then one more per success up to the limit, and again after every pause a
   * 429 asked for. A wrong key, an exhausted quota or a bad model name then costs one request instead of one per
   * slot, and a stage does not open at full concurrency into a quota: the server's wait says when the first slot of
   * its window frees, not how many do.
   */
  slowStart?: boolean;
  /**
   * With slowStart: the concurrency an earlier stage on the same provider and model reached. That stage proved the
   * key and the quota, so this one opens there and ramps on from it, instead of sending its first request alone.
   */
  startAt?: number;
  /** Injected clock for tests. */
  now?: () => number;
}

interface Waiter {
  tokens: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

const WINDOW_MS = 60_000;

export class AdaptiveLimiter {
  private current: number;
  private inFlight = 0;
  private successesSinceChange = 0;
  private pausedUntil = 0;
  private readonly queue: Waiter[] = [];
  private readonly starts: number[] = [];
  private readonly tokenLog: Array<{ at: number; tokens: number }> = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly now: () => number;
  /** While starting slowly: how many requests may be in flight (undefined: the limit). */
  private ramp: number | undefined;
  rateLimitEvents = 0;
  /**
   * Bumped on every decrease. A request sent before the last decrease carries an older epoch: its 429 answers a
   * burst the limiter has already reacted to, so it must not halve the limit again (one burst of 40 429s is one
   * congestion event, not forty).
   */
  epoch = 0;

  constructor(private readonly options: LimiterOptions) {
    this.current = options.max;
    this.now = options.now ?? Date.now;
    const start = Math.min(options.max, Math.max(1, Math.floor(options.startAt ?? 1)));
    this.ramp = options.slowStart && start < options.max ? start : undefined;
  }

  get limit(): number {
    return this.current;
  }

  /** Requests that may be in flight now: what the next stage on the same provider and model can start with. */
  get reached(): number {
    return Math.min(this.current, this.ramp ?? this.current);
  }

  /** Waits for a slot; `tokens` is the request's estimated size for the TPM budget. */
  acquire(tokens = 0, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason ?? new Error('aborted'));
      const onAbort = () => {
        const index = this.queue.indexOf(waiter);
        if (index >= 0) {
          this.queue.splice(index, 1);
          reject(signal!.reason ?? new Error('aborted'));
        }
      };
      // The listener goes once the slot is granted: thousands of queued items must not pile listeners on one signal.
      const waiter: Waiter = { tokens, resolve: () => { signal?.removeEventListener('abort', onAbort); resolve(); }, reject };
      this.queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pump();
    });
  }

  release(): void {
    this.inFlight--;
    this.pump();
  }

  /**
   * Additive increase: one more slot after a full window of successes at the current limit. While starting slowly,
   * one more per success: the ramp doubles every round trip.
   */
  onSuccess(): void {
    if (this.ramp !== undefined) {
      this.ramp = this.ramp + 1 >= this.current ? undefined : this.ramp + 1;
      this.pump();
    }
    if (this.current >= this.options.max) return;
    if (++this.successesSinceChange >= this.current) {
      this.current++;
      this.successesSinceChange = 0;
      this.pump();
    }
  }

  /**
   * Multiplicative decrease, plus a pause for everyone when the server said how long to wait. `epoch` is the value
   * of `this.epoch` when the rate-limited request was sent; without it every call halves.
   */
  onRateLimited(retryAfterMs?: number, epoch?: number): void {
    this.rateLimitEvents++;
    if (retryAfterMs) {
      this.pausedUntil = Math.max(this.pausedUntil, this.now() + retryAfterMs);
      if (this.options.slowStart) this.ramp = 1;
    }
    if (epoch !== undefined && epoch !== this.epoch) return;
    this.current = Math.max(1, Math.floor(this.current / 2));
    this.successesSinceChange = 0;
    this.epoch++;
  }

  async run<T>(fn: () => Promise<T>, tokens = 0, signal?: AbortSignal): Promise<T> {
    await this.acquire(tokens, signal);
    try {
      return await fn();
    } finally {
      this.release();
    }
  }

  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    while (this.queue.length > 0 && this.inFlight < Math.min(this.current, this.ramp ?? this.current)) {
      const wait = this.waitFor(this.queue[0]!.tokens);
      if (wait > 0) {
        this.timer = setTimeout(() => this.pump(), wait);
        return;
      }
      const waiter = this.queue.shift()!;
      const at = this.now();
      this.inFlight++;
      this.starts.push(at);
      if (waiter.tokens) this.tokenLog.push({ at, tokens: waiter.tokens });
      waiter.resolve();
    }
  }

  /** Milliseconds until a request of this size may start (0 = now). */
  private waitFor(tokens: number): number {
    const now = this.now();
    let wait = Math.max(0, this.pausedUntil - now);
    while (this.starts.length && this.starts[0]! <= now - WINDOW_MS) this.starts.shift();
    while (this.tokenLog.length && this.tokenLog[0]!.at <= now - WINDOW_MS) this.tokenLog.shift();
    const { rpm, tpm } = this.options;
    if (rpm && this.starts.length >= rpm) wait = Math.max(wait, this.starts[this.starts.length - rpm]! + WINDOW_MS - now);
    if (tpm && this.tokenLog.length) {
      // Free enough of the window for this request; a request larger than the whole budget goes alone.
      let used = this.tokenLog.reduce((n, e) => n + e.tokens, 0);
      for (const entry of this.tokenLog) {
        if (used + tokens <= tpm) break;
        used -= entry.tokens;
        wait = Math.max(wait, entry.at + WINDOW_MS - now);
      }
    }
    return wait;
  }
}
