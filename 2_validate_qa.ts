/**
 * Stage 2 — validate Q&A pairs.
 *
 * Reads output/qa_pairs.jsonl, asks the model three yes/no questions about each pair (grounded in its source?
 * realistic? sensible?), computes `passed` as all three, and writes every pair with its validation to
 * output/qa_pairs_validated.jsonl and the passing pairs alone to output/qa_pairs_validated_passed.jsonl.
 *
 *   npx tsx 2_validate_qa.ts [--input PATH] [--output PATH] [--concurrency N] [--dry-run] …
 */
import { runIfMain, type Flags } from './src/cli.js';
import { DEFAULT_DOMAIN, STAGES } from './src/config.js';
import { domainFilePath } from './src/domain.js';
import { assertSameDomain } from './src/domain_checks.js';
import { readJsonl, writeJsonl } from './src/io/jsonl.js';
import { passedPath } from './src/io/sidecars.js';
import { PATHS } from './src/pipeline.js';
import { QA_VALIDATION_SCHEMA_NAME, QAValidationOutput, qaValidationPrompt } from './src/prompts/qa_validator.js';
import type { ChatProvider } from './src/llm/types.js';
import { QA_CRITERIA, QAPair, type ValidatedQAPair } from './src/schemas.js';
import { llmStageFlagSet } from './src/stage/flags.js';
import { buildOnDemand } from './src/stage/call_list.js';
import { resolveLlmSettings, runLlmStage, structuredCall } from './src/stage/llm_stage.js';
import { OUTPUT_TOKENS } from './src/stage/output_estimate.js';
import { passRates } from './src/stage/pass_rates.js';

export const FLAGS = llmStageFlagSet(STAGES.validate, [PATHS.qaPairs, PATHS.qaValidated], {
  passed: { kind: 'string', help: 'passing pairs file (default: OUTPUT with _passed before .jsonl)' },
});

const SUMMARY = 'Stage 2: validate each Q&A pair (grounded, realistic, sensible) → qa_pairs_validated.jsonl + _passed';

/** `client`: the model to call instead of the provider's API (unit tests pass a recording fake). */
export async function validateQa(flags: Flags<typeof FLAGS>, client?: ChatProvider): Promise<number> {
  const llm = { ...resolveLlmSettings('validate', flags), client };
  // Free, before any call: pairs or conversations made for another company must not be paid for again under this one.
  assertSameDomain(flags.input, llm.domain, domainFilePath(flags.domain, DEFAULT_DOMAIN));
  const passedFile = flags.passed ?? passedPath(flags.output);

  // 1. Read the pairs stage 1 wrote.
  const pairs = await readJsonl(flags.input, QAPair, { missingHint: 'run stage 1 first: npx tsx 1_extract_qa.ts' });
  const output = { schema: QAValidationOutput, schemaName: QA_VALIDATION_SCHEMA_NAME };
  // Each prompt is built when it is needed and not held: the calls grow with the pairs, as stage 3's do.
  const calls = buildOnDemand(pairs.length, (i) => ({
    id: `qa-${i}`,
    call: structuredCall(llm, qaValidationPrompt(llm.domain, pairs[i]!), output),
  }));

  // 2. Validate every pair (with --dry-run: estimate, and stop).
  const stage = await runLlmStage(flags, llm, calls, {
    artifact: flags.output,
    inputs: [flags.input],
    outputs: { passed: passedFile },
    settings: { domain: llm.domain.name },
    read: pairs.length,
    outputTokens: OUTPUT_TOKENS.validate,
    opening: (mode) => `${pairs.length} pairs from ${flags.input} · ${llm.provider} ${llm.model} · ${mode}`,
  });
  if (!stage) return 0;
  const { run, results, manifest } = stage;

  // 3. `passed` is computed here, never trusted from the model.
  const validated = results.flatMap((v, i): ValidatedQAPair[] =>
    v
      ? [
          {
            qa_pair: pairs[i]!,
            validation: { ...v, passed: v.uses_source_fact && v.realistic_question && v.sensible_answer },
          },
        ]
      : [],
  );

  // 4. Write both artifacts.
  run.setWritten(await writeJsonl(flags.output, validated));
  const passing = validated.filter((v) => v.validation.passed).map((v) => v.qa_pair);
  await writeJsonl(passedFile, passing);
  const rates = passRates(
    validated.map((v) => v.validation),
    [...QA_CRITERIA, 'passed'],
  );
  run.log(rates.table);
  return run.finish({ pass_rates: rates.rates, passed: passing.length, ...manifest });
}

runIfMain(import.meta.url, '2_validate_qa.ts', SUMMARY, FLAGS, validateQa);
