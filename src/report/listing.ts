// The conversations the report lists — every one, or an evenly spaced sample of a large run — each with where it
// ended up (final, removed as a duplicate, failed, not selected) and, for a removed one, the conversation kept instead.
import { existsSync } from 'node:fs';
import type { ArtifactPaths } from '../pipeline.js';
import { dedupReportPath } from '../io/sidecars.js';
import type { ConversationMetadata, Judgment, Message, QAPair } from '../schemas.js';
import { keptEmbeddedRows, readDedupReport } from '../select/dedup_report.js';
import { SelectedRow } from './final_rows.js';
import { countLines, scan } from './scan.js';

export type ConversationStatus = 'final' | 'duplicate' | 'failed' | 'not selected' | 'passed' | 'not judged';

export interface ListedConversation {
  /** Row number (from 0) in the file the list was read from. */
  index: number;
  metadata: ConversationMetadata;
  messages: Message[];
  judgment?: Judgment;
  /** The Q&A pairs the conversation was written from, with their fact lines. */
  sourcePairs: QAPair[];
  status: ConversationStatus;
  /** Set when stage 6 removed it: the row it was removed in favour of, and how similar the two are. */
  duplicateOf?: { index: number; similarity: number };
}

export interface Listing {
  conversations: ListedConversation[];
  /** The kept conversations of listed duplicates, by row: shown beside them. */
  partners: Record<number, ListedConversation>;
  /** True when the list is a sample of a larger file. */
  sampled: boolean;
  notes: string[];
}

interface Row {
  conversation: { metadata: ConversationMetadata; messages: Message[]; source_qa_pairs: QAPair[] };
  judgment?: Judgment;
}

/**
 * Built before the pass over the judged (or generated) file that collect.ts makes anyway: it knows from stage 6's
 * report and stage 7's selected rows what each row became, and which rows to keep, so that one pass fills the list.
 * Rows of the judged file are rows of the embedded file: stage 5 writes one per judged row, in order (checked in
 * `finish`).
 */
export class ListingBuilder {
  private readonly listed: ListedConversation[] = [];
  private readonly partners: Record<number, ListedConversation> = {};
  private readonly notes: string[] = [];

  private constructor(
    private readonly chosen: (index: number) => boolean,
    private readonly sampled: boolean,
    private readonly removed: Map<number, { index: number; similarity: number }>,
    private readonly final: Set<number> | undefined,
    private readonly partnerRows: Set<number>,
  ) {}

  /** `limit` 0 lists nothing and reads nothing. */
  static async start(
    paths: ArtifactPaths,
    selectedFile: string,
    listFile: string,
    limit: number,
  ): Promise<ListingBuilder> {
    const total = limit > 0 && existsSync(listFile) ? await countLines(listFile) : 0;
    const sampled = limit === 0 || total > limit;
    // Evenly spaced rows: the k-th listed row is row ⌊k·total/limit⌋, so the sample spans the whole run.
    const chosen = (i: number) =>
      limit > 0 && (!sampled || Math.floor((Math.ceil((i * limit) / total) * total) / limit) === i);
    const removed = new Map<number, { index: number; similarity: number }>();
    let final: Set<number> | undefined;
    const partnerRows = new Set<number>();
    const builder = () => new ListingBuilder(chosen, sampled, removed, final, partnerRows);
    if (limit === 0) return builder();

    const report = await readDedupReport(dedupReportPath(paths.conversationsDeduplicated));
    for (const r of report ?? []) {
      removed.set(r.index, { index: r.duplicate_of, similarity: r.similarity });
      if (chosen(r.index)) partnerRows.add(r.duplicate_of);
    }
    if (report && existsSync(selectedFile)) {
      const dedupRows: number[] = [];
      await scan(selectedFile, SelectedRow, (r) => dedupRows.push(r.index));
      const kept = keptEmbeddedRows(
        report,
        dedupRows.reduce((m, r) => Math.max(m, r + 1), 0),
      );
      final = new Set(dedupRows.map((r) => kept[r]!));
    }
    const made = builder();
    if (existsSync(paths.conversationsDeduplicated) && !report)
      made.notes.push(`${dedupReportPath(paths.conversationsDeduplicated)} missing: removed duplicates are not marked`);
    if (report && !final && existsSync(paths.conversationsFinal) && existsSync(paths.conversationsDeduplicated))
      made.notes.push(
        `${selectedFile} missing (stage 7 not run, or run before it recorded its rows): passing conversations are not marked final or not selected`,
      );
    return made;
  }

  /** Called for every row of the listed file, in order. */
  offer(index: number, row: Row): void {
    const wanted = this.chosen(index);
    if (!wanted && !this.partnerRows.has(index)) return;
    const entry = this.entry(index, row);
    if (wanted) this.listed.push(entry);
    if (this.partnerRows.has(index)) this.partners[index] = entry;
  }

  /**
   * `judged` and `embedded` are the row counts of stages 4 and 5: when they differ (a stage 5 run with failed
   * batches), embedded rows are not judged rows, and the marks that rest on them are taken off.
   */
  finish(judged: number | undefined, embedded: number | undefined): Listing {
    if (embedded !== undefined && judged !== undefined && embedded !== judged && (this.removed.size || this.final)) {
      this.notes.push(
        `stage 5 embedded ${embedded} of ${judged} judged rows, so which judged row a duplicate or final row is cannot be told: not marked`,
      );
      for (const c of [...this.listed, ...Object.values(this.partners)]) {
        delete c.duplicateOf;
        if (c.status !== 'failed' && c.status !== 'not judged') c.status = 'passed';
      }
      for (const k of Object.keys(this.partners)) delete this.partners[Number(k)];
    }
    return { conversations: this.listed, partners: this.partners, sampled: this.sampled, notes: this.notes };
  }

  private entry(index: number, row: Row): ListedConversation {
    const duplicateOf = this.removed.get(index);
    const j = row.judgment;
    let status: ConversationStatus;
    // A failing row can be removed too (stage 6 visits every row); the judge's verdict is what it is marked by.
    if (!j) status = 'not judged';
    else if (!j.overall_pass) status = 'failed';
    else if (duplicateOf) status = 'duplicate';
    else if (this.final) status = this.final.has(index) ? 'final' : 'not selected';
    else status = 'passed';
    const c = row.conversation;
    return {
      index,
      metadata: c.metadata,
      messages: c.messages,
      ...(j ? { judgment: j } : {}),
      sourcePairs: c.source_qa_pairs,
      status,
      ...(duplicateOf ? { duplicateOf } : {}),
    };
  }
}
