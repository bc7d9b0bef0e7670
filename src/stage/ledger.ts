// The failure ledger: one record per failed item (its class, a redacted message, the attempts it took), written to
// `<artifact>.errors.jsonl` so a re-run retries only those and the summary can say what failed most.
import { rmSync } from 'node:fs';
import { writeJsonl } from '../io/jsonl.js';
import { ItemFailedError } from '../errors.js';
import { redact } from '../secrets.js';

export interface FailureRecord {
  stage: string;
  item_id: string;
  error_class: string;
  message: string;
  attempts: number;
}

export class FailureLedger {
  readonly records: FailureRecord[] = [];
  private failedUnits = 0;

  constructor(
    readonly stage: string,
    readonly file: string,
  ) {}

  /** Failed items, in the unit the stage counts (`units` per task: a chunk's 3 pairs, a batch of embeddings). */
  get failed(): number {
    return this.failedUnits;
  }

  record(itemId: string, error: unknown, units = 1): void {
    this.records.push({
      stage: this.stage,
      item_id: itemId,
      error_class: error instanceof ItemFailedError ? error.errorClass : 'internal',
      message: redact((error as Error).message ?? String(error)).slice(0, 1000),
      attempts: error instanceof ItemFailedError ? error.attempts : 1,
    });
    this.failedUnits += units;
  }

  /** The failure classes, most frequent first: `schema ×3, timeout ×1`. */
  topFailure(): string {
    const byClass: Record<string, number> = {};
    for (const f of this.records) byClass[f.error_class] = (byClass[f.error_class] ?? 0) + 1;
    return Object.entries(byClass)
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ×${v}`)
      .join(', ');
  }

  /** At the end of a complete run: the ledger is this run's failures, or no file when there were none. */
  async write(): Promise<void> {
    if (this.records.length) await writeJsonl(this.file, this.records);
    else rmSync(this.file, { force: true });
  }

  /**
   * A run that stops early writes its own failures, but never deletes the ledger of the last complete run: that
   * run's manifest still names it. Only write() (at finish, beside the manifest) replaces it with nothing.
   */
  async writeOwn(): Promise<void> {
    if (this.records.length) await writeJsonl(this.file, this.records);
  }
}
