// How long to wait before the next attempt: the server's word when it gave one, else capped exponential backoff.
import { millisecondsFromEnv } from '../env.js';

export const MAX_DELAY_MS = 60_000;

/** LLM_BACKOFF_MS exists for tests and for proxies that recover fast; 1 s is a sane first wait for real APIs. */
export function baseMs(): number {
  return millisecondsFromEnv('LLM_BACKOFF_MS', 1000, 0);
}

/** attempt counts from 1. Full jitter on the upper half keeps concurrent retries from arriving in lockstep. */
export function backoffMs(attempt: number, serverDelayMs?: number, random: () => number = Math.random): number {
  if (serverDelayMs !== undefined) return Math.min(MAX_DELAY_MS, serverDelayMs + random() * Math.min(1000, serverDelayMs * 0.2));
  const ceiling = Math.min(MAX_DELAY_MS, baseMs() * 2 ** (attempt - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
  });
}
