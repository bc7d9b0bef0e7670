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

/** Why nothing is being sent right now, and until when: what the progress line shows instead of a still bar. */
export interface WaitState {
  reason: 'rpm' | 'tpm' | 'server pause' | 'backoff';
  /** Epoch milliseconds. */
  until: number;
  /** Requests sitting out a backoff (reason 'backoff'). */
  items?: number;
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
  /** Set while the head of the queue waits for a window or a pause; cleared when a request is let through. */
  private waiting: WaitState | undefined;
  /** When each request now sitting out a backoff may try again. */
  private readonly backoffs = new Set<{ until: number }>();
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
      const waiter: Waiter = {
        tokens,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      this.queue.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.pump();
    });
  }

  release(): void {
    this.inFlight--;
    this.pump();
  }

  /** A request waits `ms` before its next attempt; call the returned function when the wait is over. */
  beginBackoff(ms: number): () => void {
    const entry = { until: this.now() + ms };
    this.backoffs.add(entry);
    return () => this.backoffs.delete(entry);
  }

  /**
   * What holds the stage up, when something does: the queue's head waiting for the --rpm/--tpm window or a pause
   * the server asked for, or (with nothing in flight) every request sitting out a backoff.
   */
  waitState(): WaitState | undefined {
    const now = this.now();
    if (this.waiting && this.waiting.until > now && this.queue.length > 0) return this.waiting;
    if (this.inFlight === 0 && this.backoffs.size > 0) {
      const until = Math.min(...[...this.backoffs].map((b) => b.until));
      if (until > now) return { reason: 'backoff', until, items: this.backoffs.size };
    }
    return undefined;
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
      const { wait, reason } = this.waitFor(this.queue[0]!.tokens);
      if (wait > 0) {
        this.waiting = { reason, until: this.now() + wait };
        this.timer = setTimeout(() => this.pump(), wait);
        return;
      }
      this.waiting = undefined;
      const waiter = this.queue.shift()!;
      const at = this.now();
      this.inFlight++;
      this.starts.push(at);
      if (waiter.tokens) this.tokenLog.push({ at, tokens: waiter.tokens });
      waiter.resolve();
    }
  }

  /** Milliseconds until a request of this size may start (0 = now), and which limit holds it. */
  private waitFor(tokens: number): { wait: number; reason: WaitState['reason'] } {
    const now = this.now();
    let wait = Math.max(0, this.pausedUntil - now);
    let reason: WaitState['reason'] = 'server pause';
    const hold = (ms: number, why: WaitState['reason']) => {
      if (ms > wait) {
        wait = ms;
        reason = why;
      }
    };
    while (this.starts.length && this.starts[0]! <= now - WINDOW_MS) this.starts.shift();
    while (this.tokenLog.length && this.tokenLog[0]!.at <= now - WINDOW_MS) this.tokenLog.shift();
    const { rpm, tpm } = this.options;
    if (rpm && this.starts.length >= rpm) hold(this.starts[this.starts.length - rpm]! + WINDOW_MS - now, 'rpm');
    if (tpm && this.tokenLog.length) {
      // Free enough of the window for this request; a request larger than the whole budget goes alone.
      let used = this.tokenLog.reduce((n, e) => n + e.tokens, 0);
      for (const entry of this.tokenLog) {
        if (used + tokens <= tpm) break;
        used -= entry.tokens;
        hold(entry.at + WINDOW_MS - now, 'tpm');
      }
    }
    return { wait, reason };
  }
}
