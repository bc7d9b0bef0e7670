// What calls need from the stage that runs them, and what they hand it back: a small interface the stage runner
// (src/stage/stage_run.ts) satisfies, so nothing under src/llm or src/batch imports the runner itself.
import type { ResultCodec } from '../io/checkpoint.js';
import type { AdaptiveLimiter } from '../limiter.js';
import type { Usage } from './types.js';

/** One resumable unit of work: its result is saved in the checkpoint under `key`. */
export interface Task<R> {
  id: string;
  key: string;
  /** How many counted items this task stands for (stage 1: a chunk is 3 requested pairs; stage 5: a batch). */
  units?: number;
  run(signal: AbortSignal): Promise<R>;
  /** How the result is kept in the checkpoint, when plain JSON would be wasteful (stage 5's vectors). */
  codec?: ResultCodec<R>;
}

export type { ResultCodec };

/** The running stage as a model call sees it: who admits requests, when to stop, where usage and retries go. */
export interface CallHost {
  readonly limiter: AdaptiveLimiter;
  /** Aborted when the stage must stop at once: in-flight calls are cancelled. */
  readonly signal: AbortSignal;
  /** Aborted when the stage stops taking new work (first Ctrl-C); in-flight calls may finish. */
  readonly admit: AbortSignal;
  readonly meter: { add(model: string, usage: Usage, version?: string): void };
  /** Counts attempts made again (for the progress line and the manifest). */
  addRetries(n: number): void;
}

/** What batch mode needs besides: the stage's names and flags, its checkpoint, and its log. */
export interface BatchHost extends CallHost {
  readonly options: {
    readonly stage: string;
    readonly artifact: string;
    readonly fresh?: boolean;
    readonly quiet?: boolean;
  };
  readonly checkpoint: {
    readonly file: string;
    has(key: string): boolean;
    take<R>(key: string): R | undefined;
    save(key: string, id: string, result: unknown): void;
  };
  log(message: string): void;
}
