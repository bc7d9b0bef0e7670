// The seam between the batch driver and one provider's batch service: submit keyed requests, report a job, hand back results.
import type { Provider } from '../llm/providers.js';
import type { Failure } from '../llm/retry.js';
import type { ChatRequest, ChatResponse } from '../llm/types.js';

/** One request of a job; `key` is the item's resume key and comes back with its result (custom_id, metadata.key). */
export interface BatchRequest {
  key: string;
  request: ChatRequest;
}

/** Where a job stands, in the driver's words; `state` keeps the provider's own. */
export type JobPhase = 'pending' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'expired';

export interface JobStatus {
  phase: JobPhase;
  state: string;
  total: number;
  /** Requests finished so far, successful and failed; 0 when the provider does not say. */
  succeeded: number;
  failed: number;
  /** Why a whole job failed, as the provider put it. */
  error?: string;
}

/** A job as the driver recorded it: enough to poll it and to match results without metadata. */
export interface JobRef {
  id: string;
  keys: string[];
}

export interface BatchResult {
  key: string;
  response?: ChatResponse;
  /** The line's own error (rate limited, server error …), classified like an interactive error. */
  error?: Failure;
}

export interface SubmittedJob {
  id: string;
  /** The uploaded input file, when the requests went as a file. */
  inputFile?: string;
}

export interface BatchEngine {
  readonly provider: Provider;
  /** The most a single job may hold: requests, and bytes of encoded request lines. */
  readonly limits: { requests: number; bytes: number };
  /** The request line as the service stores it; its length decides how jobs are split. */
  encode(item: BatchRequest): string;
  submit(model: string, items: BatchRequest[], label: string, signal: AbortSignal): Promise<SubmittedJob>;
  status(job: JobRef, signal: AbortSignal): Promise<JobStatus>;
  /** Results of a finished job (any terminal phase); requests without a line are simply absent. */
  results(job: JobRef, signal: AbortSignal): Promise<BatchResult[]>;
  cancel(job: JobRef, signal: AbortSignal): Promise<void>;
}

export function isTerminal(phase: JobPhase): boolean {
  return phase !== 'pending' && phase !== 'running';
}
