// What the four LLM stages share: the model settings resolved from the common flags, one way to build a call, and
// the skeleton around the calls — the dry run, the key checked first, one StageRun set up from the flags, and the
// calls run one request each or as provider batch jobs. Each stage script keeps only its own steps.
import type { z } from 'zod';
import { runBatch } from '../batch/run_batch.js';
import { DEFAULT_DOMAIN, STAGES, type ThinkingLevel } from '../config.js';
import { loadDomain, type Domain } from '../domain.js';
import { llmStageName } from '../pipeline.js';
import { llmTask } from '../llm/calls.js';
import { chatProvider, type Provider } from '../llm/providers.js';
import { provenConcurrency } from './proven_concurrency.js';
import { checked, estimatedTokens, requestKey, type StructuredCall } from '../llm/structured.js';
import { besideLookup } from '../llm/model_check.js';
import type { ChatProvider } from '../llm/types.js';
import { buildOnDemand, type CallList } from './call_list.js';
import { dryRun, type OutputTokens } from './dry_run.js';
import { resolveModel, resolveProvider, resolveThinking } from './flags.js';
import { StageRun } from './stage_run.js';
import type { RunTasksOptions } from './tasks.js';
import { writeAtomically } from '../io/jsonl.js';
import { OrderedWriter } from '../io/ordered_writer.js';

export type LlmStageKey = keyof typeof STAGES;

/** What every call of one LLM stage shares, from --provider, --model, --thinking and --domain. */
export interface LlmSettings {
  /** The stage's defaults in config.ts STAGES, also its progress label. */
  key: LlmStageKey;
  provider: Provider;
  model: string;
  thinking: ThinkingLevel;
  temperature: number;
  domain: Domain;
  /** The model to call instead of the provider's API (a unit test's recording fake); no key is read then. */
  client?: ChatProvider;
}

export function resolveLlmSettings(
  key: LlmStageKey,
  flags: { provider?: string; model?: string; thinking?: string; domain?: string },
): LlmSettings {
  const defaults = STAGES[key];
  const provider = resolveProvider(flags.provider);
  const model = resolveModel(defaults, provider, flags.model);
  const thinking = resolveThinking(defaults, provider, model, flags.thinking);
  return {
    key,
    provider,
    model,
    thinking,
    temperature: defaults.temperature,
    domain: loadDomain(flags.domain, DEFAULT_DOMAIN),
  };
}

/** One structured call: the prompt, the schema the answer must match, and a rule the schema cannot express. */
export function structuredCall<T>(
  llm: LlmSettings,
  prompt: { system: string; prompt: string },
  output: { schema: z.ZodType<T>; schemaName: string },
  check?: (value: T) => string | undefined,
): StructuredCall<T> {
  const { model, temperature, thinking } = llm;
  return { request: { model, ...prompt, ...output, temperature, thinking }, ...(check ? { check } : {}) };
}

export interface LlmStageFlags {
  'dry-run'?: boolean;
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
  /** See LlmSettings.client. */
  client?: ChatProvider;
}

interface LlmStage {
  run: StageRun;
  llm: ChatProvider;
  /** "batch jobs" or "concurrency N", for the stage's opening line. */
  mode: string;
  /** An earlier stage (or this stage's last run) called the same provider and model within hours. */
  proven: boolean;
}

/**
 * Reads the key before anything is created, so a missing key stops the stage before any work. Used by runLlmStage,
 * and directly by scripts/propose_domain.ts, which is one call rather than a stage of the pipeline table.
 */
