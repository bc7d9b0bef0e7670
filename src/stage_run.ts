// Everything a stage shares: stop-and-keep on signals, resumable task running, failure records, the honest summary
// (read = written + filtered + failed), and the manifest next to the artifact.
import { setMaxListeners } from 'node:events';
import { rmSync, writeFileSync } from 'node:fs';
import pLimit from 'p-limit';
import { ArtifactLock, lockPath } from './artifact_lock.js';
import { Checkpoint } from './checkpoint.js';
import { sidecarPath } from './config.js';
import { FatalError, InterruptedError, ItemFailedError, StoppedError } from './errors.js';
import { envInt } from './env.js';
import { writeJsonl } from './jsonl.js';
import { AdaptiveLimiter } from './limiter.js';
import type { ResultCodec, Task } from './llm/task.js';
import { Progress, formatDuration } from './progress.js';
import { redact } from './secrets.js';
import { checkStageFiles, type StageFile } from './stage_files.js';
import { StopSignals } from './stop_signals.js';
import { stageSpan, traceUsage, type StageSpan } from './tracing.js';
import { cacheHitRate, formatTokens, formatUsd, UsageMeter } from './usage_meter.js';

export interface StageOptions {
  stage: string;
  /** The primary artifact; checkpoint, errors and manifest files are named after it. */
  artifact: string;
  inputs: string[];
  /** Files the stage writes besides the artifact, by flag name (`{ final: 'output/conversations_final.jsonl' }`). */
  outputs?: Record<string, string>;
  /** A stage that makes no calls (6, 7) has nothing to wait for: the first Ctrl-C stops it before it writes. */
  noCalls?: boolean;
  settings: Record<string, unknown>;
  concurrency: number;
  rpm?: number;
  tpm?: number;
  /** The concurrency an earlier stage on the same provider and model reached (see src/proven_concurrency.ts). */
  startConcurrency?: number;
  fresh?: boolean;
  quiet?: boolean;
  /** Share of items allowed to fail before the exit code says so (0 = any failure fails the run). */
  maxFailureRate?: number;
  batch?: boolean;
}

export type { ResultCodec, Task };

export interface RunTasksOptions<R> {
  concurrency?: number;
  /**
   * Receive each result as it is ready (in any order; undefined for an item that failed) instead of holding them
   * all for the return value.
   */
  onResult?: (index: number, result: R | undefined) => void | Promise<void>;
}

export interface FailureRecord {
  stage: string;
  item_id: string;
  error_class: string;
  message: string;
  attempts: number;
}

// Circuit breaker (as NeMo Data Designer): after at least this many finished items, more than half failed → stop.
const BREAKER_MIN_ITEMS = 10;
const BREAKER_RATE = 0.5;

export class StageRun {
  readonly limiter: AdaptiveLimiter;
  readonly meter: UsageMeter;
  readonly checkpoint: Checkpoint;
  readonly failures: FailureRecord[] = [];
  readonly counts = { read: 0, written: 0, reused: 0, filtered: {} as Record<string, number> };
  readonly outputs: string[] = [];
  /** Aborted when the stage must stop at once: in-flight calls are cancelled. */
  readonly signal: AbortSignal;
  /** Aborted when the stage stops taking new work (first Ctrl-C); in-flight calls may finish. */
  readonly admit: AbortSignal;
  retries = 0;
  private failedUnits = 0;
  private readonly hard = new AbortController();
  private readonly soft = new AbortController();
  private readonly started = new Date();
  private fatal: Error | undefined;
  private readonly presses = new StopSignals({ first: () => this.stopTakingWork(), again: () => this.hard.abort(new Error('interrupted')) });
  private readonly locks: ArtifactLock[] = [];
  /** The stage as a Logfire span (when LOGFIRE_TOKEN is set; otherwise a no-op). */
  private readonly span: StageSpan;
  /** How long calls in flight may finish after the first Ctrl-C; read up front so a bad value fails at the start. */
  private readonly graceMs = envInt('STOP_GRACE_MS', 15_000);

