// Running a stage's tasks with resume: a task whose key is in the checkpoint is not run again, identical requests
// are asked once, failures go to the ledger, and the circuit breaker stops a stage whose items mostly fail.
import pLimit from 'p-limit';
import { FatalError, StoppedError } from '../errors.js';
import type { Checkpoint, ResultCodec } from '../io/checkpoint.js';
import type { AdaptiveLimiter } from '../limiter.js';
import type { Task } from '../llm/task.js';
import { Progress } from '../progress.js';
import type { UsageMeter } from '../usage_meter.js';
import type { FailureLedger } from './ledger.js';
import type { StageStop } from './stopping.js';
import type { StageCounts } from './summary.js';

export type { ResultCodec, Task };

export interface RunTasksOptions<R> {
  concurrency?: number;
  /**
   * Receive each result as it is ready (in any order; undefined for an item that failed) instead of holding them
   * all for the return value.
   */
  onResult?: (index: number, result: R | undefined) => void | Promise<void>;
}

/** What the runner works with: the stage's parts, not the stage. */
export interface TaskContext {
  concurrency: number;
  quiet?: boolean;
  rpm?: number;
  checkpoint: Checkpoint;
  limiter: AdaptiveLimiter;
  meter: UsageMeter;
  counts: StageCounts;
  ledger: FailureLedger;
  stop: StageStop;
  log(message: string): void;
}

// Circuit breaker (as NeMo Data Designer): after at least this many finished items, more than half failed → stop.
const BREAKER_MIN_ITEMS = 10;
const BREAKER_RATE = 0.5;

/** Results come back in task order (undefined for failed items), so the artifact is the same after an interruption. */
export async function runTasks<R>(
  ctx: TaskContext,
  label: string,
  tasks: Task<R>[],
  options: RunTasksOptions<R> = {},
): Promise<Array<R | undefined>> {
  const { checkpoint, counts, ledger, stop } = ctx;
  const keep = options.onResult === undefined;
  const results: Array<R | undefined> = new Array(tasks.length);
  const deliver = async (i: number, result: R | undefined) => {
    if (keep) results[i] = result;
    else await options.onResult!(i, result);
  };
  const progress = new Progress({
    label,
    total: tasks.length,
    quiet: ctx.quiet,
    meter: ctx.meter,
    retries: () => counts.view.retries,
    waiting: () => ctx.limiter.waitState(),
    maxRate: ctx.rpm ? ctx.rpm / 60 : undefined,
  });
  // Tasks with the same key are the same request: it is asked (and paid for) once and its answer goes to each.
  const groups = new Map<string, number[]>();
  const reusedHere = new Map<string, R>();
  for (const [i, task] of tasks.entries()) {
    const saved = reusedHere.get(task.key) ?? takeSaved(checkpoint, task);
    if (saved !== undefined) {
      reusedHere.set(task.key, saved);
      await deliver(i, saved);
      counts.addReused(task.units ?? 1);
      progress.done++;
    } else if (groups.has(task.key)) groups.get(task.key)!.push(i);
    else groups.set(task.key, [i]);
  }
  const reused = counts.view.reused;
  if (reused) ctx.log(`${label}: ${reused} finished items reused from ${checkpoint.file}`);
  let finished = 0;
  let failed = 0;
  const limit = pLimit(options.concurrency ?? ctx.concurrency);
  await Promise.all(
    [...groups.values()].map((indices) =>
      limit(async () => {
        if (stop.admit.aborted) return;
        const task = tasks[indices[0]!]!;
        try {
          const result = await task.run(stop.signal);
          // A batch job has saved its answers already; saving again would only double the file.
          if (!checkpoint.has(task.key))
            checkpoint.save(task.key, task.id, task.codec ? task.codec.encode(result) : result);
          for (const i of indices) {
            await deliver(i, result);
            finished++;
            progress.tick();
          }
        } catch (error) {
          if (error instanceof StoppedError || stop.signal.aborted) return;
          if (error instanceof FatalError) return stop.abortWith(error);
          for (const i of indices) {
            ledger.record(tasks[i]!.id, error, tasks[i]!.units ?? 1);
            finished++;
            failed++;
            progress.tick('failed');
            if (!keep) await options.onResult!(i, undefined);
          }
          if (finished >= BREAKER_MIN_ITEMS && failed / finished > BREAKER_RATE)
            stop.abortWith(
              new FatalError(
                `stopped early: ${failed} of the first ${finished} items failed (${ledger.topFailure()}) — details in ${ledger.file}`,
              ),
            );
        }
      }),
    ),
  );
  progress.stop();
  return results;
}

function takeSaved<R>(checkpoint: Checkpoint, task: Task<R>): R | undefined {
  const stored = checkpoint.take<unknown>(task.key);
  return stored === undefined || !task.codec ? (stored as R | undefined) : task.codec.decode(stored);
}
