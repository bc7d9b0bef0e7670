// Runs a stage's structured calls as provider batch jobs: reads the batch settings, builds the provider's batch
// service, and lets the driver (./driver.ts) submit, poll, collect and re-submit; the stage gets tasks that deliver
// the answers (or the failures).
import { envInt } from '../env.js';
import { keyFor, PROVIDERS, type Provider } from '../llm/providers.js';
import { callTimeoutMs } from '../llm/retry.js';
import type { StructuredCall } from '../llm/structured.js';
import type { BatchHost, Task } from '../llm/task.js';
import { BatchDriver } from './driver.js';
import { TRANSFER_TIMEOUT_FACTOR } from './jobs.js';
import type { BatchEngine } from './engine.js';

export interface BatchCall<T> {
  id: string;
  call: StructuredCall<T>;
}

export interface BatchOptions {
  /** The provider's batch service; built from the environment unless a test passes one. */
  engine?: BatchEngine;
  /** Wait between polls (env BATCH_POLL_MS, default 30 s). */
  pollMs?: number;
  /** Submissions per run: the first and the re-submissions of failed or invalid answers (env BATCH_MAX_ROUNDS, default 3). */
  maxRounds?: number;
  /** Requests per job at most (env BATCH_MAX_REQUESTS, default the provider's limit). */
  maxRequestsPerJob?: number;
}

export interface BatchOutcome<T> {
  /** One task per call, in order, for `run.runTasks`: each hands over its answer or throws the item's failure. */
  tasks: Task<T>[];
  /** For the stage's manifest. */
  manifest: { batch: BatchManifest };
}

export interface BatchManifest {
  state_file: string;
  rounds: number;
  resubmitted: number;
  jobs: Array<{ id: string; round: number; requests: number; state: string; resumed: boolean }>;
}

function batchEngine(provider: Provider, stage: string): BatchEngine {
  const key = keyFor(provider, `stage ${stage} submits batch jobs`);
  // The client allows the longest call (an upload); each call sets its own, shorter limit through its signal.
  return PROVIDERS[provider].batchEngine(key, callTimeoutMs() * TRANSFER_TIMEOUT_FACTOR, stage);
}

/**
 * Submits the calls whose answers are not in the stage's checkpoint as batch jobs and waits for them. Valid answers
 * are saved to the checkpoint as they are collected; failed and invalid ones are re-submitted (invalid ones with
 * the reason, as an interactive retry would) for up to `maxRounds` submissions. Items still without an answer become
 * failures of the stage — never silent interactive calls at full price: running the stage again (with or without
 * --batch) retries only those.
 */
export async function runBatch<T>(
  run: BatchHost,
  provider: Provider,
  calls: BatchCall<T>[],
  options: BatchOptions = {},
): Promise<BatchOutcome<T>> {
  const settings = {
    pollMs: options.pollMs ?? envInt('BATCH_POLL_MS', 30_000, 1),
    maxRounds: options.maxRounds ?? envInt('BATCH_MAX_ROUNDS', 3, 1),
    maxRequestsPerJob: options.maxRequestsPerJob ?? envInt('BATCH_MAX_REQUESTS', Number.POSITIVE_INFINITY, 1),
  };
  const driver = new BatchDriver(run, options.engine ?? batchEngine(provider, run.options.stage), settings, calls);
  await driver.execute();
  return { tasks: driver.tasks(), manifest: { batch: driver.manifest() } };
}