  constructor(readonly options: StageOptions) {
    const { artifact } = options;
    const extra = Object.entries(options.outputs ?? {}).map(([flag, path]): StageFile => ({ path, role: `--${flag}` }));
    const checkpointFile = `${artifact}.checkpoint.jsonl`;
    // Everything this stage will write, checked before any work so a wrong path costs no call.
    checkStageFiles(options.inputs.map((path) => ({ path, role: 'the input' })), [
      { path: artifact, role: '--output' },
      ...extra,
      { path: checkpointFile, role: 'the checkpoint of --output' },
      { path: this.errorsFile, role: 'the errors file of --output' },
      { path: sidecarPath(artifact, '.meta.json'), role: 'the manifest of --output' },
      ...[artifact, ...extra.map((e) => e.path)].map((path) => ({ path: lockPath(path), role: `the lock of ${path}` })),
    ]);
    this.outputs.push(...extra.map((e) => e.path));
    for (const path of [artifact, ...extra.map((e) => e.path)]) {
      try {
        this.locks.push(ArtifactLock.acquire(path));
      } catch (error) {
        this.releaseLocks();
        throw error;
      }
    }
    this.signal = this.hard.signal;
    this.admit = this.soft.signal;
    // Every call in flight listens on these two signals (AbortSignal.any, the limiter's queue): no leak, just many.
    setMaxListeners(0, this.signal, this.admit);
    this.limiter = new AdaptiveLimiter({ max: options.concurrency, rpm: options.rpm, tpm: options.tpm, slowStart: true, startAt: options.startConcurrency });
    this.meter = new UsageMeter(options.batch, traceUsage);
    try {
      this.checkpoint = new Checkpoint(checkpointFile, options.fresh);
    } catch (error) {
      this.releaseLocks();
      throw error;
    }
    this.span = stageSpan(options.stage, { ...options.settings, artifact: options.artifact });
    this.presses.listen();
  }

  get errorsFile(): string {
    return sidecarPath(this.options.artifact, '.errors.jsonl');
  }

  /** Failed items, in the same unit as `counts.read`. */
  get failed(): number {
    return this.failedUnits;
  }

  /** Attempts made again, counted for the progress line and the manifest. */
  addRetries(n: number): void {
    this.retries += n;
  }

  log(message: string): void {
    if (!this.options.quiet) process.stdout.write(message + '\n');
  }

  filter(reason: string, n = 1): void {
    if (n > 0) this.counts.filtered[reason] = (this.counts.filtered[reason] ?? 0) + n;
  }

  /**
   * A Ctrl-C press (or SIGTERM): the first stops taking work and lets in-flight calls finish for a bounded time; a
   * press a second or more later stops now. Relays of the same press (npx, tsx, make) count once: see stop_signals.
   */
  interrupt(): void {
    this.presses.received();
  }

  private get interrupted(): boolean {
    return this.presses.pressed;
  }

  private stopTakingWork(): void {
    if (this.options.noCalls) {
      process.stderr.write(`\nStopping: nothing more is written; ${this.options.artifact} stays as it was…\n`);
      this.soft.abort(new Error('interrupted'));
      this.hard.abort(new Error('interrupted'));
      return;
    }
    process.stderr.write('\nStopping: no new work is started; waiting for calls in flight (Ctrl-C again to stop now)…\n');
    this.soft.abort(new Error('interrupted'));
    setTimeout(() => this.hard.abort(new Error('interrupted')), this.graceMs).unref();
  }

  /** What a stage without calls throws once stopped. */
  private interruption(): InterruptedError {
    return new InterruptedError(`interrupted: nothing was written; ${this.options.artifact} is as it was — run the same command again`);
  }

  /**
   * For stages without calls, between steps: throws once Ctrl-C was pressed. Yields first, so a signal that arrived
   * during synchronous work (the dedup) is seen before anything is written.
   */
  async stopIfInterrupted(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.throwIfInterrupted();
  }

  /** The same check without the yield, cheap enough for every row read. */
  throwIfInterrupted(): void {
    if (this.interrupted) throw this.interruption();
  }

  /** The rows, stopping (so the writer drops its temporary file) once Ctrl-C was pressed. */
  *untilInterrupted<T>(rows: Iterable<T>): Generator<T> {
    for (const row of rows) {
      if (this.interrupted) throw this.interruption();
      yield row;
    }
  }

  private releaseLocks(): void {
    for (const lock of this.locks.splice(0)) lock.release();
  }

  private abortWith(error: Error): void {
    this.fatal ??= error;
    this.soft.abort(error);
    this.hard.abort(error);
  }

