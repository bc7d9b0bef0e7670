// One stage's run, put together from its parts: the outputs checked and locked before any work, the limiter and
// usage meter its calls share, stopping (stopping.ts), the task runner (tasks.ts), the failure ledger (ledger.ts)
// and the manifest and summary (summary.ts). Stages change its counts only through its methods.
import { ArtifactLock } from '../io/artifact_lock.js';
import { Checkpoint } from '../io/checkpoint.js';
import { checkStageFiles, type StageFile } from '../io/file_checks.js';
import { checkpointPath, errorsPath, lockPath, manifestPath } from '../io/sidecars.js';
import { InterruptedError } from '../errors.js';
import { AdaptiveLimiter } from '../limiter.js';
import { redact } from '../secrets.js';
import { stageSpan, traceUsage, type StageSpan } from '../tracing.js';
import { UsageMeter } from '../usage_meter.js';
import { FailureLedger, type FailureRecord } from './ledger.js';
import { StageStop } from './stopping.js';
import { exitCode, StageCounts, summaryText, writeManifest, type CountsView } from './summary.js';
import { runTasks, type RunTasksOptions, type Task } from './tasks.js';

export type { FailureRecord };
export type { ResultCodec, RunTasksOptions, Task } from './tasks.js';

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
  /** The concurrency an earlier stage on the same provider and model reached (see src/stage/proven_concurrency.ts). */
  startConcurrency?: number;
  fresh?: boolean;
  quiet?: boolean;
  /** Share of items allowed to fail before the exit code says so (0 = any failure fails the run). */
  maxFailureRate?: number;
  batch?: boolean;
}

export class StageRun {
  readonly limiter: AdaptiveLimiter;
  readonly meter: UsageMeter;
  readonly checkpoint: Checkpoint;
  private readonly stop: StageStop;
  private readonly ledger: FailureLedger;
  private readonly tally = new StageCounts();
  private readonly extraOutputs: string[] = [];
  private readonly started = new Date();
  private readonly locks: ArtifactLock[] = [];
  /** The stage as a Logfire span (when LOGFIRE_TOKEN is set; otherwise a no-op). */
  private readonly span: StageSpan;

  constructor(readonly options: StageOptions) {
    const { artifact } = options;
    // First, so a bad STOP_GRACE_MS fails before anything else.
    this.stop = new StageStop(artifact, options.noCalls);
    // Listening before the lock exists: the lock is what a supervisor (or a test) sees as "the stage has started",
    // and a Ctrl-C that comes before Node has a SIGINT listener kills the process outright (exit without 130).
    this.stop.listen();
    try {
      this.ledger = new FailureLedger(options.stage, errorsPath(artifact));
      const extra = Object.entries(options.outputs ?? {}).map(
        ([flag, path]): StageFile => ({ path, role: `--${flag}` }),
      );
      const checkpointFile = checkpointPath(artifact);
      // Everything this stage will write, checked before any work so a wrong path costs no call.
      checkStageFiles(
        options.inputs.map((path) => ({ path, role: 'the input' })),
        [
          { path: artifact, role: '--output' },
          ...extra,
          { path: checkpointFile, role: 'the checkpoint of --output' },
          { path: this.errorsFile, role: 'the errors file of --output' },
          { path: manifestPath(artifact), role: 'the manifest of --output' },
          ...[artifact, ...extra.map((e) => e.path)].map((path) => ({
            path: lockPath(path),
            role: `the lock of ${path}`,
          })),
        ],
      );
      this.extraOutputs.push(...extra.map((e) => e.path));
      for (const path of [artifact, ...extra.map((e) => e.path)]) {
        this.locks.push(ArtifactLock.acquire(path));
      }
      this.limiter = new AdaptiveLimiter({
        max: options.concurrency,
        rpm: options.rpm,
        tpm: options.tpm,
        slowStart: true,
        startAt: options.startConcurrency,
      });
      this.meter = new UsageMeter(options.batch, traceUsage);
      this.checkpoint = new Checkpoint(checkpointFile, options.fresh);
    } catch (error) {
      this.stop.stopListening();
      this.releaseLocks();
      throw error;
    }
    this.span = stageSpan(options.stage, { ...options.settings, artifact: options.artifact });
  }

  /** Aborted when the stage must stop at once: in-flight calls are cancelled. */
  get signal(): AbortSignal {
    return this.stop.signal;
  }

  /** Aborted when the stage stops taking new work (first Ctrl-C); in-flight calls may finish. */
  get admit(): AbortSignal {
    return this.stop.admit;
  }

  get errorsFile(): string {
    return this.ledger.file;
  }

  /** What the stage has counted so far (a copy: change it through the methods below). */
  get counts(): CountsView {
    return this.tally.view;
  }

  /** Failed items, in the same unit as `counts.read`. */
  get failed(): number {
    return this.ledger.failed;
  }

  /** The failure records so far. */
  get failures(): readonly FailureRecord[] {
    return this.ledger.records;
  }

  /** Files written besides the artifact, for the manifest. */
  get outputs(): readonly string[] {
    return this.extraOutputs;
  }

