/**
 * Stage 5 — embed conversations for deduplication.
 *
 * Reads output/conversations_judged.jsonl (passing and failing: stage 6 needs both to keep the best copy), turns each
 * conversation into `ROLE: content` text cut at 24,000 characters, embeds 100 texts per request at 1024 dimensions
 * (OpenAI text-embedding-3-small by default, or Gemini gemini-embedding-001 with --provider gemini), and streams
 * output/conversations_embedded.jsonl in input order as batches finish.
 *
 *   npx tsx 5_embed_conversations.ts [--provider openai|gemini] [--batch-size N] [--concurrency N] …
 */
import { runIfMain, type Flags } from './src/cli.js';
import { EMBEDDING } from './src/config.js';
import { PATHS } from './src/pipeline.js';
import { embeddingText } from './src/conversation_text.js';
import { embeddingsProblem } from './src/embedding_check.js';
import { EMBEDDINGS_CODEC } from './src/io/embedding_codec.js';
import { readJsonl, writeAtomically } from './src/io/jsonl.js';
import { embeddingTask } from './src/llm/calls.js';
import { besideLookup } from './src/llm/model_check.js';
import { DEFAULT_EMBEDDING_PROVIDER, embeddingProvider } from './src/llm/providers.js';
import type { EmbeddingProvider } from './src/llm/types.js';
import { OrderedWriter } from './src/io/ordered_writer.js';
import { JudgedConversation, type EmbeddedConversation } from './src/schemas.js';
import { embeddingStageFlagSet, resolveEmbeddingModel, resolveProvider } from './src/stage/flags.js';
import { StageRun } from './src/stage/stage_run.js';

export const FLAGS = embeddingStageFlagSet([PATHS.conversationsJudged, PATHS.conversationsEmbedded], {
  dimensions: { kind: 'int', help: 'embedding size', default: EMBEDDING.dimensions, min: 1 },
  'batch-size': { kind: 'int', help: 'texts per request', default: EMBEDDING.batchSize, min: 1, max: 2048 },
});

const SUMMARY = 'Stage 5: embed each judged conversation for deduplication → conversations_embedded.jsonl';

/** As the LLM stages: the flag, else LLM_PROVIDER, else OpenAI (the original's embeddings). */
/** L2-normalised copy: Gemini returns unit vectors only at its full 3072 dimensions. */
export function normalise(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((n, x) => n + x * x, 0));
  return norm > 0 ? vector.map((x) => x / norm) : vector;
}

export async function embedConversations(flags: Flags<typeof FLAGS>): Promise<number> {
  const provider = resolveProvider(flags.provider, DEFAULT_EMBEDDING_PROVIDER);
  const model = resolveEmbeddingModel(provider, flags.model);

  // 1. Read the judged conversations and build the texts.
  const judged = await readJsonl(flags.input, JudgedConversation, {
    missingHint: 'run stage 4 first: npx tsx 4_judge_and_save.ts',
  });
  const texts = judged.map((j) => embeddingText(j.conversation.messages, EMBEDDING.maxChars));
  const batches: number[][] = [];
  for (let start = 0; start < judged.length; start += flags['batch-size'])
    batches.push(judged.slice(start, start + flags['batch-size']).map((_, k) => start + k));

  // 2. Embed batch by batch, writing rows in input order as soon as the batches before them are done.
  const embedder = embeddingProvider(provider, model, 'stage 5 embeds conversations');
  const run = new StageRun({
    stage: 'embed',
    artifact: flags.output,
    inputs: [flags.input],
    settings: {
      provider,
      model,
      dimensions: flags.dimensions,
      batch_size: flags['batch-size'],
      concurrency: flags.concurrency,
      max_chars: EMBEDDING.maxChars,
    },
    concurrency: flags.concurrency,
    fresh: flags.fresh,
    quiet: flags.quiet,
    maxFailureRate: flags['max-failure-rate'],
  });
  run.setRead(judged.length);
  run.log(
    `embed: ${judged.length} conversations in ${batches.length} requests · ${provider} ${model} at ${flags.dimensions} dimensions`,
  );
  const written = await writeAtomically(flags.output, async (writer) => {
    const ordered = new OrderedWriter<number[][]>(writer, (b, vectors) =>
      batches[b]!.map(
        (i, k): EmbeddedConversation => ({
          conversation: judged[i]!.conversation,
          judgment: judged[i]!.judgment,
          embedding: normalise(vectors[k]!),
          text_preview: texts[i]!.slice(0, EMBEDDING.previewChars),
        }),
      ),
    );
    // The free look-up goes beside the first paid request (see runLlmCalls): a retired embedding model stops the
    // stage with the current ones named, at the cost of that one unbilled 404. A run whose batches are all saved
    // asks nothing, not even the look-up. `embed` is settled once the checkpoint says whether anything is asked.
    let embed: EmbeddingProvider['embed'] = (texts, dimensions, signal) => embedder.embed(texts, dimensions, signal);
    const caller: EmbeddingProvider = {
      ...embedder,
      embed: (texts, dimensions, signal) => embed(texts, dimensions, signal),
    };
    const tasks = batches.map((indices, b) => ({
      ...embeddingTask(
        run,
        caller,
        `batch-${b}`,
        indices.map((i) => texts[i]!),
        flags.dimensions,
      ),
      units: indices.length,
    }));
    // Saved vectors pass the check fresh ones get: a NaN saved by an older version is asked again, not written.
    run.checkpoint.recheck(
      tasks.map((t, b) => ({
        key: t.key,
        problem: (stored) => embeddingsProblem(EMBEDDINGS_CODEC.decode(stored), batches[b]!.length, flags.dimensions),
      })),
    );
    const lookup = tasks.some((t) => !run.checkpoint.has(t.key)) ? embedder.checkModel?.() : undefined;
    if (lookup) embed = besideLookup(embed, lookup, (error) => run.abort(error));
    await run.runTasks('embed', tasks, { onResult: (b, vectors) => ordered.put(b, vectors) });
  });
  run.setWritten(written);
  return run.finish();
}

runIfMain(import.meta.url, '5_embed_conversations.ts', SUMMARY, FLAGS, embedConversations);
