// The per-stage table (rows in and out, drops, tokens, cost, time) and the reasons behind every drop, shared by
// `make stats` (as text) and the HTML report.
import { formatDuration } from '../progress.js';
import { cacheHitRate, formatTokens, formatUsd } from '../usage_meter.js';
import type { RunData, StageData } from './collect.js';

export const STAGE_COLUMNS = [
  'stage',
  'status',
  'in',
  'out',
  'failed',
  'dropped',
  'calls',
  'tokens in / out',
  'cost',
  'time',
];
/** Which columns hold numbers (right-aligned). */
export const NUMERIC_COLUMNS = STAGE_COLUMNS.map((_, i) => i >= 2);

const NONE = '–';

export function stageLabel(stage: StageData): string {
  return `${stage.n} ${stage.name}`;
}

export function stageCells(run: RunData): { rows: string[][]; total: string[] } {
  // The dropped column is the sum of the "dropped:" list under the table (failures have their own column), so the
  // two always agree: stages 2 and 4 keep every row in their artifact but still drop the failing ones from the flow.
  const reasons = dropReasons(run);
  const rows = run.stages.map((stage) => {
    const m = stage.manifest;
    const own = reasons.filter((r) => r.stage === stageLabel(stage) && !r.failed);
    const dropped = m || own.length ? own.reduce((a, r) => a + r.count, 0) : undefined;
    const usage = m?.usage;
    return [
      stageLabel(stage),
      stage.status,
      count(m?.counts.read),
      count(stage.rows),
      count(m?.counts.failed),
      count(dropped),
      usage ? count(usage.calls) : NONE,
      usage?.calls ? `${formatTokens(usage.inputTokens)} / ${formatTokens(usage.outputTokens)}` : NONE,
      usage?.calls ? formatUsd(usage.costUsd) + (usage.unpriced_models.length ? '+?' : '') : NONE,
      m?.duration_s !== undefined ? formatDuration(m.duration_s) : NONE,
    ];
  });
  const usages = run.stages.flatMap((s) => (s.manifest?.usage ? [s.manifest.usage] : []));
  const sum = (pick: (u: (typeof usages)[number]) => number) => usages.reduce((a, u) => a + pick(u), 0);
  const seconds = run.stages.reduce((a, s) => a + (s.manifest?.duration_s ?? 0), 0);
  const unpriced = usages.some((u) => u.unpriced_models.length > 0);
  const total = [
    'total',
    '',
    '',
    '',
    count(run.stages.reduce((a, s) => a + (s.manifest?.counts.failed ?? 0), 0)),
    '',
    count(sum((u) => u.calls)),
    `${formatTokens(sum((u) => u.inputTokens))} / ${formatTokens(sum((u) => u.outputTokens))}`,
    formatUsd(sum((u) => u.costUsd)) + (unpriced ? '+?' : ''),
    formatDuration(seconds),
  ];
  return { rows, total };
}

export interface DropReason {
  stage: string;
  reason: string;
  count: number;
  /** Items that failed after retries (counted in the failed column, not in dropped). */
  failed?: boolean;
}

/** Why items did not make it through each stage, as one line per reason. */
export function dropReasons(run: RunData): DropReason[] {
  const out: DropReason[] = [];
  for (const stage of run.stages) {
    const label = stageLabel(stage);
    const m = stage.manifest;
    for (const [reason, n] of Object.entries(m?.counts.filtered ?? {}))
      if (n > 0) out.push({ stage: label, reason: reason.replaceAll('_', ' '), count: n });
    if (m?.counts.failed)
      out.push({
        stage: label,
        reason: `failed after retries${m.errors_file ? ` (see ${m.errors_file})` : ''}`,
        count: m.counts.failed,
        failed: true,
      });
    const overall = run.criteria.find((c) => c.stage === stage.n && (c.name === 'passed' || c.name === 'overall_pass'));
    if (overall && overall.total > overall.passed) {
      const where =
        stage.n === 2 ? 'kept in the validated file, left out of _passed' : 'kept in the judged file, not exported';
      out.push({ stage: label, reason: `did not pass (${where})`, count: overall.total - overall.passed });
    }
    if (stage.n === 6 && run.similarities?.length && !Object.keys(m?.counts.filtered ?? {}).length)
      out.push({
        stage: label,
        reason: 'removed as near-duplicates (from the dedup report)',
        count: run.similarities.length,
      });
  }
  return out;
}

/** Which concrete model versions answered each stage: "1 extract_qa  gemini-flash-latest → gemini-3.8-flash ×10". */
export function modelLines(run: RunData): Array<{ stage: string; text: string }> {
  const out: Array<{ stage: string; text: string }> = [];
  for (const stage of run.stages) {
    for (const [requested, versions] of Object.entries(stage.manifest?.models_used ?? {})) {
      const answered = Object.entries(versions)
        .map(([v, n]) => `${v} ×${n.toLocaleString('en-US')}`)
        .join(', ');
      const u = stage.manifest?.usage;
      // Shown at 0% too: a run whose prompts never hit the cache should say so.
      const cache =
        u && u.cachedInputTokens !== undefined ? ` · cache ${cacheHitRate(u.inputTokens, u.cachedInputTokens)}` : '';
      out.push({ stage: stageLabel(stage), text: `${requested} → ${answered}${cache}` });
    }
  }
  return out;
}

export function percent(passed: number, total: number): string {
  return total ? `${((100 * passed) / total).toFixed(1)}%` : NONE;
}

function count(n: number | undefined): string {
  return n === undefined ? NONE : n.toLocaleString('en-US');
}
