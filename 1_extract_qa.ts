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
import { qaExtractionPrompt, QA_BATCH_SCHEMA_NAME, QABatchOutput } from './src/prompts/qa_extractor.js';
import { isMain, parseFlags, runCli, usageText, type Flags } from './src/cli.js';
import { DEFAULT_DOMAIN, DEFAULT_FACTS, PARAMS, STAGES } from './src/config.js';
import { PATHS } from './src/pipeline.js';
import { domainFilePath, loadDomain } from './src/domain.js';
import { assertFactsFitDomain } from './src/domain_checks.js';
import { openLlmStage, runLlmCalls } from './src/stage/llm_stage.js';
import { dryRun } from './src/stage/dry_run.js';
import { factId, type FactRecord } from './src/facts.js';
import { factsListPath } from './src/io/sidecars.js';
import { mentionsFutureYear } from './src/future_years.js';
import { writeJsonl } from './src/io/jsonl.js';
import type { StructuredCall } from './src/llm/structured.js';
import { OUTPUT_TOKENS } from './src/stage/output_estimate.js';
import type { QAPair } from './src/schemas.js';
import { ON_BAD_FILE, readSources, type OnBadFile } from './src/sources/read_sources.js';
import { concurrencyFlag, LLM_FLAGS, resolveModel, resolveProvider, resolveThinking, RUN_FLAGS } from './src/stage/flags.js';

export const FLAGS = {
  input: { kind: 'list', help: 'facts: markdown, text, HTML or PDF files, or folders of them (repeat or comma-separate)', default: DEFAULT_FACTS },
  facts: { kind: 'list', help: 'the same as --input (the name trial_run.ts uses)' },
  'on-bad-file': { kind: 'string', help: 'a facts file that cannot be read stops the run, or is skipped', choices: ON_BAD_FILE, default: 'stop' },
  output: { kind: 'string', help: 'output file', default: PATHS.qaPairs },
  limit: { kind: 'int', help: 'use only the first N chunks', min: 1 },
  ...concurrencyFlag(STAGES.extract.concurrency),
  ...LLM_FLAGS,
  ...RUN_FLAGS,
} as const;

const SUMMARY = 'Stage 1: chunk the facts and extract 3 grounded Q&A pairs per chunk → qa_pairs.jsonl';

export async function extractQa(flags: Flags<typeof FLAGS>): Promise<number> {
  const provider = resolveProvider(flags.provider);
  const model = resolveModel(STAGES.extract, provider, flags.model);
  const thinking = resolveThinking(STAGES.extract, provider, model, flags.thinking);
  const domain = loadDomain(flags.domain, DEFAULT_DOMAIN);

  // 1. Chunk the facts; without a domain file they must be SWAP's, checked before anything is paid for.
  const inputs = flags.facts ?? flags.input;
  const sources = await readSources(inputs, { onBadFile: flags['on-bad-file'] as OnBadFile });
  assertFactsFitDomain(domainFilePath(flags.domain, DEFAULT_DOMAIN), sources.text, inputs);
  const chunks = flags.limit === undefined ? sources.chunks : sources.chunks.slice(0, flags.limit);
  const files = sources.files.map((f) => f.file);

  // Every chunk is a fact with a stable id; the list (with or without pairs) lets stats follow each one to the end.
  const facts: FactRecord[] = chunks.map((chunk) => ({ fact_id: factId({ text: chunk.source_text, line: chunk.line, file: files.length > 1 ? chunk.source_file : undefined }), line: chunk.line, source_text: chunk.source_text, context_before: chunk.context_before, context_after: chunk.context_after }));

  // 2. One structured call per chunk.
  const calls = chunks.map((chunk) => {
    const { system, prompt } = qaExtractionPrompt(domain, chunk);
    const call: StructuredCall<QABatchOutput> = {
      request: { model, system, prompt, schema: QABatchOutput, schemaName: QA_BATCH_SCHEMA_NAME, temperature: STAGES.extract.temperature, thinking },
    };
    // One file keeps the original ids; with several the file tells equal line numbers apart; a long line split in
    // parts gets one id a part.
    const part = chunk.part ? `-part-${chunk.part}` : '';
    return { id: files.length > 1 ? `chunk-${chunk.source_file}-line-${chunk.line}${part}` : `chunk-line-${chunk.line}${part}`, chunk, call };
  });
  const asOf = files.length > 1 ? Object.fromEntries(files.map((f) => [f, sources.cutoff(f)])) : sources.cutoff(files[0]);

  if (flags['dry-run']) {
    dryRun('extract_qa', provider, model, flags.output, calls.map((c) => c.call), OUTPUT_TOKENS.extract, { batch: flags.batch, fresh: flags.fresh });
    return 0;
  }

  const stage = openLlmStage(flags, {
    stage: 'extract_qa',
    why: 'stage 1 asks the model for Q&A pairs',
    artifact: flags.output,
    inputs: files,
    provider,
    model,
    temperature: STAGES.extract.temperature,
    thinking,
    settings: { chunks: chunks.length, limit: flags.limit ?? null, as_of_year: asOf, domain: domain.name },
  });
  const { run } = stage;
  const years = typeof asOf === 'number' ? `years after ${asOf} are dropped` : "years after each file's As-of year are dropped";
  run.log(`extract_qa: ${chunks.length} chunks from ${files.length > 1 ? `${files.length} files` : files[0]} · ${provider} ${model} · ${stage.mode} · ${years}`);
  // Counts are in pairs: a failed chunk is 3 pairs asked for and not written.
  const { results, manifest } = await runLlmCalls(stage, 'extract', provider, calls, { batch: flags.batch, unitsPerCall: PARAMS.pairsPerChunk });

  // 3. Attach the chunk's own text (never the model's echo) and drop pairs about the future.
  const pairs: QAPair[] = [];
  run.setRead(chunks.length * PARAMS.pairsPerChunk);
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
        question: qa.question, answer: qa.answer, source_text: chunk.source_text, context_before: chunk.context_before, context_after: chunk.context_after, difficulty: qa.difficulty, categories: qa.categories,
        fact_id: facts[i]!.fact_id, ...(chunk.section ? { section: chunk.section } : {}), source_file: chunk.source_file, source_location: chunk.source_location,
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

if (isMain(import.meta.url)) {
  void runCli(async () => {
    const flags = parseFlags(process.argv.slice(2), FLAGS, usageText('1_extract_qa.ts', SUMMARY, FLAGS));
    return flags ? extractQa(flags) : 0;
  });
}