  log(message: string): void {
    if (!this.options.quiet) process.stdout.write(`${redact(message)}\n`);
  }

  /** The items the stage set out to produce (read = written + filtered + failed at the end). */
  setRead(n: number): void {
    this.tally.setRead(n);
  }

  /** One more item read, for a stage that counts as it streams. */
  addRead(n = 1): void {
    this.tally.addRead(n);
  }

  setWritten(n: number): void {
    this.tally.setWritten(n);
  }

  filter(reason: string, n = 1): void {
    this.tally.filter(reason, n);
  }

  /** A call (or, in batch mode, a request) was asked again (CallHost, src/llm/task.ts). */
  addRetries(n = 1): void {
    this.tally.addRetries(n);
  }

  /** A file the stage wrote besides its artifact, for the manifest. */
  addOutput(path: string): void {
    this.extraOutputs.push(path);
  }

  /** Stops the stage with a fatal error found outside its tasks (the model look-up beside the first call). */
  abort(error: Error): void {
    this.stop.abortWith(error);
  }

  /** A Ctrl-C press (or SIGTERM): see StageStop.interrupt. */
  interrupt(): void {
    this.stop.interrupt();
  }

  /** For stages without calls, between steps: throws once Ctrl-C was pressed (after a yield). */
  stopIfInterrupted(): Promise<void> {
    return this.stop.stopIfInterrupted();
  }

  /** The same check without the yield, cheap enough for every row read. */
  throwIfInterrupted(): void {
    this.stop.throwIfInterrupted();
  }

  /** The rows, stopping (so the writer drops its temporary file) once Ctrl-C was pressed. */
  untilInterrupted<T>(rows: Iterable<T>): Generator<T> {
    return this.stop.untilInterrupted(rows);
  }

  private releaseLocks(): void {
    for (const lock of this.locks.splice(0)) lock.release();
  }

  /**
   * Runs tasks with resume (see tasks.ts). A stage stopped by a fatal error or Ctrl-C writes its own failures and
   * throws; otherwise the results come back in task order, undefined for failed items.
   */
  async runTasks<R>(label: string, tasks: Task<R>[], options: RunTasksOptions<R> = {}): Promise<Array<R | undefined>> {
    const context = {
      ...this.options,
      checkpoint: this.checkpoint,
      limiter: this.limiter,
      meter: this.meter,
      counts: this.tally,
      ledger: this.ledger,
      stop: this.stop,
      log: (m: string) => this.log(m),
    };
    const results = await this.span.within(() => runTasks(context, label, tasks, options));
    const fatal = this.stop.fatal;
    if (fatal) {
      // The ledger may be on the same full disk: its failure must not hide the reason the stage stopped.
      await this.ledger.writeOwn().catch(() => undefined);
      await this.span.end(this.figures(), fatal);
      throw fatal;
    }
    if (this.stop.interrupted) {
      await this.ledger.writeOwn();
      const error = new InterruptedError(
        `interrupted: ${this.checkpoint.size} finished items are saved in ${this.checkpoint.file}; run the same command again to resume (--fresh starts over)`,
      );
      await this.span.end(this.figures(), error);
      throw error;
    }
    return results;
  }

  /** What the stage's span ends with: the manifest's counts and usage, flat. */
  private figures(): Record<string, number> {
    const t = this.meter.totals;
    const c = this.counts;
    const filtered = Object.fromEntries(Object.entries(c.filtered).map(([k, v]) => [`filtered.${k}`, v]));
    return {
      read: c.read,
      written: c.written,
      failed: this.failed,
      reused: c.reused,
      retries: c.retries,
      ...filtered,
      calls: t.calls,
      input_tokens: t.inputTokens,
      output_tokens: t.outputTokens,
      cached_input_tokens: t.cachedInputTokens,
      cost_usd: t.costUsd,
    };
  }

  /** Writes the errors file and manifest, prints the summary; returns the exit code. */
  async finish(extra: Record<string, unknown> = {}): Promise<number> {
    this.stop.stopListening();
    await this.ledger.write();
    await this.checkpoint.compact();
    const seconds = (Date.now() - this.started.getTime()) / 1000;
    const counts = this.counts;
    const { stage, artifact, inputs, settings } = this.options;
    writeManifest({
      stage,
      artifact,
      inputs,
      settings,
      counts,
      extra,
      seconds,
      outputs: [artifact, ...this.extraOutputs],
      started: this.started,
      reasked: this.checkpoint.rejected,
      ledger: this.ledger,
      meter: this.meter,
      // What the next stage on the same provider and model may start at; only interactive calls prove it.
      limiter:
        this.meter.totals.calls && !this.options.batch
          ? { reached: this.limiter.reached, rateLimited: this.limiter.rateLimitEvents }
          : undefined,
    });
    this.releaseLocks();
    await this.span.end(this.figures());
    process.stdout.write(summaryText(stage, counts, this.ledger, this.meter, seconds, this.checkpoint.rejected));
    return exitCode(counts, this.failed, this.options.maxFailureRate);
  }
}
