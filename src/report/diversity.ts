// How varied a run's training set is, streamed from its artifacts: distinct-1 and distinct-2 of user and assistant
// messages, the most repeated openings of user messages, and the mean nearest-neighbour similarity of its embeddings.
import { existsSync } from 'node:fs';
import { z } from '../zod.js';
import type { ArtifactPaths } from '../pipeline.js';
import { dedupReportPath } from '../io/sidecars.js';
import { JsonlLineError } from '../errors.js';
import { formatZodIssue } from '../format.js';
import { forEachLine } from '../io/line_reader.js';
import { Conversation, JudgedConversation } from '../schemas.js';
import { keptEmbeddedRows, readDedupReport } from '../select/dedup_report.js';
import {
  DistinctCounter,
  meanNearestNeighbour,
  OPENING_WORDS,
  OpeningCounter,
  words,
  type Distinct,
} from './diversity_measures.js';
import { FinalRow, finalRowMessages, SelectedRow } from './final_rows.js';
import { readManifest } from './manifest.js';
import { scan } from './scan.js';

export interface Diversity {
  /** Which conversations the figures are of, e.g. "the final set (391 conversations)". */
  source: string;
  conversations: number;
  user: Distinct;
  assistant: Distinct;
  /** User messages with at least one word. */
  userMessages: number;
  openings: Array<{ phrase: string; count: number }>;
  /** Undefined when the embeddings of these conversations cannot be told (see notes). */
  nearest?: { mean: number; rows: number; of: number };
  notes: string[];
}

/** Openings listed. */
const OPENINGS_SHOWN = 10;
/**
 * Nearest neighbours are exact, n²/2 dot products of 1,024 numbers: 2,000 rows took 13 s on a shared machine under
 * load (2 cores, load average 15), so the cap is 1,000 (a quarter of that). A larger set is measured on evenly
 * spaced rows of it, and says so: a sample's neighbours are a little further apart than the whole set's.
 */
export const NEAREST_MAX_ROWS = 1000;

const Embedding = z.object({ embedding: z.array(z.number()).min(1) });

/** Text diversity of the conversations fed to it, one at a time. */
class TextDiversity {
  readonly user = new DistinctCounter();
  readonly assistant = new DistinctCounter();
  readonly openings = new OpeningCounter();
  conversations = 0;

  add(messages: ReadonlyArray<{ role: string; content: string }>): void {
    this.conversations++;
    for (const m of messages) {
      if (m.role === 'user') {
        const tokens = words(m.content);
        this.user.add(tokens);
        this.openings.add(tokens);
      } else if (m.role === 'assistant') this.assistant.add(words(m.content));
    }
  }
}

/**
 * The figures of the final set when stage 7 recorded which rows it chose; else of the latest set there is (the final
 * file as exported, the deduplicated or judged passing conversations, the generated ones), saying which.
 */
export async function collectDiversity(paths: ArtifactPaths, selectedFile: string): Promise<Diversity | undefined> {
  const text = new TextDiversity();
  const notes: string[] = [];
  const dedupFile = paths.conversationsDeduplicated;
  let source: string;
  // Rows of the embedded file the conversations are, when that can be told.
  let embedded: number[] | undefined;
  let noEmbeddings: string | undefined;

  if (existsSync(selectedFile) && existsSync(dedupFile)) {
    const wanted = new Set<number>();
    await scan(selectedFile, SelectedRow, (r) => wanted.add(r.index));
    const taken: number[] = [];
    const total = (await scan(dedupFile, JudgedConversation, (row, i) => {
      if (!wanted.has(i)) return;
      text.add(row.conversation.messages);
      taken.push(i);
    }))!;
    if (taken.length < wanted.size)
      notes.push(
        `${selectedFile} names ${wanted.size - taken.length} rows past the end of ${dedupFile}: stage 6 ran again after stage 7?`,
      );
    source = 'the final set';
    ({ embedded, reason: noEmbeddings } = await dedupToEmbedded(dedupFile, taken, total));
  } else if (existsSync(paths.conversationsFinal) && readManifest(paths.conversationsFinal)?.stage === 'select_top') {
    await scan(paths.conversationsFinal, FinalRow, (row) => text.add(finalRowMessages(row)));
    source = `${paths.conversationsFinal} as exported`;
    noEmbeddings = `${selectedFile} missing (stage 7 ran before it recorded its rows), so which embeddings are the final set's is not known`;
  } else if (existsSync(dedupFile)) {
    const taken: number[] = [];
    const total = (await scan(dedupFile, JudgedConversation, (row, i) => {
      if (!row.judgment.overall_pass) return;
      text.add(row.conversation.messages);
      taken.push(i);
    }))!;
    source = 'the deduplicated passing conversations (stage 7 has not run)';
    ({ embedded, reason: noEmbeddings } = await dedupToEmbedded(dedupFile, taken, total));
  } else if (existsSync(paths.conversationsJudged)) {
    const taken: number[] = [];
    await scan(paths.conversationsJudged, JudgedConversation, (row, i) => {
      if (!row.judgment.overall_pass) return;
      text.add(row.conversation.messages);
      taken.push(i);
    });
    source = 'the judged passing conversations (stages 6 and 7 have not run)';
    // Stage 5 writes one row per judged row, in order.
    if (existsSync(paths.conversationsEmbedded)) embedded = taken;
    else noEmbeddings = 'stage 5 has not run';
  } else if (existsSync(paths.conversationsRaw)) {
    await scan(paths.conversationsRaw, Conversation, (row) => text.add(row.messages));
    source = 'the generated conversations (not judged yet)';
    noEmbeddings = 'stage 5 has not run';
  } else return undefined;

  let nearest: Diversity['nearest'];
  if (embedded && embedded.length >= 2) {
    const rows = embedded.length > NEAREST_MAX_ROWS ? evenlySpaced(embedded, NEAREST_MAX_ROWS) : embedded;
    const vectors = await readVectors(paths.conversationsEmbedded, rows);
    if (vectors.length < rows.length)
      notes.push(
        `${paths.conversationsEmbedded} has fewer rows than stage 6 says it read: nearest-neighbour similarity left out`,
      );
    else if (new Set(vectors.map((v) => v.length)).size > 1)
      notes.push(`${paths.conversationsEmbedded} mixes embedding sizes: nearest-neighbour similarity left out`);
    else nearest = { mean: meanNearestNeighbour(vectors)!, rows: rows.length, of: embedded.length };
  } else if (noEmbeddings) notes.push(`nearest-neighbour similarity not known: ${noEmbeddings}`);

  return {
    source: `${source} (${text.conversations.toLocaleString('en-US')} conversations)`,
    conversations: text.conversations,
    user: text.user.result(),
    assistant: text.assistant.result(),
    userMessages: text.openings.messages,
    openings: text.openings.top(OPENINGS_SHOWN),
    ...(nearest ? { nearest } : {}),
    notes,
  };
}