  /**
   * Runs tasks with resume: a task whose key is in the checkpoint is not run again. Results come back in task
   * order (undefined for failed items), so the artifact is the same whether or not the run was interrupted.
   */
  async runTasks<R>(label: string, tasks: Task<R>[], options: RunTasksOptions<R> = {}): Promise<Array<R | undefined>> {
    const keep = options.onResult === undefined;
    const results: Array<R | undefined> = new Array(tasks.length);
    const deliver = async (i: number, result: R) => {
      if (keep) results[i] = result;
      else await options.onResult!(i, result);
    };
    const progress = new Progress({
      label,
      total: tasks.length,
      quiet: this.options.quiet,
      meter: this.meter,
      retries: () => this.retries,
      waiting: () => this.limiter.waitState(),
      maxRate: this.options.rpm ? this.options.rpm / 60 : undefined,
    });
    // Tasks with the same key are the same request: it is asked (and paid for) once and its answer goes to each.
    const groups = new Map<string, number[]>();
    const reusedHere = new Map<string, R>();
    for (const [i, task] of tasks.entries()) {
      const saved = reusedHere.get(task.key) ?? this.takeSaved(task);
      if (saved !== undefined) {
        reusedHere.set(task.key, saved);
        await deliver(i, saved);
        this.counts.reused += task.units ?? 1;
        progress.done++;
      } else if (groups.has(task.key)) groups.get(task.key)!.push(i);
      else groups.set(task.key, [i]);
    }
    if (this.counts.reused) this.log(`${label}: ${this.counts.reused} finished items reused from ${this.checkpoint.file}`);
    let finished = 0;
    let failed = 0;
    const limit = pLimit(options.concurrency ?? this.options.concurrency);
    await this.span.within(() => Promise.all(
      [...groups.values()].map((indices) =>
        limit(async () => {
          if (this.admit.aborted) return;
          const task = tasks[indices[0]!]!;
          try {
            const result = await task.run(this.signal);
            // A batch job has saved its answers already; saving again would only double the file.
            if (!this.checkpoint.has(task.key)) this.checkpoint.save(task.key, task.id, task.codec ? task.codec.encode(result) : result);
            for (const i of indices) {
              await deliver(i, result);
              finished++;
              progress.tick();
            }
          } catch (error) {
            if (error instanceof StoppedError || this.signal.aborted) return;
            if (error instanceof FatalError) return this.abortWith(error);
            const err = error as Error;
            for (const i of indices) {
              this.failures.push({
                stage: this.options.stage,
                item_id: tasks[i]!.id,
                error_class: error instanceof ItemFailedError ? error.errorClass : 'internal',
                message: redact(err.message ?? String(error)).slice(0, 1000),
                attempts: error instanceof ItemFailedError ? error.attempts : 1,
              });
              this.failedUnits += tasks[i]!.units ?? 1;
              finished++;
              failed++;
              progress.tick('failed');
              if (!keep) await options.onResult!(i, undefined);
            }
            if (finished >= BREAKER_MIN_ITEMS && failed / finished > BREAKER_RATE)
              this.abortWith(new FatalError(`stopped early: ${failed} of the first ${finished} items failed (${this.topFailure()}) — details in ${this.errorsFile}`));
          }
        }),
      ),
    ));
    progress.stop();
    if (this.fatal) {
      // The ledger may be on the same full disk: its failure must not hide the reason the stage stopped.
      await this.writeOwnErrors().catch(() => undefined);
      await this.span.end(this.figures(), this.fatal);
      throw this.fatal;
    }
    if (this.interrupted) {
      await this.writeOwnErrors();
      const error = new InterruptedError(
        `interrupted: ${this.checkpoint.size} finished items are saved in ${this.checkpoint.file}; run the same command again to resume (--fresh starts over)`,
      );
      await this.span.end(this.figures(), error);
      throw error;
    }
    return results;
  }

  private takeSaved<R>(task: Task<R>): R | undefined {
    const stored = this.checkpoint.take<unknown>(task.key);
    return stored === undefined || !task.codec ? (stored as R | undefined) : task.codec.decode(stored);
  }

  /** What the stage's span ends with: the manifest's counts and usage, flat. */
  private figures(): Record<string, number> {
    const t = this.meter.totals;
    const filtered = Object.fromEntries(Object.entries(this.counts.filtered).map(([k, v]) => [`filtered.${k}`, v]));
    return { read: this.counts.read, written: this.counts.written, failed: this.failed, reused: this.counts.reused, retries: this.retries, ...filtered, calls: t.calls, input_tokens: t.inputTokens, output_tokens: t.outputTokens, cached_input_tokens: t.cachedInputTokens, cost_usd: t.costUsd };
  }

