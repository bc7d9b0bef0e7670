/**
 * Stage 6 — remove near-duplicate conversations.
 *
 * Reads output/conversations_embedded.jsonl as a stream (vectors go straight into typed arrays), L2-normalises,
 * visits passing conversations first (each group in input order) and keeps one when its cosine similarity to every
 * kept one is below the threshold; similarity ≥ threshold is a duplicate. Writes the kept rows in input order without
 * their embedding to output/conversations_deduplicated.jsonl, and one row per removed conversation (which kept one it
 * duplicates, and how similar) to output/conversations_deduplicated.report.jsonl.
 * `--method minhash` instead compares word shingles (MinHash + LSH, Jaccard threshold): no embeddings, no key.
 *
 *   npx tsx 6_deduplicate.ts [--threshold X] [--method cosine|minhash] [--jaccard X] [--input PATH] [--output PATH]
 */
import { runIfMain, type Flags } from './src/cli.js';
import { PARAMS } from './src/config.js';
import { PATHS } from './src/pipeline.js';
import { dedupReportPath } from './src/io/sidecars.js';
import { conversationText } from './src/conversation_text.js';
import { dedupGreedy } from './src/dedup/greedy.js';
import { minhashDedup } from './src/dedup/minhash.js';
import { readEmbedded } from './src/dedup/read_embedded.js';
import type { DedupResult } from './src/dedup/reference.js';
import { similarityHistogram } from './src/dedup/histogram.js';
import { JsonlLineError } from './src/errors.js';
import { formatZodIssue } from './src/format.js';
import { iterateJsonl, writeAtomically, writeJsonl } from './src/io/jsonl.js';
import { stringifyEscapes } from './src/io/json_text.js';
import { redactSecrets } from './src/secrets.js';
import { JudgedConversation, UNIQUE_CONVERSATION_MEMBERS } from './src/schemas.js';
import { offlineStageFlagSet } from './src/stage/flags.js';
import { StageRun } from './src/stage/stage_run.js';

export const FLAGS = offlineStageFlagSet([PATHS.conversationsEmbedded, PATHS.conversationsDeduplicated], {
  threshold: {
    kind: 'number',
    help: 'cosine similarity at or above which a conversation is a duplicate, in (0, 1]',
    default: PARAMS.dedupThreshold,
    min: 0,
    exclusiveMin: true,
    max: 1,
  },
  method: {
    kind: 'string',
    help: 'cosine (embeddings) or minhash (word shingles, no embeddings needed)',
    default: 'cosine',
    choices: ['cosine', 'minhash'],
  },
  jaccard: {
    kind: 'number',
    help: 'minhash: Jaccard similarity at or above which a conversation is a duplicate, in (0, 1]',
    default: PARAMS.minhashThreshold,
    min: 0,
    exclusiveMin: true,
    max: 1,
  },
  report: { kind: 'string', help: 'removed-duplicates report (default: OUTPUT with .report.jsonl)' },
});

const SUMMARY = 'Stage 6: remove near-duplicate conversations → conversations_deduplicated.jsonl (+ .report.jsonl)';

export async function deduplicate(flags: Flags<typeof FLAGS>): Promise<number> {
  const reportFile = flags.report ?? dedupReportPath(flags.output);
  const missingHint = 'run stage 5 first: npx tsx 5_embed_conversations.ts';
  // Set up first: the outputs are checked and locked before the read, and Ctrl-C stops the stage from here on.
  const run = new StageRun({
    stage: 'deduplicate',
    artifact: flags.output,
    inputs: [flags.input],
    outputs: { report: reportFile },
    noCalls: true,
    settings: { method: flags.method, threshold: flags.method === 'cosine' ? flags.threshold : flags.jaccard },
    concurrency: 1,
    quiet: flags.quiet,
  });

  // 1. Read: embeddings into one Float32Array, each row kept compactly without its embedding.
  let rows: string[];
  let result: DedupResult;
  const started = Date.now();
  if (flags.method === 'cosine') {
    const embedded = await readEmbedded(flags.input, {
      missingHint,
      // Only the judged row goes on: the embedding and its preview have done their job.
      keep: UNIQUE_CONVERSATION_MEMBERS,
      validateRow: (row, line) => {
        run.throwIfInterrupted();
        const parsed = JudgedConversation.safeParse(row);
        if (!parsed.success) throw new JsonlLineError(flags.input, line, formatZodIssue(parsed.error.issues[0]!));
      },
    });
    rows = embedded.rows;
    run.log(
      `deduplicate: ${embedded.count} conversations × ${embedded.dim} dimensions read in ${((Date.now() - started) / 1000).toFixed(1)}s`,
    );
    result = dedupGreedy(
      { vectors: embedded.vectors, dim: embedded.dim, count: embedded.count, passing: embedded.passing },
      { threshold: flags.threshold },
    );
  } else {
    // MinHash needs only the conversations: any judged file (embedded or not) will do.
    rows = [];
    const texts: string[] = [];
    const passing: number[] = [];
    for await (const { row } of iterateJsonl(flags.input, JudgedConversation, { missingHint })) {
      run.throwIfInterrupted();
      rows.push(JSON.stringify({ conversation: row.conversation, judgment: row.judgment }));
      texts.push(conversationText(row.conversation.messages));
      passing.push(row.judgment.overall_pass ? 1 : 0);
    }
    result = minhashDedup(texts, Uint8Array.from(passing), { threshold: flags.jaccard });
  }
  run.setRead(rows.length);
  run.log(
    `deduplicate: ${result.removed.length} duplicates found by ${result.stats.method} in ${((Date.now() - started) / 1000).toFixed(1)}s`,
  );

  // 2. Write the kept rows in input order, and what was removed and why — unless Ctrl-C came during the dedup.
  await run.stopIfInterrupted();
  // The rows hold the judged row's text already: written as it is, with JSON.stringify's escapes, not parsed again.
  run.setWritten(
    await writeAtomically(flags.output, async (writer) => {
      for (const i of run.untilInterrupted(result.kept))
        await writer.writeLine(redactSecrets(stringifyEscapes(rows[i]!)));
    }),
  );
  await writeJsonl(
    reportFile,
    result.removed.map((r) => ({
      index: r.index,
      duplicate_of: r.duplicateOf,
      similarity: Number(r.similarity.toFixed(6)),
    })),
  );
  run.filter('duplicate', result.removed.length);
  const histogram = similarityHistogram(
    result.removed.map((r) => r.similarity),
    flags.method === 'cosine' ? flags.threshold : flags.jaccard,
  );
  if (result.removed.length) run.log(`similarity of removed pairs:\n${histogram.text}`);
  return run.finish({ removed: result.removed.length, histogram: histogram.bins, dedup_stats: result.stats });
}

runIfMain(import.meta.url, '6_deduplicate.ts', SUMMARY, FLAGS, deduplicate);
