/**
 * Stage 2 — validate Q&A pairs.
 *
 * Reads output/qa_pairs.jsonl, asks the model three yes/no questions about each pair (grounded in its source?
 * realistic? sensible?), computes `passed` as all three, and writes every pair with its validation to
 * output/qa_pairs_validated.jsonl and the passing pairs alone to output/qa_pairs_validated_passed.jsonl.
 *
 *   npx tsx 2_validate_qa.ts [--input PATH] [--output PATH] [--concurrency N] [--dry-run] …
 */
import { QA_VALIDATION_SCHEMA_NAME, QAValidationOutput, qaValidationPrompt } from './src/agents/qa_validator.js';
import { isMain, parseFlags, runCli, usageText, type Flags } from './src/cli.js';
import { DEFAULT_DOMAIN, PATHS, sidecarPath, STAGES } from './src/config.js';
import { domainFilePath, loadDomain } from './src/domain.js';
import { assertSameDomain } from './src/domain_checks.js';
import { openLlmStage, runLlmCalls } from './src/llm_stage.js';
import { dryRun } from './src/dry_run.js';
import { readJsonl, writeJsonl } from './src/jsonl.js';
import type { StructuredCall } from './src/llm/structured.js';
import type { ChatProvider } from './src/llm/types.js';
import { OUTPUT_TOKENS } from './src/output_estimate.js';
import { passRates } from './src/pass_rates.js';
import { QA_CRITERIA, QAPair, type ValidatedQAPair } from './src/schemas.js';
import { concurrencyFlag, ioFlags, LLM_FLAGS, resolveModel, resolveProvider, resolveThinking, RUN_FLAGS } from './src/stage_flags.js';

export const FLAGS = {
  ...ioFlags(PATHS.qaPairs, PATHS.qaValidated),
  passed: { kind: 'string', help: 'passing pairs file (default: OUTPUT with _passed before .jsonl)' },
  ...concurrencyFlag(STAGES.validate.concurrency),
  ...LLM_FLAGS,
  ...RUN_FLAGS,
} as const;

const SUMMARY = 'Stage 2: validate each Q&A pair (grounded, realistic, sensible) → qa_pairs_validated.jsonl + _passed';

export function passedPath(output: string): string {
  return sidecarPath(output, '_passed.jsonl');
}

/** `llm`: the model to call instead of the provider's API (unit tests pass a recording fake). */
export async function validateQa(flags: Flags<typeof FLAGS>, llm?: ChatProvider): Promise<number> {
  const provider = resolveProvider(flags.provider);
  const model = resolveModel(STAGES.validate, provider, flags.model);
  const thinking = resolveThinking(STAGES.validate, provider, model, flags.thinking);
  const domain = loadDomain(flags.domain, DEFAULT_DOMAIN);
  // Free, before any call: pairs or conversations made for another company must not be paid for again under this one.
  assertSameDomain(flags.input, domain, domainFilePath(flags.domain, DEFAULT_DOMAIN));
  const passedFile = flags.passed ?? passedPath(flags.output);

  // 1. Read the pairs stage 1 wrote.
  const pairs = await readJsonl(flags.input, QAPair, { missingHint: 'run stage 1 first: npx tsx 1_extract_qa.ts' });
  const calls = pairs.map((pair, i) => {
    const { system, prompt } = qaValidationPrompt(domain, pair);
    const call: StructuredCall<QAValidationOutput> = {
      request: { model, system, prompt, schema: QAValidationOutput, schemaName: QA_VALIDATION_SCHEMA_NAME, temperature: STAGES.validate.temperature, thinking },
    };
    return { id: `qa-${i}`, call };
  });
  if (flags['dry-run']) {
    dryRun('validate_qa', provider, model, flags.output, calls.map((c) => c.call), OUTPUT_TOKENS.validate, { batch: flags.batch, fresh: flags.fresh });
    return 0;
  }

  // 2. Validate every pair.
  const stage = openLlmStage(flags, {
    stage: 'validate_qa',
    why: 'stage 2 asks the model to validate Q&A pairs',
    artifact: flags.output,
    inputs: [flags.input],
    outputs: { passed: passedFile },
    provider,
    model,
    temperature: STAGES.validate.temperature,
    thinking,
    settings: { domain: domain.name },
    llm,
  });
  const { run } = stage;
  run.counts.read = pairs.length;
  run.log(`validate_qa: ${pairs.length} pairs from ${flags.input} · ${provider} ${model} · ${stage.mode}`);
  const { results, manifest } = await runLlmCalls(stage, 'validate', provider, calls, { batch: flags.batch });

  // 3. `passed` is computed here, never trusted from the model.
  const validated: ValidatedQAPair[] = [];
  results.forEach((v, i) => {
    if (!v) return;
    const passed = v.uses_source_fact && v.realistic_question && v.sensible_answer;
    validated.push({ qa_pair: pairs[i]!, validation: { ...v, passed } });
  });

  // 4. Write both artifacts.
  run.counts.written = await writeJsonl(flags.output, validated);
  const passing = validated.filter((v) => v.validation.passed).map((v) => v.qa_pair);
  await writeJsonl(passedFile, passing);
  const rates = passRates(validated.map((v) => v.validation), [...QA_CRITERIA, 'passed']);
  run.log(rates.table);
  return run.finish({ pass_rates: rates.rates, passed: passing.length, ...manifest });
}

if (isMain(import.meta.url)) {
  void runCli(async () => {
    const flags = parseFlags(process.argv.slice(2), FLAGS, usageText('2_validate_qa.ts', SUMMARY, FLAGS));
    return flags ? validateQa(flags) : 0;
  });
}
