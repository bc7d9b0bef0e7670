// The batch driver: submits keyed requests as jobs, polls them, matches results by key, validates them like
// interactive answers, and re-submits what failed, for up to the configured rounds. Control calls to the batch
// service go through the interactive retry policy (src/llm/retry.ts).
import { rmSync } from 'node:fs';
import { type InterruptedError, InvalidAnswerError, ItemFailedError, StoppedError } from '../errors.js';
import { PROVIDERS } from '../llm/providers.js';
import {
  callTimeoutMs,
  classify,
  isInvalidAnswer,
  maxAttempts,
  sleep,
  withRetries,
  type Failure,
} from '../llm/retry.js';
import { interpret, requestKey, withFeedback } from '../llm/structured.js';
import type { BatchHost, Task } from '../llm/task.js';
import type { ChatRequest } from '../llm/types.js';
import { isTerminal, type BatchEngine, type BatchRequest, type BatchResult, type JobStatus } from './engine.js';
import {
  controlFailure,
  describeJobs,
  failureTally,
  GONE,
  interruptedBatch,
  splitIntoJobs,
  TRANSFER_TIMEOUT_FACTOR,
  type Wanted,
} from './jobs.js';
import type { BatchCall, BatchManifest } from './run_batch.js';
import { BatchState, type JobRecord } from './state.js';
import { BatchStatusLine } from './status_line.js';

export class BatchDriver<T> {
  private readonly file: string;
  private readonly keys: string[];
  /** Calls still without an answer, one per resume key (identical requests are asked once). */
  private readonly wanted = new Map<string, Wanted<T>>();
  private readonly answers = new Map<string, T>();
  private readonly failures = new Map<string, Failure>();
  /** Items not worth asking again: their failure would repeat (a rejected request, say). */
  private readonly givenUp = new Set<string>();
  private readonly submissions = new Map<string, number>();
  /** The jobs this run submitted or resumed, for the manifest. */
  private readonly touched: Array<{ job: JobRecord; resumed: boolean }> = [];
  private state!: BatchState;
  private rounds = 0;
  private resubmitted = 0;

  constructor(
    private readonly run: BatchHost,
    private readonly engine: BatchEngine,
    private readonly settings: { pollMs: number; maxRounds: number; maxRequestsPerJob: number },
    private readonly calls: BatchCall<T>[],
  ) {
    this.file = `${run.options.artifact}.batch.json`;
    this.keys = calls.map((c) => requestKey(engine.provider, c.call.request));
    const seen = new Set<string>();
    calls.forEach((c, i) => {
      const key = this.keys[i]!;
      if (!run.checkpoint.has(key)) this.wanted.set(key, this.wanted.get(key) ?? c);
      // The checkpoint hands a saved answer out once: when a request repeats, the driver takes it so every task with
      // that key can hand it over.
      else if (seen.has(key) && !this.answers.has(key)) {
        const saved = run.checkpoint.take<T>(key);
        if (saved !== undefined) this.answers.set(key, saved);
      }
      seen.add(key);
    });
  }

  async execute(): Promise<void> {
    if (this.run.options.fresh) await this.forgetEarlierJobs();
    this.state = BatchState.load(this.file, this.run.options.stage);
    // Jobs of an earlier run are waited for together with the first round, which submits only what they lack.
    let waiting = await this.resumeEarlierJobs();
    for (let round = 1; round <= this.settings.maxRounds; round++) {
      const covered = new Set(waiting.flatMap((j) => j.keys));
      const todo = [...this.wanted.keys()].filter(
        (k) => !this.answers.has(k) && !this.givenUp.has(k) && !covered.has(k),
      );
      if (!todo.length && !waiting.length) break;
      const again = todo.filter((k) => this.submissions.has(k));
      if (again.length) {
        this.resubmitted += again.length;
        this.run.addRetries(again.length);
        this.run.log(
          `batch: asking again for ${again.length} requests that failed or came back unusable (${failureTally(again, this.failures)})`,
        );
      }
      this.rounds = round;
      if (todo.length) waiting = [...waiting, ...(await this.submit(todo, round))];
      await this.settle(waiting, waiting.every((j) => this.resumed(j)) ? 'resumed' : `round ${round}`);
      waiting = [];
    }
    if (!this.state.open.length) this.state.remove();
    const missing = [...this.wanted.keys()].filter((k) => !this.answers.has(k)).length;
    this.run.log(
      `batch: ${this.answers.size} answers collected${missing ? `, ${missing} requests without a usable answer (recorded as failures)` : ''}`,
    );
  }

  tasks(): Task<T>[] {
    return this.calls.map((c, i) => {
      const key = this.keys[i]!;
      return {
        id: c.id,
        key,
        run: async () => {
          const answer = this.answers.get(key);
          if (answer !== undefined) return answer;
          const failure = this.failures.get(key);
          throw new ItemFailedError(
            failure?.errorClass ?? 'missing',
            failure?.message ?? 'no batch job returned an answer for this request',
            this.submissions.get(key) ?? 0,
          );
        },
      };
    });
  }