/** Stage 6's report says which embedded row each deduplicated row is (it writes the rows it keeps in input order). */
async function dedupToEmbedded(
  dedupFile: string,
  dedupRows: number[],
  dedupTotal: number,
): Promise<{ embedded?: number[]; reason?: string }> {
  const removed = await readDedupReport(dedupReportPath(dedupFile));
  if (!removed)
    return {
      reason: `${dedupReportPath(dedupFile)} missing, so which embedding is which deduplicated row is not known`,
    };
  const kept = keptEmbeddedRows(removed, dedupTotal);
  return { embedded: dedupRows.map((r) => kept[r]!) };
}

/** `n` of the rows, spread evenly from the first on. */
export function evenlySpaced(rows: number[], n: number): number[] {
  return Array.from({ length: n }, (_, k) => rows[Math.floor((k * rows.length) / n)]!);
}

/**
 * The embeddings of the given rows (ascending) of the embedded file. Lines are split as bytes and only the wanted ones
 * are decoded and parsed: the file is about fifteen times the size of the others.
 */
async function readVectors(file: string, rows: number[]): Promise<Float32Array[]> {
  const out: Float32Array[] = [];
  let row = -1;
  let line = 0;
  let next = 0;
  await forEachLine(file, (bytes) => {
    line++;
    if (next >= rows.length || isBlank(bytes)) return;
    if (++row !== rows[next]) return;
    next++;
    let value: unknown;
    try {
      value = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new JsonlLineError(file, line, `not valid JSON (${(error as Error).message})`);
    }
    const parsed = Embedding.safeParse(value);
    if (!parsed.success) throw new JsonlLineError(file, line, formatZodIssue(parsed.error.issues[0]!));
    out.push(Float32Array.from(parsed.data.embedding));
  });
  return out;
}

function isBlank(bytes: Buffer): boolean {
  for (const b of bytes) if (b !== 32 && b !== 9 && b !== 13) return false;
  return true;
}

const fixed = (x: number) => x.toFixed(3);

/** The figures as `make stats` prints them. */
export function diversityText(d: Diversity): string[] {
  const distinct = (x: Distinct) =>
    x.words
      ? `${fixed(x.distinct1)} / ${fixed(x.distinct2)} (${x.words.toLocaleString('en-US')} words)`
      : '– (no words)';
  const out = [
    '',
    `diversity of ${d.source}:`,
    `  distinct-1 / distinct-2   user ${distinct(d.user)} · assistant ${distinct(d.assistant)}`,
  ];
  if (d.openings.length) {
    out.push(
      `  most repeated openings of user messages (first ${OPENING_WORDS} words, of ${d.userMessages.toLocaleString('en-US')} messages):`,
    );
    out.push(...d.openings.map((o) => `  ${String(o.count).padStart(7)}  ${o.phrase}`));
  } else out.push(`  no user message opening (first ${OPENING_WORDS} words) is repeated`);
  if (d.nearest)
    out.push(
      `  mean nearest-neighbour similarity (cosine of stage 5 embeddings): ${fixed(d.nearest.mean)}${samplePhrase(d.nearest)}`,
    );
  out.push(...d.notes.map((n) => `  note: ${n}`));
  return out;
}

/** " over 391 conversations", or " over 1,000 evenly spaced of 9,000 conversations (…)". */
export function samplePhrase(n: NonNullable<Diversity['nearest']>): string {
  return n.rows === n.of
    ? ` over ${n.of.toLocaleString('en-US')} conversations`
    : ` over ${n.rows.toLocaleString('en-US')} evenly spaced of ${n.of.toLocaleString('en-US')} conversations (neighbours within that sample)`;
}
