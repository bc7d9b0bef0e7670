// Adds up tokens and cost per model over a stage, failed and retried calls included, and which concrete versions
// answered for each requested model.
import { costOf } from './pricing.js';
import type { Usage } from './llm/types.js';

export interface ModelUsage {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Part of inputTokens served from the prompt cache. */
  cachedInputTokens: number;
  costUsd: number;
}

export class UsageMeter {
  /** Keyed by the concrete version that answered (what is billed); the requested name when none was reported. */
  readonly byModel: Record<string, ModelUsage> = {};
  /** Requested model → { concrete version → calls }: an alias such as gemini-flash-latest names what it resolved to. */
  readonly modelsUsed: Record<string, Record<string, number>> = {};
  readonly unpriced = new Set<string>();

  /** `onAdd` sees every usage counted (the stage puts it on the call's trace span). */
  constructor(
    private readonly batch = false,
    private readonly onAdd?: (model: string, usage: Usage) => void,
  ) {}

  /** `version` is the model the response named; an alias is priced by it, never by its own name. */
  add(model: string, usage: Usage, version?: string): void {
    const billed = version || model;
    this.byModel[billed] ??= {
      calls: 0,
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      costUsd: 0,
    };
    const entry = this.byModel[billed];
    const cached = usage.cachedInputTokens ?? 0;
    entry.calls++;
    entry.inputTokens += usage.inputTokens;
    entry.outputTokens += usage.outputTokens;
    entry.cachedInputTokens += cached;
    this.modelsUsed[model] ??= {};
    const versions = this.modelsUsed[model];
    versions[billed] = (versions[billed] ?? 0) + 1;
    const cost =
      costOf(billed, usage.inputTokens, usage.outputTokens, this.batch, cached) ??
      costOf(model, usage.inputTokens, usage.outputTokens, this.batch, cached);
    if (cost === undefined) this.unpriced.add(billed);
    else entry.costUsd += cost;
    this.onAdd?.(billed, usage);
  }

  get totals(): ModelUsage {
    const total = { calls: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: 0 };
    for (const entry of Object.values(this.byModel)) {
      total.calls += entry.calls;
      total.inputTokens += entry.inputTokens;
      total.outputTokens += entry.outputTokens;
      total.cachedInputTokens += entry.cachedInputTokens;
      total.costUsd += entry.costUsd;
    }
    return total;
  }
}

/** Share of input tokens served from the cache, e.g. "cache 42%"; '' when nothing was read. */
export function cacheHitRate(inputTokens: number, cachedInputTokens: number): string {
  return inputTokens > 0 ? `${Math.round((100 * cachedInputTokens) / inputTokens)}%` : '';
}

export function formatTokens(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

export function formatUsd(n: number): string {
  return n < 0.01 && n > 0 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`;
}
