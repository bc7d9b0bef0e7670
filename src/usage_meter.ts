// Adds up tokens and cost per model over a stage, failed and retried calls included.
import { costOf } from './pricing.js';
import type { Usage } from './llm/types.js';
import { traceUsage } from './tracing.js';

export interface ModelUsage {
  calls: number;
  inputTokens: number;
  outputTokens: number;
  costUsd: number;
}

export class UsageMeter {
  readonly byModel: Record<string, ModelUsage> = {};
  readonly unpriced = new Set<string>();

  constructor(private readonly batch = false) {}

  add(model: string, usage: Usage): void {
    const entry = (this.byModel[model] ??= { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 });
    entry.calls++;
    entry.inputTokens += usage.inputTokens;
    entry.outputTokens += usage.outputTokens;
    const cost = costOf(model, usage.inputTokens, usage.outputTokens, this.batch);
    if (cost === undefined) this.unpriced.add(model);
    else entry.costUsd += cost;
    traceUsage(model, usage);
  }

  get totals(): ModelUsage {
    const total = { calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
    for (const entry of Object.values(this.byModel)) {
      total.calls += entry.calls;
      total.inputTokens += entry.inputTokens;
      total.outputTokens += entry.outputTokens;
      total.costUsd += entry.costUsd;
    }
    return total;
  }
}

export function formatTokens(n: number): string {
  return n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e4 ? `${(n / 1e3).toFixed(1)}k` : String(n);
}

export function formatUsd(n: number): string {
  return n < 0.01 && n > 0 ? `$${n.toFixed(4)}` : `$${n.toFixed(2)}`;
}
