// --dry-run: what a stage would send and roughly what it would cost, without a single API call.
import { Checkpoint } from '../io/checkpoint.js';
import { checkpointPath } from '../io/sidecars.js';
import type { Provider } from '../llm/providers.js';
import { checked, requestKey, type StructuredCall } from '../llm/structured.js';
import type { ChatRequest } from '../llm/types.js';
import { buildOnDemand, type CallList } from './call_list.js';
import { TYPICAL_THINKING_TOKENS } from './output_estimate.js';
import { tokensOf } from '../token_estimate.js';
import { costOf } from '../pricing.js';
import { formatTokens, formatUsd } from '../usage_meter.js';

export interface DryRunEstimate {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | undefined;
}

/** Output tokens of every call alike, or of call `i` (an index into the calls given). */
export type OutputTokens = number | ((i: number) => number);

/**
 * Input is measured: the prompt each call would send, four characters a token, as providers bill English text.
 * Output cannot be measured before the model writes it: it is a typical answer's size (src/output_estimate.ts).
 * One pass over the calls, so a list that builds them on demand (CallList) builds each once.
 */
export function estimateCalls(
  calls: CallList<{ request: ChatRequest }>,
  outputTokens: OutputTokens,
  model: string,
  batch = false,
): DryRunEstimate {
  let inputTokens = 0;
  let answers = typeof outputTokens === 'number' ? calls.length * outputTokens : 0;
  let thinking = 0;
  for (let i = 0; i < calls.length; i++) {
    const { request } = calls.at(i)!;
    inputTokens += tokensOf([request.system ?? '', request.prompt]);
    if (typeof outputTokens !== 'number') answers += outputTokens(i);
    thinking += request.thinking ? TYPICAL_THINKING_TOKENS[request.thinking] : 0;
  }
  const output = answers + thinking;
  return { calls: calls.length, inputTokens, outputTokens: output, costUsd: costOf(model, inputTokens, output, batch) };
}

export function printDryRun(
  stage: string,
  provider: Provider,
  model: string,
  calls: CallList<{ request: ChatRequest }>,
  estimate: DryRunEstimate,
  reused: number,
  batch = false,
  repeated = 0,
): void {
  const cost = estimate.costUsd === undefined ? 'unknown (model not in the price table)' : formatUsd(estimate.costUsd);
  process.stdout.write(
    `${stage} (dry run, no API call): ${estimate.calls} calls to ${provider} ${model}` +
      (reused ? ` (${reused} more already finished, reused)` : '') +
      (repeated
        ? ` (${repeated} repeated ${repeated === 1 ? 'row asks' : 'rows ask'} the same as an earlier one: asked once)`
        : '') +
      ` · ~${formatTokens(estimate.inputTokens)} input + ~${formatTokens(estimate.outputTokens)} output tokens · ~${cost}${batch ? ' at the batch price (half)' : ''}\n` +
      `  (input measured from the prompts; output assumes answers of typical length; retries would add to both)\n`,
  );
  const first = calls.at(0);
  if (first)
    process.stdout.write(
      `--- first prompt ---\n${first.request.system ? `[system] ${first.request.system}\n\n` : ''}${first.request.prompt}\n--- end ---\n`,
    );
}

/** Prints the dry-run report for a stage's calls, leaving out those an earlier run already finished. */
export function dryRun<T>(
  stage: string,
  provider: Provider,
  model: string,
  artifact: string,
  calls: CallList<StructuredCall<T>>,
  outputTokens: OutputTokens,
  options: { batch?: boolean; fresh?: boolean } = {},
): DryRunEstimate {
  const { batch = false, fresh = false } = options;
  // With --fresh the real run redoes everything, so the estimate must not subtract what an earlier run saved.
  const saved = fresh ? undefined : new Checkpoint(checkpointPath(artifact));
  // Identical requests are asked once by the run (StageRun.runTasks groups them by key): count them once here too.
  const seen = new Set<string>();
  let reused = 0;
  const todo: number[] = [];
  for (let i = 0; i < calls.length; i++) {
    const call = calls.at(i)!;
    const key = requestKey(provider, call.request);
    if (seen.has(key)) continue;
    seen.add(key);
    // A saved answer that fails its check is asked again by the run (Checkpoint.recheck): it counts as a call.
    if (saved?.reusable(key, (stored) => void checked(call, stored))) reused++;
    else todo.push(i);
  }
  const repeated = calls.length - seen.size;
  const perCall = typeof outputTokens === 'number' ? outputTokens : (k: number) => outputTokens(todo[k]!);
  // Built again as the estimate and the printout read them, rather than held from the pass above.
  const asked = buildOnDemand(todo.length, (k) => calls.at(todo[k]!)!);
  const estimate = estimateCalls(asked, perCall, model, batch);
  printDryRun(stage, provider, model, asked, estimate, reused, batch, repeated);
  return estimate;
}