export function openLlmStage(flags: LlmStageFlags, setup: LlmStageSetup): LlmStage {
  const llm = setup.client ?? chatProvider(setup.provider, setup.why);
  // Batch jobs have no ramp; interactive calls start where the last stage on this model got to: this stage's own
  // last run (a rerun, a resume) first, then the stages up the chain of inputs.
  const proof = flags.batch
    ? undefined
    : provenConcurrency([setup.artifact, ...setup.inputs], setup.provider, setup.model);
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
  if (proof) {
    const opening = Math.min(proof.concurrency, flags.concurrency);
    const doubled = opening > proof.reached;
    run.log(
      `${setup.stage}: starting at concurrency ${opening}, ` +
        `${doubled ? `twice the ${proof.reached} ` : ''}reached by ${proof.manifest} on ${setup.provider} ${setup.model}` +
        (doubled ? ' without a 429' : ''),
    );
  }
  return {
    run,
    llm,
    mode: flags.batch ? 'batch jobs' : `concurrency ${flags.concurrency}`,
    proven: proof !== undefined,
  };
}

/**
 * Runs the calls and returns their answers in call order (undefined for failed ones), plus what batch mode adds to
 * the manifest. In batch mode the jobs run first; the tasks then hand over their answers (or failures) like
 * interactive calls, so resume, counting and the artifact are the same either way. Each call is built twice: once
 * up front for its resume key (then let go), and again when its task runs — so no prompt is held for the stage.
 */
export async function runLlmCalls<T>(
  stage: LlmStage,
  label: string,
  provider: Provider,
  calls: CallList<{ id: string; call: StructuredCall<T> }>,
  options: { batch?: boolean; unitsPerCall?: number; onResult?: RunTasksOptions<T>['onResult'] } = {},
): Promise<{ results: Array<T | undefined>; manifest: Record<string, unknown> }> {
  const { run, llm } = stage;
  const ids: string[] = new Array(calls.length);
  const keys: string[] = new Array(calls.length);
  // The model of each call is the settings' one string, so holding it per call costs a pointer.
  const models: string[] = new Array(calls.length);
  let largest = 0;
  for (let i = 0; i < calls.length; i++) {
    const { id, call } = calls.at(i)!;
    ids[i] = id;
    keys[i] = requestKey(llm.name, call.request);
    models[i] = call.request.model;
    largest = Math.max(largest, estimatedTokens(call.request));
  }
  warnTpmBelowOneRequest(run, largest);
  // Saved answers pass the check a fresh answer gets (schema, then the stage's rule), or are asked again. The call
  // is built again only for a key the checkpoint holds.
  run.checkpoint.recheck(keys.map((key, i) => ({ key, problem: (stored) => void checked(calls.at(i)!.call, stored) })));
  // The free look-up of each model still to be called. A run whose answers are all saved pays nothing and asks
  // nothing, not even the look-up. An earlier stage that called this model within hours (stage.proven) stands for
  // it: its answers showed the model is offered, and a model retired since is still reported, by the first call's
  // 404, unbilled.
  const pending = models.filter((_, i) => !run.checkpoint.has(keys[i]!));
  const lookup =
    stage.proven || !llm.checkModel || pending.length === 0
      ? undefined
      : Promise.all([...new Set(pending)].map((model) => llm.checkModel!(model))).then(() => undefined);
  // A batch job is created only for a model the service offers. Interactive calls do not wait: the look-up goes out
  // beside the first paid request, which goes alone (the limiter's slow start), so a retired model costs that one
  // request, a 404 that is not billed, and the ramp does not lose a round trip.
  if (options.batch) await lookup;
  const caller: ChatProvider =
    lookup && !options.batch
      ? {
          ...llm,
          complete: besideLookup(
            (r, s) => llm.complete(r, s),
            lookup,
            (error) => run.abort(error),
          ),
        }
      : llm;
  // A batch file holds every request anyway, so batch mode builds them all at once.
  const batch = options.batch
    ? await runBatch(
        run,
        provider,
        Array.from({ length: calls.length }, (_, i) => calls.at(i)!),
      )
    : undefined;
  const tasks = batch?.tasks ?? keys.map((key, i) => llmTask(run, caller, ids[i]!, () => calls.at(i)!.call, key));
  const results = await run.runTasks(
    label,
    options.unitsPerCall ? tasks.map((t) => ({ ...t, units: options.unitsPerCall })) : tasks,
    { onResult: options.onResult },
  );
  return { results, manifest: { ...batch?.manifest } };
}