  manifest(): BatchManifest {
    return {
      state_file: this.file,
      rounds: this.rounds,
      resubmitted: this.resubmitted,
      jobs: this.touched.map(({ job, resumed }) => ({
        id: job.id,
        round: job.round,
        requests: job.keys.length,
        state: job.state,
        resumed,
      })),
    };
  }

  /** Reads an error of the batch service with its provider's own reading. */
  private classify(error: unknown): Failure {
    return classify(error, PROVIDERS[this.engine.provider].classify);
  }

  /** --fresh: an earlier run's jobs would only be paid for in vain, so they are cancelled (best effort) and forgotten. */
  private async forgetEarlierJobs(): Promise<void> {
    let open: JobRecord[] = [];
    try {
      open = BatchState.load(this.file, this.run.options.stage).open.filter((j) => j.provider === this.engine.provider);
    } catch {
      // A damaged list names no job that could be cancelled; --fresh forgets it all the same.
    }
    for (const job of open) await this.cancel(job);
    if (open.length)
      this.run.log(
        `batch: --fresh: cancelled ${open.length} unfinished job(s) of an earlier run (${open.map((j) => j.id).join(', ')})`,
      );
    rmSync(this.file, { force: true });
  }

  private resumed(job: JobRecord): boolean {
    return this.touched.some((t) => t.job === job && t.resumed);
  }

  private async resumeEarlierJobs(): Promise<JobRecord[]> {
    const resumable: JobRecord[] = [];
    for (const job of this.state.open) {
      if (job.provider !== this.engine.provider) {
        // Its keys belong to another provider, so none of its answers could be used here.
        this.run.log(
          `batch: leaving ${job.provider} job ${job.id} of an earlier run alone: this run uses ${this.engine.provider}`,
        );
        job.collected = true;
      } else if (!job.keys.some((k) => this.wanted.has(k))) {
        // Every request in it was answered since, or changed (a new prompt is a new key): stop paying for it.
        await this.cancel(job);
        job.collected = true;
        this.run.log(`batch: cancelled job ${job.id} of an earlier run: none of its requests is needed any more`);
      } else resumable.push(job);
    }
    this.state.save();
    if (resumable.length)
      this.run.log(
        `batch: resuming ${resumable.length} job(s) of an earlier run instead of submitting again: ${resumable.map((j) => j.id).join(', ')}`,
      );
    for (const job of resumable) {
      this.touched.push({ job, resumed: true });
      for (const key of job.keys) this.submissions.set(key, (this.submissions.get(key) ?? 0) + 1);
    }
    return resumable;
  }

  private async cancel(job: JobRecord): Promise<void> {
    try {
      await this.engine.cancel(job, AbortSignal.any([this.run.signal, AbortSignal.timeout(callTimeoutMs())]));
    } catch {
      // Already finished, or gone: nothing left to stop.
    }
  }

  private request(key: string): ChatRequest {
    const { call } = this.wanted.get(key)!;
    const failure = this.failures.get(key);
    // An unusable answer is asked for again with the reason, exactly as an interactive retry does.
    return failure && isInvalidAnswer(failure)
      ? { ...call.request, prompt: withFeedback(call.request.prompt, failure) }
      : call.request;
  }

  private async submit(keys: string[], round: number): Promise<JobRecord[]> {
    const byModel = new Map<string, BatchRequest[]>();
    for (const key of keys) {
      const request = this.request(key);
      // A job serves one model (OpenAI requires it, Gemini names the model in the job).
      byModel.set(request.model, [...(byModel.get(request.model) ?? []), { key, request }]);
    }
    const jobs: JobRecord[] = [];
    for (const [model, items] of byModel) {
      const parts = splitIntoJobs(items, this.engine, this.settings.maxRequestsPerJob);
      for (const [i, part] of parts.entries()) {
        if (this.run.admit.aborted) throw this.interrupted();
        const label = `${this.run.options.stage}-r${round}-${i + 1}of${parts.length}`;
        const submitted = await this.control(
          `submit batch job ${label}`,
          (signal) => this.engine.submit(model, part, label, signal),
          TRANSFER_TIMEOUT_FACTOR,
        );
        const job: JobRecord = {
          id: submitted.id,
          provider: this.engine.provider,
          model,
          round,
          created_at: new Date().toISOString(),
          input_file: submitted.inputFile ?? null,
          keys: part.map((p) => p.key),
          state: 'submitted',
          collected: false,
        };
        // Saved before anything else can happen: from here on a re-run polls this job instead of paying again.
        this.state.add(job);
        this.touched.push({ job, resumed: false });
        for (const item of part) this.submissions.set(item.key, (this.submissions.get(item.key) ?? 0) + 1);
        this.run.log(
          `batch: submitted ${job.id} (${part.length} request${part.length === 1 ? '' : 's'} to ${this.engine.provider} ${model}${submitted.inputFile ? `, uploaded as ${submitted.inputFile}` : ', inline'})`,
        );
        jobs.push(job);
      }
    }
    return jobs;
  }