  private topFailure(): string {
    const byClass: Record<string, number> = {};
    for (const f of this.failures) byClass[f.error_class] = (byClass[f.error_class] ?? 0) + 1;
    return Object.entries(byClass).sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ×${v}`).join(', ');
  }

  private async writeErrors(): Promise<void> {
    if (this.failures.length) await writeJsonl(this.errorsFile, this.failures);
    else rmSync(this.errorsFile, { force: true });
  }

  /**
   * A run that stops early writes its own failures, but never deletes the ledger of the last complete run: that
   * run's manifest still names it. Only finish() (which writes the manifest) replaces it with nothing.
   */
  private async writeOwnErrors(): Promise<void> {
    if (this.failures.length) await writeJsonl(this.errorsFile, this.failures);
  }

  /** Writes the errors file and manifest, prints the summary; returns the exit code. */
  async finish(extra: Record<string, unknown> = {}): Promise<number> {
    this.presses.stop();
    await this.writeErrors();
    await this.checkpoint.compact();
    const seconds = (Date.now() - this.started.getTime()) / 1000;
    const totals = this.meter.totals;
    const filtered = Object.values(this.counts.filtered).reduce((a, b) => a + b, 0);
    const manifest = {
      stage: this.options.stage,
      // The settings' model, and any other model the stage was billed for.
      models: [...new Set([this.options.settings.model, ...Object.keys(this.meter.byModel)].filter((m): m is string => typeof m === 'string'))],
      // Requested model → the concrete versions the service said answered, with call counts.
      models_used: this.meter.modelsUsed,
      started_at: this.started.toISOString(),
      duration_s: Math.round(seconds * 10) / 10,
      inputs: this.options.inputs,
      outputs: [this.options.artifact, ...this.outputs],
      settings: this.options.settings,
      counts: { read: this.counts.read, written: this.counts.written, failed: this.failed, filtered: this.counts.filtered, reused: this.counts.reused, retries: this.retries },
      usage: { ...totals, by_model: this.meter.byModel, unpriced_models: [...this.meter.unpriced] },
      errors_file: this.failures.length ? this.errorsFile : null,
      // What the next stage on the same provider and model may start at; only interactive calls prove it.
      ...(totals.calls && !this.options.batch ? { limiter: { reached_concurrency: this.limiter.reached } } : {}),
      ...extra,
    };
    writeFileSync(sidecarPath(this.options.artifact, '.meta.json'), JSON.stringify(manifest, null, 2) + '\n');
    this.releaseLocks();
    await this.span.end(this.figures());
    const reasons = Object.entries(this.counts.filtered).map(([k, v]) => `${k} ${v}`).join(', ');
    const line = [
      `read ${this.counts.read}`,
      `written ${this.counts.written}`,
      `filtered ${filtered}${reasons ? ` (${reasons})` : ''}`,
      `failed ${this.failed}`,
      `reused ${this.counts.reused}`,
      ...(totals.calls
        ? [`${totals.calls} calls`, `${formatTokens(totals.inputTokens)} in / ${formatTokens(totals.outputTokens)} out tokens`, `cache ${cacheHitRate(totals.inputTokens, totals.cachedInputTokens) || '0%'}`, formatUsd(totals.costUsd)]
        : []),
      formatDuration(seconds),
    ].join(' · ');
    process.stdout.write(`${this.options.stage}: ${line}\n`);
    if (this.failed) {
      // A task can stand for several counted items (a chunk's 3 pairs, a batch of embeddings): say both when they differ.
      const tasks = this.failures.length;
      const what = tasks === this.failed ? `${tasks} ${tasks === 1 ? 'item' : 'items'}` : `${this.failed} items (${tasks} ${tasks === 1 ? 'request' : 'requests'})`;
      process.stdout.write(`${what} failed (${this.topFailure()}): see ${this.errorsFile}; run again to retry only those\n`);
    }
    const balance = this.counts.written + filtered + this.failed;
    if (balance !== this.counts.read) process.stdout.write(`warning: counts do not balance (written + filtered + failed = ${balance}, read = ${this.counts.read})\n`);
    const allowed = this.options.maxFailureRate ?? 0;
    return this.failed > 0 && this.failed / Math.max(1, this.counts.read) > allowed ? 1 : 0;
  }
}
