// --dry-run: what a stage would send and roughly what it would cost, without a single API call.
import { Checkpoint } from './checkpoint.js';
import type { Provider } from './config.js';
import { requestKey } from './llm/structured.js';
import { costOf } from './pricing.js';
import type { ChatRequest } from './llm/types.js';
import { formatTokens, formatUsd } from './usage_meter.js';

// Four characters a token is the usual rule of thumb for English prose in both providers' tokenizers.
const CHARS_PER_TOKEN = 4;

export interface DryRunEstimate {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number | undefined;
}

export function estimateCalls(calls: Array<{ request: ChatRequest }>, outputTokensPerCall: number, model: string, batch = false): DryRunEstimate {
  const inputTokens = calls.reduce((n, c) => n + Math.ceil(((c.request.system?.length ?? 0) + c.request.prompt.length) / CHARS_PER_TOKEN), 0);
  const outputTokens = calls.length * outputTokensPerCall;
  return { calls: calls.length, inputTokens, outputTokens, costUsd: costOf(model, inputTokens, outputTokens, batch) };
}

export function printDryRun(stage: string, provider: Provider, model: string, calls: Array<{ request: ChatRequest }>, estimate: DryRunEstimate, reused: number, batch = false): void {
  const cost = estimate.costUsd === undefined ? 'unknown (model not in the price table)' : formatUsd(estimate.costUsd);
  process.stdout.write(
    `${stage} (dry run, no API call): ${estimate.calls} calls to ${provider} ${model}` +
      (reused ? ` (${reused} more already finished, reused)` : '') +
      ` · ~${formatTokens(estimate.inputTokens)} input + ~${formatTokens(estimate.outputTokens)} output tokens · ~${cost}${batch ? ' at the batch price (half)' : ''}\n`,
  );
  const first = calls[0];
  if (first) process.stdout.write(`--- first prompt ---\n${first.request.system ? `[system] ${first.request.system}\n\n` : ''}${first.request.prompt}\n--- end ---\n`);
}

/** Prints the dry-run report for a stage's calls, leaving out those an earlier run already finished. */
export function dryRun(stage: string, provider: Provider, model: string, artifact: string, calls: Array<{ request: ChatRequest }>, outputTokensPerCall: number, batch = false): DryRunEstimate {
  const saved = new Checkpoint(`${artifact}.checkpoint.jsonl`);
  const todo = calls.filter((c) => !saved.has(requestKey(provider, c.request)));
  const estimate = estimateCalls(todo, outputTokensPerCall, model, batch);
  printDryRun(stage, provider, model, todo, estimate, calls.length - todo.length, batch);
  return estimate;
}
