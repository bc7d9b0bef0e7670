// How requests are cut into batch jobs, how a round of jobs is described, and what a stop says: the driver's
// arithmetic and messages, kept apart from its control flow (src/batch/driver.ts).
import { FatalError, InterruptedError, ItemFailedError } from '../errors.js';
import type { Failure } from '../llm/retry.js';
import type { BatchEngine, BatchRequest, JobStatus } from './engine.js';
import type { StructuredCall } from '../llm/structured.js';
import type { JobRecord } from './state.js';

// Uploads and result downloads may be large: they get this many times the per-request timeout.
export const TRANSFER_TIMEOUT_FACTOR = 10;

// The state recorded for a job the provider answers 404 for.
export const GONE = 'gone';

/** A call still without an answer, under its resume key. */
export interface Wanted<T> {
  id: string;
  call: StructuredCall<T>;
}

/** Requests cut into jobs within the provider's limits (requests and bytes a job) and the configured maximum. */
export function splitIntoJobs(items: BatchRequest[], engine: BatchEngine, maxRequestsPerJob: number): BatchRequest[][] {
  const perJob = Math.min(maxRequestsPerJob, engine.limits.requests);
  const parts: BatchRequest[][] = [];
  let current: BatchRequest[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(engine.encode(item)) + 1;
    if (current.length && (current.length >= perJob || bytes + size > engine.limits.bytes)) {
      parts.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length) parts.push(current);
  return parts;
}

/** The status line of a round of jobs: how many, which states, how many requests are done. */
export function describeJobs(
  provider: string,
  label: string,
  jobs: number,
  open: number,
  statuses: JobStatus[],
): string {
  const total = statuses.reduce((n, s) => n + s.total, 0);
  const done = statuses.reduce((n, s) => n + s.succeeded + s.failed, 0);
  const failed = statuses.reduce((n, s) => n + s.failed, 0);
  const states = [...new Set(statuses.map((s) => s.state))].join('/');
  return [
    `batch ${label} · ${provider}`,
    `${jobs} job${jobs === 1 ? '' : 's'}${open && open < jobs ? ` (${open} waiting)` : ''}`,
    states,
    `${done}/${total} requests done${failed ? ` (${failed} failed)` : ''}`,
  ].join(' · ');
}

/** "server_error ×2, invalid_request ×1": why the given requests failed, by class. */
export function failureTally(keys: string[], failures: ReadonlyMap<string, Failure>): string {
  const byClass: Record<string, number> = {};
  for (const key of keys) {
    const errorClass = failures.get(key)?.errorClass ?? 'not submitted';
    byClass[errorClass] = (byClass[errorClass] ?? 0) + 1;
  }
  return Object.entries(byClass)
    .map(([k, v]) => `${k} ×${v}`)
    .join(', ');
}

/** A control call (submit, poll, download) that gave up, as the stage's one line; `stateFile` when jobs are saved. */
export function controlFailure(error: unknown, what: string, stateFile: string | undefined): unknown {
  const resume = stateFile ? `; the jobs are saved in ${stateFile} — run the same command again to resume` : '';
  if (error instanceof ItemFailedError)
    return new FatalError(
      `could not ${what}: ${error.message} (${error.errorClass}, ${error.attempts} attempts)${resume}`,
      { cause: error },
    );
  if (error instanceof FatalError)
    return new FatalError(`could not ${what}: ${error.message}${resume}`, { cause: error });
  return error;
}

/** What a Ctrl-C during batch mode says: where the answers are, or which jobs keep running and where they are saved. */
export function interruptedBatch(
  open: readonly JobRecord[],
  provider: string,
  stateFile: string,
  answers: number,
  checkpointFile: string,
): InterruptedError {
  if (!open.length)
    return new InterruptedError(
      `interrupted: ${answers} answers are saved in ${checkpointFile}; run the same command again to resume`,
    );
  return new InterruptedError(
    `interrupted: ${open.length} batch job(s) keep running at ${provider} (${open.map((j) => j.id).join(', ')}), saved in ${stateFile}; run the same command again to collect them without paying twice`,
  );
}
