/**
 * Stage 1 — extract Q&A pairs from the facts.
 *
 * Reads the facts (default data/swap_facts.md; or several files, or a folder, of markdown, text, HTML and PDF),
 * makes one chunk per fact line (markdown) or paragraph and list item (HTML, PDF) with its context and heading path,
 * asks the model for exactly 3 grounded Q&A pairs per chunk, and drops pairs that mention a year later than their
 * file's "As of" year. Writes output/qa_pairs.jsonl; every pair names its file and place.
 *
 *   npx tsx 1_extract_qa.ts [--input PATH[,PATH…]] [--limit N] [--concurrency N] [--dry-run] …
 */
import { runIfMain, type Flags } from './src/cli.js';
import { DEFAULT_DOMAIN, DEFAULT_FACTS, PARAMS, STAGES } from './src/config.js';
import { domainFilePath } from './src/domain.js';
import { assertFactsFitDomain } from './src/domain_checks.js';
import { factId, type FactRecord } from './src/facts.js';
import { mentionsFutureYear } from './src/future_years.js';
import { writeJsonl } from './src/io/jsonl.js';
import { factsListPath } from './src/io/sidecars.js';
import { PATHS } from './src/pipeline.js';
import { qaExtractionPrompt, QA_BATCH_SCHEMA_NAME, QABatchOutput } from './src/prompts/qa_extractor.js';
import type { QAPair } from './src/schemas.js';
import { ON_BAD_FILE, readSources, type OnBadFile } from './src/sources/read_sources.js';
import { llmStageFlags } from './src/stage/flags.js';
import type { ChatProvider } from './src/llm/types.js';
import { resolveLlmSettings, runLlmStage, structuredCall } from './src/stage/llm_stage.js';
import { OUTPUT_TOKENS } from './src/stage/output_estimate.js';

export const FLAGS = {
  input: {
    kind: 'list',
    help: 'facts: markdown, text, HTML or PDF files, or folders of them (repeat or comma-separate)',
    default: DEFAULT_FACTS,
  },
  facts: { kind: 'list', help: 'the same as --input (the name trial_run.ts uses)' },
  'on-bad-file': {
    kind: 'string',
    help: 'a facts file that cannot be read stops the run, or is skipped',
    choices: ON_BAD_FILE,
    default: 'stop',
  },
  output: { kind: 'string', help: 'output file', default: PATHS.qaPairs },
  limit: { kind: 'int', help: 'use only the first N chunks', min: 1 },
  ...llmStageFlags(STAGES.extract),
} as const;

const SUMMARY = 'Stage 1: chunk the facts and extract 3 grounded Q&A pairs per chunk → qa_pairs.jsonl';

/** `client`: the model to call instead of the provider's API (unit tests pass a recording fake). */
export async function extractQa(flags: Flags<typeof FLAGS>, client?: ChatProvider): Promise<number> {
  const llm = { ...resolveLlmSettings('extract', flags), client };

  // 1. Chunk the facts; without a domain file they must be SWAP's, checked before anything is paid for.
  const inputs = flags.facts ?? flags.input;
  const sources = await readSources(inputs, { onBadFile: flags['on-bad-file'] as OnBadFile });
  assertFactsFitDomain(domainFilePath(flags.domain, DEFAULT_DOMAIN), sources.text, inputs);
  const chunks = flags.limit === undefined ? sources.chunks : sources.chunks.slice(0, flags.limit);
  const files = sources.files.map((f) => f.file);

  // Every chunk is a fact with a stable id; the list (with or without pairs) lets stats follow each one to the end.
  const facts: FactRecord[] = chunks.map((chunk) => ({
    fact_id: factId({
      text: chunk.source_text,
      line: chunk.line,
      file: files.length > 1 ? chunk.source_file : undefined,
    }),
    line: chunk.line,
    source_text: chunk.source_text,
    context_before: chunk.context_before,
    context_after: chunk.context_after,
  }));

  // 2. One structured call per chunk.
  const output = { schema: QABatchOutput, schemaName: QA_BATCH_SCHEMA_NAME };
  const calls = chunks.map((chunk) => {
    // One file keeps the original ids; with several the file tells equal line numbers apart; a long line split in
    // parts gets one id a part.
    const part = chunk.part ? `-part-${chunk.part}` : '';
    const id =
      files.length > 1 ? `chunk-${chunk.source_file}-line-${chunk.line}${part}` : `chunk-line-${chunk.line}${part}`;
    return { id, chunk, call: structuredCall(llm, qaExtractionPrompt(llm.domain, chunk), output) };
  });
  const asOf =
    files.length > 1 ? Object.fromEntries(files.map((f) => [f, sources.cutoff(f)])) : sources.cutoff(files[0]);
  const years =
    typeof asOf === 'number' ? `years after ${asOf} are dropped` : "years after each file's As-of year are dropped";

  // Counts are in pairs: a failed chunk is 3 pairs asked for and not written. With --dry-run: estimate, and stop.
  const stage = await runLlmStage(flags, llm, calls, {
    artifact: flags.output,
    inputs: files,
    settings: { chunks: chunks.length, limit: flags.limit ?? null, as_of_year: asOf, domain: llm.domain.name },
    read: chunks.length * PARAMS.pairsPerChunk,
    unitsPerCall: PARAMS.pairsPerChunk,
    outputTokens: OUTPUT_TOKENS.extract,
    opening: (mode) =>
      `${chunks.length} chunks from ${files.length > 1 ? `${files.length} files` : files[0]} · ${llm.provider} ${llm.model} · ${mode} · ${years}`,
  });
  if (!stage) return 0;
  const { run, results, manifest } = stage;

  // 3. Attach the chunk's own text (never the model's echo) and drop pairs about the future.
  const pairs: QAPair[] = [];
  results.forEach((batch, i) => {
    if (!batch) return;
    const { chunk } = calls[i]!;
    const cutoff = sources.cutoff(chunk.source_file);
    for (const qa of batch.qa_pairs) {
      if (mentionsFutureYear(qa, cutoff)) {
        run.filter('future_year');
        continue;
      }
      pairs.push({
        question: qa.question,
        answer: qa.answer,
        source_text: chunk.source_text,
        context_before: chunk.context_before,
        context_after: chunk.context_after,
        difficulty: qa.difficulty,
        categories: qa.categories,
        fact_id: facts[i]!.fact_id,
        ...(chunk.section ? { section: chunk.section } : {}),
        source_file: chunk.source_file,
        source_location: chunk.source_location,
      });
    }
  });

  // 4. Write the artifact.
  run.setWritten(await writeJsonl(flags.output, pairs));
  await writeJsonl(factsListPath(flags.output), facts);
  run.addOutput(factsListPath(flags.output));
  if (pairs[0]) run.log(`sample: Q: ${pairs[0].question}\n        A: ${pairs[0].answer}`);
  return run.finish(manifest);
}

runIfMain(import.meta.url, '1_extract_qa.ts', SUMMARY, FLAGS, extractQa);
