// What the four LLM stages share once their calls are built: the key checked first, one StageRun set up from the
// common flags, and one way to run the calls — one request each, or as provider batch jobs.
import { runBatch } from './batch/run_batch.js';
import type { ThinkingLevel } from './config.js';
import { llmTask } from './llm/calls.js';
import { chatProvider, type Provider } from './llm/providers.js';
import { provenConcurrency } from './proven_concurrency.js';
import { estimatedTokens, requestKey, type StructuredCall } from './llm/structured.js';
import type { ChatProvider, ChatRequest } from './llm/types.js';
import { StageRun } from './stage_run.js';

export interface LlmStageFlags {
  concurrency: number;
  rpm?: number;
  tpm?: number;
  fresh?: boolean;
  quiet?: boolean;
  'max-failure-rate': number;
  batch?: boolean;
}

export interface LlmStageSetup {
  stage: string;
  /** Said when the key is missing: what the stage needs it for. */
  why: string;
  artifact: string;
  inputs: string[];
  /** Files written besides the artifact, by flag name. */
  outputs?: Record<string, string>;
  provider: Provider;
  model: string;
  temperature: number;
  /** The level every call names (resolveThinking); recorded with the config it becomes for the model. */
  thinking?: ThinkingLevel;
  /** Stage-specific settings for the manifest. */
  settings?: Record<string, unknown>;
  /** The model to call instead of the provider's API (a unit test's recording fake); no key is read then. */
  llm?: ChatProvider;
}

export interface LlmStage {
  run: StageRun;
  llm: ChatProvider;
  /** "batch jobs" or "concurrency N", for the stage's opening line. */
  mode: string;
}

/** Reads the key before anything is created, so a missing key stops the stage before any work. */
export function openLlmStage(flags: LlmStageFlags, setup: LlmStageSetup): LlmStage {
  const llm = setup.llm ?? chatProvider(setup.provider, setup.why);
  // Batch jobs have no ramp; interactive calls start where the last stage on this model got to.
  const proof = flags.batch ? undefined : provenConcurrency(setup.inputs, setup.provider, setup.model);
  const run = new StageRun({
    stage: setup.stage,
    artifact: setup.artifact,
    inputs: setup.inputs,
    outputs: setup.outputs,
    settings: {
      provider: setup.provider,
      model: setup.model,
      mode: flags.batch ? 'batch' : 'interactive',
      temperature: setup.temperature,
      ...(setup.thinking ? { thinking: setup.thinking } : {}),
      concurrency: flags.concurrency,
      ...setup.settings,
    },
    concurrency: flags.concurrency,
    rpm: flags.rpm,
    tpm: flags.tpm,
    startConcurrency: proof?.concurrency,
    fresh: flags.fresh,
    quiet: flags.quiet,
    maxFailureRate: flags['max-failure-rate'],
    batch: flags.batch,
  });
  if (proof) run.log(`${setup.stage}: starting at concurrency ${Math.min(proof.concurrency, flags.concurrency)}, reached by ${proof.manifest} on ${setup.provider} ${setup.model}`);
  return { run, llm, mode: flags.batch ? 'batch jobs' : `concurrency ${flags.concurrency}` };
}

/**
 * Runs the calls and returns their answers in call order (undefined for failed ones), plus what batch mode adds to
 * the manifest. In batch mode the jobs run first; the tasks then hand over their answers (or failures) like
 * interactive calls, so resume, counting and the artifact are the same either way.
 */
export async function runLlmCalls<T>(
  stage: LlmStage,
  label: string,
  provider: Provider,
  calls: Array<{ id: string; call: StructuredCall<T> }>,
  options: { batch?: boolean; unitsPerCall?: number } = {},
): Promise<{ results: Array<T | undefined>; manifest: Record<string, unknown> }> {
  const { run, llm } = stage;
  warnTpmBelowOneRequest(run, calls.map((c) => c.call.request));
  // Asked once per model before the first paid call (and before any batch job): a retired model costs nothing. A
  // run whose answers are all saved pays nothing and asks nothing, not even the free look-up.
  const pending = calls.filter((c) => !run.checkpoint.has(requestKey(llm.name, c.call.request)));
  for (const model of new Set(pending.map((c) => c.call.request.model))) await llm.checkModel?.(model);
  const batch = options.batch ? await runBatch(run, provider, calls) : undefined;
  const tasks = batch?.tasks ?? calls.map((c) => llmTask(run, llm, c.id, c.call));
  const results = await run.runTasks(label, options.unitsPerCall ? tasks.map((t) => ({ ...t, units: options.unitsPerCall })) : tasks);
  return { results, manifest: { ...batch?.manifest } };
}

/**
 * A --tpm below one request's size cannot be kept: the limiter lets such a request go alone once the window is
 * empty, so the stage runs one request a minute. Said once, up front, instead of leaving the user to wonder.
 */
function warnTpmBelowOneRequest(run: StageRun, requests: ChatRequest[]): void {
  const tpm = run.options.tpm;
  if (!tpm || run.options.batch) return;
  const largest = requests.reduce((n, r) => Math.max(n, estimatedTokens(r)), 0);
  if (largest <= tpm) return;
  process.stderr.write(`warning: --tpm ${tpm} is below one request's estimated ${largest} tokens: such a request goes alone once a minute (raise --tpm to your quota, or leave it out)\n`);
}
