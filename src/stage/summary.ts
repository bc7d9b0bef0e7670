// What a stage reports when it finishes: its counts (changed only through StageCounts' methods), the manifest
// written next to the artifact, the one summary line (read = written + filtered + failed) and the exit code.
import { writeFileSync } from 'node:fs';
import { manifestPath } from '../io/sidecars.js';
import { formatDuration } from '../progress.js';
import { redact } from '../secrets.js';
import { cacheHitRate, formatTokens, formatUsd, type UsageMeter } from '../usage_meter.js';
import type { FailureLedger } from './ledger.js';

export interface CountsView {
  readonly read: number;
  readonly written: number;
  readonly reused: number;
  readonly retries: number;
  readonly filtered: Readonly<Record<string, number>>;
}

export class StageCounts {
  private readonly values = { read: 0, written: 0, reused: 0, retries: 0 };
  private readonly filteredBy: Record<string, number> = {};

  /** Items the stage set out to produce, in the unit it counts (stage 1: pairs asked for). */
  setRead(n: number): void {
    this.values.read = n;
  }

  /** One more item read (stage 7 counts as it streams). */
  addRead(n = 1): void {
    this.values.read += n;
  }

  setWritten(n: number): void {
    this.values.written = n;
  }

  addReused(n: number): void {
    this.values.reused += n;
  }

  addRetries(n = 1): void {
    this.values.retries += n;
  }

  filter(reason: string, n = 1): void {
    if (n > 0) this.filteredBy[reason] = (this.filteredBy[reason] ?? 0) + n;
  }

  get view(): CountsView {
    return { ...this.values, filtered: { ...this.filteredBy } };
  }
}

export interface ManifestInput {
  stage: string;
  artifact: string;
  inputs: string[];
  outputs: string[];
  settings: Record<string, unknown>;
  started: Date;
  /** Saved results that failed their check (src/io/checkpoint.ts recheck) and were asked again. */
  reasked: number;
  seconds: number;
  counts: CountsView;
  ledger: FailureLedger;
  meter: UsageMeter;
  /**
   * What the next stage on the same provider and model may start from (interactive calls only): the concurrency the
   * limiter reached, and how many 429s it saw on the way (none: the ramp was still free to double).
   */
  limiter?: { reached: number; rateLimited: number };
  extra: Record<string, unknown>;
}

export function writeManifest(m: ManifestInput): void {
  const totals = m.meter.totals;
  const manifest = {
    stage: m.stage,
    // The settings' model, and any other model the stage was billed for.
    models: [
      ...new Set([m.settings.model, ...Object.keys(m.meter.byModel)].filter((x): x is string => typeof x === 'string')),
    ],
    // Requested model → the concrete versions the service said answered, with call counts.
    models_used: m.meter.modelsUsed,
    started_at: m.started.toISOString(),
    duration_s: Math.round(m.seconds * 10) / 10,
    inputs: m.inputs,
    outputs: m.outputs,
    settings: m.settings,
    counts: {
      read: m.counts.read,
      written: m.counts.written,
      failed: m.ledger.failed,
      filtered: m.counts.filtered,
      reused: m.counts.reused,
      reasked: m.reasked,
      retries: m.counts.retries,
    },
    usage: { ...totals, by_model: m.meter.byModel, unpriced_models: [...m.meter.unpriced] },
    errors_file: m.ledger.records.length ? m.ledger.file : null,
    ...(m.limiter
      ? { limiter: { reached_concurrency: m.limiter.reached, rate_limit_events: m.limiter.rateLimited } }
      : {}),
    ...m.extra,
  };
  writeFileSync(manifestPath(m.artifact), `${redact(JSON.stringify(manifest, null, 2))}\n`);
}

/** The summary lines a stage prints last; the balance warning says when the counts do not add up. */
export function summaryText(
  stage: string,
  counts: CountsView,
  ledger: FailureLedger,
  meter: UsageMeter,
  seconds: number,
  reasked = 0,
): string {
  const totals = meter.totals;
  const failed = ledger.failed;
  const filtered = Object.values(counts.filtered).reduce((a, b) => a + b, 0);
  const reasons = Object.entries(counts.filtered)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  const line = [
    `read ${counts.read}`,
    `written ${counts.written}`,
    `filtered ${filtered}${reasons ? ` (${reasons})` : ''}`,
    `failed ${failed}`,
    `reused ${counts.reused}`,
    ...(reasked ? [`asked again ${reasked} (saved results that failed their check)`] : []),
    ...(totals.calls
      ? [
          `${totals.calls} calls`,
          `${formatTokens(totals.inputTokens)} in / ${formatTokens(totals.outputTokens)} out tokens`,
          `cache ${cacheHitRate(totals.inputTokens, totals.cachedInputTokens) || '0%'}`,
          formatUsd(totals.costUsd),
        ]
      : []),
    formatDuration(seconds),
  ].join(' · ');
  let text = `${stage}: ${line}\n`;
  if (failed) {
    // A task can stand for several counted items (a chunk's 3 pairs, a batch of embeddings): say both when they differ.
    const tasks = ledger.records.length;
    const what =
      tasks === failed
        ? `${tasks} ${tasks === 1 ? 'item' : 'items'}`
        : `${failed} items (${tasks} ${tasks === 1 ? 'request' : 'requests'})`;
    text += `${what} failed (${ledger.topFailure()}): see ${ledger.file}; run again to retry only those\n`;
  }
  const balance = counts.written + filtered + failed;
  if (balance !== counts.read)
    text += `warning: counts do not balance (written + filtered + failed = ${balance}, read = ${counts.read})\n`;
  return text;
}

/** 1 when more items failed than --max-failure-rate allows (0 = any failure fails the run). */
export function exitCode(counts: CountsView, failed: number, maxFailureRate = 0): number {
  return failed > 0 && failed / Math.max(1, counts.read) > maxFailureRate ? 1 : 0;
}