  private async settle(jobs: JobRecord[], label: string): Promise<void> {
    const line = new BatchStatusLine({ quiet: this.run.options.quiet });
    const statuses = new Map<string, JobStatus>();
    const open = [...jobs];
    try {
      while (open.length) {
        for (const job of [...open]) {
          const status = await this.control(`poll batch job ${job.id}`, (signal) => this.poll(job, signal));
          statuses.set(job.id, status);
          if (status.state !== job.state) {
            job.state = status.state;
            this.state.save();
          }
          if (!isTerminal(status.phase)) continue;
          line.stop();
          await this.collect(job, status);
          open.splice(open.indexOf(job), 1);
        }
        line.update(describeJobs(this.engine.provider, label, jobs.length, open.length, [...statuses.values()]));
        if (!open.length) break;
        await sleep(this.settings.pollMs, this.run.admit);
        if (this.run.admit.aborted) throw this.interrupted();
      }
    } finally {
      line.stop();
    }
  }

  /** A job the provider no longer knows (deleted, or another account's) ends like an expired one: its requests go again. */
  private async poll(job: JobRecord, signal: AbortSignal): Promise<JobStatus> {
    try {
      return await this.engine.status(job, signal);
    } catch (error) {
      if (this.classify(error).errorClass !== 'not_found') throw error;
      return {
        phase: 'failed',
        state: GONE,
        total: job.keys.length,
        succeeded: 0,
        failed: 0,
        error: `${this.engine.provider} no longer knows this job`,
      };
    }
  }

  /** Result files expire at the provider; gone ones leave their requests without an answer, to be asked again. */
  private async download(job: JobRecord, signal: AbortSignal): Promise<BatchResult[]> {
    try {
      return await this.engine.results(job, signal);
    } catch (error) {
      if (this.classify(error).errorClass !== 'not_found') throw error;
      this.run.log(
        `batch: the results of ${job.id} are no longer available at ${this.engine.provider}; its requests are asked again`,
      );
      return [];
    }
  }

  private async collect(job: JobRecord, status: JobStatus): Promise<void> {
    const results =
      status.state === GONE
        ? []
        : await this.control(
            `download the results of batch job ${job.id}`,
            (signal) => this.download(job, signal),
            TRANSFER_TIMEOUT_FACTOR,
          );
    const seen = new Set<string>();
    let saved = 0;
    for (const result of results) {
      if (seen.has(result.key)) continue;
      seen.add(result.key);
      // Every answer is billed, used or not.
      if (result.response) this.run.meter.add(job.model, result.response.usage, result.response.modelVersion);
      const wanted = this.wanted.get(result.key);
      if (!wanted || this.answers.has(result.key)) continue;
      if (result.error) {
        this.fail(result.key, result.error);
        continue;
      }
      try {
        const answer = interpret(wanted.call, result.response!);
        this.answers.set(result.key, answer);
        this.failures.delete(result.key);
        this.run.checkpoint.save(result.key, wanted.id, answer);
        saved++;
      } catch (error) {
        if (!(error instanceof InvalidAnswerError)) throw error;
        this.fail(result.key, this.classify(error));
      }
    }
    const absent: Failure =
      status.phase === 'succeeded'
        ? {
            kind: 'transient',
            errorClass: 'missing',
            message: `batch job ${job.id} finished without a result for this request`,
          }
        : {
            kind: 'transient',
            errorClass: `batch_${status.phase}`,
            message: `batch job ${job.id} ended ${status.state}${status.error ? `: ${status.error}` : ''}`,
          };
    for (const key of job.keys)
      if (!seen.has(key) && this.wanted.has(key) && !this.answers.has(key)) this.fail(key, absent);
    job.collected = true;
    job.state = status.state;
    this.state.save();
    const unusable = job.keys.filter((k) => this.wanted.has(k) && !this.answers.has(k)).length;
    this.run.log(
      `batch: ${job.id} ${status.state}${status.error ? ` (${status.error})` : ''}: ${saved} answers saved${unusable ? `, ${unusable} failed or unusable` : ''}`,
    );
  }

  private fail(key: string, failure: Failure): void {
    this.failures.set(key, failure);
    if (failure.kind === 'fatal') this.givenUp.add(key);
  }

  /** A call to the batch service under the interactive retry policy; giving up stops the stage, the jobs stay saved. */
  private async control<R>(what: string, attempt: (signal: AbortSignal) => Promise<R>, timeoutFactor = 1): Promise<R> {
    try {
      const policy = {
        limiter: this.run.limiter,
        signal: this.run.signal,
        admit: this.run.admit,
        timeoutMs: callTimeoutMs() * timeoutFactor,
        maxAttempts: maxAttempts(),
        classify: PROVIDERS[this.engine.provider].classify,
      };
      return (await withRetries(attempt, 0, policy)).value;
    } catch (error) {
      if (error instanceof StoppedError) throw this.interrupted();
      throw controlFailure(error, what, this.state.open.length ? this.file : undefined);
    }
  }

  private interrupted(): InterruptedError {
    return interruptedBatch(
      this.state.open,
      this.engine.provider,
      this.file,
      this.answers.size,
      this.run.checkpoint.file,
    );
  }
}
