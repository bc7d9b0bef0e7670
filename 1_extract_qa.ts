/**
 * Stage 1 — extract Q&A pairs from the facts.
 *
 * Reads the facts markdown (default data/swap_facts.md), makes one chunk per fact line with 3 lines of context on
 * each side, asks the model for exactly 3 grounded Q&A pairs per chunk, and drops pairs that mention a year later
 * than the facts' "As of" year. Writes output/qa_pairs.jsonl.
 *
 *   npx tsx 1_extract_qa.ts [--input PATH] [--limit N] [--concurrency N] [--dry-run] …
 */
import { qaExtractionPrompt, QA_BATCH_SCHEMA_NAME, QABatchOutput } from './src/agents/qa_extractor.js';
import { readFacts } from './src/chunking.js';
import { isMain, parseFlags, runCli, usageText, type Flags } from './src/cli.js';
import { DEFAULT_DOMAIN, DEFAULT_FACTS, PARAMS, PATHS, STAGES } from './src/config.js';
import { loadDomain } from './src/domain.js';
import { openLlmStage, runLlmCalls } from './src/llm_stage.js';
import { dryRun } from './src/dry_run.js';
import { cutoffYear, mentionsFutureYear } from './src/future_years.js';
import { writeJsonl } from './src/jsonl.js';
import type { StructuredCall } from './src/llm/structured.js';
import { OUTPUT_TOKENS } from './src/output_estimate.js';
import type { QAPair } from './src/schemas.js';
import { concurrencyFlag, LLM_FLAGS, resolveModel, resolveProvider, RUN_FLAGS } from './src/stage_flags.js';

export const FLAGS = {
  input: { kind: 'string', help: 'facts markdown file', default: DEFAULT_FACTS },
  facts: { kind: 'string', help: 'the same as --input (the name trial_run.ts uses)' },
  output: { kind: 'string', help: 'output file', default: PATHS.qaPairs },
  limit: { kind: 'int', help: 'use only the first N chunks', min: 0 },
  ...concurrencyFlag(STAGES.extract.concurrency),
  ...LLM_FLAGS,
  ...RUN_FLAGS,
} as const;

const SUMMARY = 'Stage 1: chunk the facts and extract 3 grounded Q&A pairs per chunk → qa_pairs.jsonl';

export async function extractQa(flags: Flags<typeof FLAGS>): Promise<number> {
  const provider = resolveProvider(flags.provider);
  const model = resolveModel(STAGES.extract, provider, flags.model);
  const domain = loadDomain(flags.domain, DEFAULT_DOMAIN);

  // 1. Chunk the facts.
  const factsFile = flags.facts ?? flags.input;
  const { text, chunks: allChunks } = readFacts(factsFile);
  const chunks = flags.limit === undefined ? allChunks : allChunks.slice(0, flags.limit);
  const cutoff = cutoffYear(text);

  // 2. One structured call per chunk.
  const calls = chunks.map((chunk) => {
    const { system, prompt } = qaExtractionPrompt(domain, chunk);
    const call: StructuredCall<QABatchOutput> = {
      request: { model, system, prompt, schema: QABatchOutput, schemaName: QA_BATCH_SCHEMA_NAME, temperature: STAGES.extract.temperature },
    };
    return { id: `chunk-line-${chunk.line}${chunk.part ? `-part-${chunk.part}` : ''}`, chunk, call };
  });

  if (flags['dry-run']) {
    dryRun('extract_qa', provider, model, flags.output, calls.map((c) => c.call), OUTPUT_TOKENS.extract, { batch: flags.batch, fresh: flags.fresh });
    return 0;
  }

  const stage = openLlmStage(flags, {
    stage: 'extract_qa',
    why: 'stage 1 asks the model for Q&A pairs',
    artifact: flags.output,
    inputs: [factsFile],
    provider,
    model,
    temperature: STAGES.extract.temperature,
    settings: { chunks: chunks.length, limit: flags.limit ?? null, as_of_year: cutoff, domain: domain.name },
  });
  const { run } = stage;
  run.log(`extract_qa: ${chunks.length} chunks from ${factsFile} · ${provider} ${model} · ${stage.mode} · years after ${cutoff} are dropped`);
  // Counts are in pairs: a failed chunk is 3 pairs asked for and not written.
  const { results, manifest } = await runLlmCalls(stage, 'extract', provider, calls, { batch: flags.batch, unitsPerCall: PARAMS.pairsPerChunk });

  // 3. Attach the chunk's own text (never the model's echo) and drop pairs about the future.
  const pairs: QAPair[] = [];
  run.counts.read = chunks.length * PARAMS.pairsPerChunk;
  results.forEach((batch, i) => {
    if (!batch) return;
    const { chunk } = calls[i]!;
    for (const qa of batch.qa_pairs) {
      if (mentionsFutureYear(qa, cutoff)) {
        run.filter('future_year');
        continue;
      }
      pairs.push({ question: qa.question, answer: qa.answer, source_text: chunk.source_text, context_before: chunk.context_before, context_after: chunk.context_after, difficulty: qa.difficulty, categories: qa.categories });
    }
  });

  // 4. Write the artifact.
  run.counts.written = await writeJsonl(flags.output, pairs);
  if (pairs[0]) run.log(`sample: Q: ${pairs[0].question}\n        A: ${pairs[0].answer}`);
  return run.finish(manifest);
}

if (isMain(import.meta.url)) {
  void runCli(async () => {
    const flags = parseFlags(process.argv.slice(2), FLAGS, usageText('1_extract_qa.ts', SUMMARY, FLAGS));
    return flags ? extractQa(flags) : 0;
  });
}