/**
 * A --tpm below one request's size (`largest`, in estimated tokens) cannot be kept: the limiter lets such a request
 * go alone once the window is empty, so the stage runs one request a minute. Said once, up front, instead of
 * leaving the user to wonder.
 */
function warnTpmBelowOneRequest(run: StageRun, largest: number): void {
  const tpm = run.options.tpm;
  if (!tpm || run.options.batch) return;
  if (largest <= tpm) return;
  process.stderr.write(
    `warning: --tpm ${tpm} is below one request's estimated ${largest} tokens: such a request goes alone once a minute (raise --tpm to your quota, or leave it out)\n`,
  );
}

/** What a stage adds to its settings: where it reads and writes, what it counts, what its opening line says. */
export interface LlmStagePlan<T = unknown> extends Pick<LlmStageSetup, 'artifact' | 'inputs' | 'outputs' | 'settings'> {
  /** Items the stage sets out to produce (stage 1: pairs asked for); the summary balances against it. */
  read: number;
  /** How many counted items one call stands for (stage 1: a chunk's 3 pairs). */
  unitsPerCall?: number;
  /** Typical answer size for the dry run's estimate (src/stage/output_estimate.ts). */
  outputTokens: OutputTokens;
  /** The opening line after the stage's name: what is read, from where, with which model. */
  opening(mode: string): string;
  /**
   * The artifact's rows for one answer. Given, the rows are written to the artifact in call order as answers come
   * in, and no answer is held once written; the artifact is in place, and its rows counted as written, when
   * runLlmStage returns.
   */
  rows?: (index: number, result: T) => unknown[];
}

export interface LlmStageRun<T> {
  run: StageRun;
  /** The answers in call order, undefined for failed calls; empty when the plan writes its rows (plan.rows). */
  results: Array<T | undefined>;
  /** What batch mode adds to the manifest. */
  manifest: Record<string, unknown>;
}

/**
 * The skeleton of an LLM stage once it knows its calls (built when needed: see CallList): with --dry-run, the estimate and nothing else (undefined:
 * the stage exits 0); otherwise the stage opened, its opening line logged and its calls run.
 */
export async function runLlmStage<T>(
  flags: LlmStageFlags,
  llm: LlmSettings,
  calls: CallList<{ id: string; call: StructuredCall<T> }>,
  plan: LlmStagePlan<T>,
): Promise<LlmStageRun<T> | undefined> {
  const { key, provider, model } = llm;
  const name = llmStageName(key);
  if (flags['dry-run']) {
    dryRun(
      name,
      provider,
      model,
      plan.artifact,
      buildOnDemand(calls.length, (i) => calls.at(i)!.call),
      plan.outputTokens,
      { batch: flags.batch, fresh: flags.fresh },
    );
    return undefined;
  }
  const { artifact, inputs, outputs, settings } = plan;
  const stage = openLlmStage(flags, {
    stage: name,
    why: STAGES[key].why,
    artifact,
    inputs,
    outputs,
    settings,
    provider,
    model,
    temperature: llm.temperature,
    thinking: llm.thinking,
    client: llm.client,
  });
  stage.run.setRead(plan.read);
  stage.run.log(`${name}: ${plan.opening(stage.mode)}`);
  const options = { batch: flags.batch, unitsPerCall: plan.unitsPerCall };
  if (!plan.rows) {
    const { results, manifest } = await runLlmCalls(stage, key, provider, calls, options);
    return { run: stage.run, results, manifest };
  }
  const rows = plan.rows;
  let manifest: Record<string, unknown> = {};
  // Stopped or failed: no half-written artifact; the answers so far are in the checkpoint.
  const written = await writeAtomically(artifact, async (writer) => {
    const ordered = new OrderedWriter<T>(writer, rows);
    ({ manifest } = await runLlmCalls(stage, key, provider, calls, {
      ...options,
      onResult: (i, result) => ordered.put(i, result),
    }));
  });
  stage.run.setWritten(written);
  return { run: stage.run, results: [], manifest };
}
