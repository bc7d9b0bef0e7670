/**
 * Trial run — all seven stages on a small slice, to see the pipeline work (and what it costs) before a full run.
 *
 * Runs stages 1–7 on the first 10 chunks of the facts into output/trial_*.jsonl (the full run's names, prefixed
 * `trial_`), prints samples and the pass rate of every boolean criterion, checks every artifact against its schema,
 * and exits non-zero if any stage or check failed.
 *
 *   npx tsx trial_run.ts [--facts PATH] [--domain PATH] [--chunks N] [--num-conversations N] [--dry-run]
 *                        [--provider P] [--model NAME] [--rpm N] [--tpm N] [--concurrency N] [--batch] …
 */
import { extractQa, FLAGS as EXTRACT } from './1_extract_qa.js';
import { FLAGS as VALIDATE, validateQa } from './2_validate_qa.js';
import { FLAGS as GENERATE, generateConversations } from './3_generate_conversations.js';
import { FLAGS as JUDGE, judgeConversations } from './4_judge_and_save.js';
import { embedConversations, FLAGS as EMBED } from './5_embed_conversations.js';
import { deduplicate, FLAGS as DEDUP } from './6_deduplicate.js';
import { FLAGS as SELECT, selectTop } from './7_select_top.js';
import { parseFlags, runIfMain, type Flags, type FlagSpecs } from './src/cli.js';
import { DEFAULT_DOMAIN, DEFAULT_FACTS, PARAMS } from './src/config.js';
import { ARTIFACTS, artifactPaths, PIPELINE, type ArtifactName, type PipelineStageName } from './src/pipeline.js';
import { domainFilePath, loadDomain } from './src/domain.js';
import { assertFactsFitDomain } from './src/domain_checks.js';
import { ON_BAD_FILE, readSources, type OnBadFile } from './src/sources/read_sources.js';
import { DEFAULT_EMBEDDING_PROVIDER, keyFor, PROVIDER_CHOICES, PROVIDER_NAMES } from './src/llm/providers.js';
import { resolveProvider } from './src/stage/flags.js';
import { defaultModels, estimateRun } from './src/stage/trial_estimate.js';
import { formatTokens, formatUsd } from './src/usage_meter.js';
import { readJsonl } from './src/io/jsonl.js';
import { passRates } from './src/stage/pass_rates.js';
import { JUDGE_CRITERIA, JudgedConversation, QA_CRITERIA, ValidatedQAPair } from './src/schemas.js';

export const FLAGS = {
  facts: { kind: 'list', help: 'facts: markdown, text, HTML or PDF files, or folders of them', default: DEFAULT_FACTS },
  'on-bad-file': {
    kind: 'string',
    help: 'a facts file that cannot be read stops the run, or is skipped',
    choices: ON_BAD_FILE,
    default: 'stop',
  },
  input: { kind: 'list', help: 'the same as --facts (the name the stages use)' },
  domain: { kind: 'string', help: 'domain JSON (company, personas, system prompts)' },
  chunks: { kind: 'int', help: 'chunks of the facts to use', default: PARAMS.trialChunks, min: 1 },
  'num-conversations': {
    kind: 'int',
    help: `conversations to generate (capped at ${PARAMS.conversationsPerQa} per Q&A pair)`,
    default: PARAMS.numConversations,
    min: 1,
  },
  'output-dir': { kind: 'string', help: 'folder of the trial_* artifacts', default: 'output' },
  provider: { kind: 'string', help: `${PROVIDER_CHOICES} for the LLM stages`, choices: PROVIDER_NAMES },
  'embedding-provider': {
    kind: 'string',
    help: `${PROVIDER_CHOICES} for stage 5 (default: --provider, else $LLM_PROVIDER, else openai)`,
    choices: PROVIDER_NAMES,
  },
  model: { kind: 'string', value: 'NAME', help: "model of the LLM stages 1-4 (default: each stage's own)" },
  'embedding-model': {
    kind: 'string',
    value: 'NAME',
    help: "model of stage 5 (default: the provider's embedding model)",
  },
  rpm: { kind: 'int', help: 'requests per minute at most, per stage (your quota)', min: 1 },
  tpm: { kind: 'int', help: 'tokens per minute at most, per stage (your quota)', min: 1 },
  concurrency: { kind: 'int', help: "most requests in flight at once (default: each stage's own)", min: 1 },
  batch: { kind: 'boolean', help: 'stages 1-4 as provider batch jobs: half the price, answers within 24 h' },
  'max-failure-rate': {
    kind: 'number',
    help: 'share of items a stage may lose before the trial stops',
    min: 0,
    max: 1,
  },
  'dry-run': {
    kind: 'boolean',
    help: 'make no API call: estimate calls, tokens and cost of every stage, and show the first prompt',
  },
  quiet: { kind: 'boolean', help: 'no progress bars' },
  fresh: { kind: 'boolean', help: 'ignore finished items saved by an earlier trial' },
} as const satisfies FlagSpecs;

const SUMMARY =
  'Trial run: all seven stages on the first chunks of the facts → output/trial_*.jsonl, with quality statistics';

type Option = string | number | boolean | string[] | undefined;

function argv(options: Record<string, Option>): string[] {
  return Object.entries(options).flatMap(([k, v]) =>
    v === undefined || v === false
      ? []
      : v === true
        ? [`--${k}`]
        : Array.isArray(v)
          ? v.flatMap((x) => [`--${k}`, x])
          : [`--${k}`, String(v)],
  );
}

/** Parses a stage's flags the way its own script would, so defaults and checks are the stage's. */
function stageFlags<S extends FlagSpecs>(specs: S, options: Record<string, Option>): Flags<S> {
  return parseFlags(argv(options), specs, '')!;
}

function header(title: string): void {
  process.stdout.write(`\n${'='.repeat(78)}\n${title}\n${'='.repeat(78)}\n`);
}

export async function trialRun(flags: Flags<typeof FLAGS>): Promise<number> {
  const paths = artifactPaths('trial_', flags['output-dir']);
  const facts = flags.input ?? flags.facts;
  const common = {
    quiet: flags.quiet,
    fresh: flags.fresh,
    concurrency: flags.concurrency,
    'max-failure-rate': flags['max-failure-rate'],
  };
  const llm = {
    ...common,
    provider: flags.provider,
    domain: flags.domain,
    model: flags.model,
    rpm: flags.rpm,
    tpm: flags.tpm,
    batch: flags.batch,
  };
  // Stage 1's flags, the same for the dry run's estimate and the real run.
  const extract = { ...llm, facts, 'on-bad-file': flags['on-bad-file'], output: paths.qaPairs, limit: flags.chunks };
  const embeddingProvider = flags['embedding-provider'] ?? flags.provider;

  if (flags['dry-run']) {
    header('DRY RUN — no API call');
    const { chunks, text } = await readSources(facts, { onBadFile: flags['on-bad-file'] as OnBadFile });
    assertFactsFitDomain(domainFilePath(flags.domain, DEFAULT_DOMAIN), text, facts);
    const models = defaultModels(resolveProvider(flags.provider));
    if (flags.model) for (const stage of Object.keys(models) as Array<keyof typeof models>) models[stage] = flags.model;
    const estimates = estimateRun(
      chunks.slice(0, flags.chunks),
      loadDomain(flags.domain, DEFAULT_DOMAIN),
      flags['num-conversations'],
      models,
    );
    for (const e of estimates) {
      process.stdout.write(
        `${e.stage.padEnd(24)} ${String(e.calls).padStart(6)} calls  ${e.model.padEnd(24)} ~${formatTokens(e.inputTokens)} in / ~${formatTokens(e.outputTokens)} out  ~${e.costUsd === undefined ? '?' : formatUsd(e.costUsd)}\n`,
      );
    }
    const total = estimates.reduce((n, e) => n + (e.costUsd ?? 0), 0);
    process.stdout.write(
      `${'total'.padEnd(24)} ${String(estimates.reduce((n, e) => n + e.calls, 0)).padStart(6)} calls  ~${formatUsd(total)} (stages 2–4 assume typical answer sizes and an 85% Q&A pass rate; stage 5 costs cents)\n\n`,
    );
    return extractQa(stageFlags(EXTRACT, { ...extract, 'dry-run': true }));
  }

  // Both keys before stage 1: a placeholder OpenAI key must not be found at stage 5, after stages 1-4 were paid for.
  const chatProvider = resolveProvider(flags.provider);
  keyFor(chatProvider, 'stages 1-4 call the model');
  keyFor(resolveProvider(embeddingProvider, DEFAULT_EMBEDDING_PROVIDER), 'stage 5 embeds conversations');

  // How the trial calls each stage of the table (src/pipeline.ts): a missing or extra stage is a type error.
  const runStage: Record<PipelineStageName, () => Promise<number>> = {
    extract_qa: () => extractQa(stageFlags(EXTRACT, extract)),
    validate_qa: () =>
      validateQa(
        stageFlags(VALIDATE, { ...llm, input: paths.qaPairs, output: paths.qaValidated, passed: paths.qaPassed }),
      ),
    generate_conversations: () =>
      generateConversations(
        stageFlags(GENERATE, {
          ...llm,
          input: paths.qaPassed,
          output: paths.conversationsRaw,
          'num-conversations': flags['num-conversations'],
        }),
      ),
    judge: () =>
      judgeConversations(
        stageFlags(JUDGE, {
          ...llm,
          input: paths.conversationsRaw,
          output: paths.conversationsJudged,
          final: paths.conversationsFinal,
        }),
      ),
    embed: () =>
      embedConversations(
        stageFlags(EMBED, {
          ...common,
          provider: embeddingProvider,
          model: flags['embedding-model'],
          input: paths.conversationsJudged,
          output: paths.conversationsEmbedded,
        }),
      ),
    deduplicate: () =>
      deduplicate(
        stageFlags(DEDUP, {
          quiet: flags.quiet,
          input: paths.conversationsEmbedded,
          output: paths.conversationsDeduplicated,
        }),
      ),
    select_top: () =>
      selectTop(
        stageFlags(SELECT, {
          quiet: flags.quiet,
          input: paths.conversationsDeduplicated,
          output: paths.conversationsFinal,
        }),
      ),
  };
  for (const stage of PIPELINE) {
    const title = `STAGE ${stage.n}: ${stage.title}`;
    header(title);
    const code = await runStage[stage.name]();
    if (code !== 0) {
      process.stdout.write(
        `\n✗ ${title} did not finish cleanly (exit ${code}); fix the cause above and run the trial again — finished items are reused.\n`,
      );
      return code;
    }
  }

  // Quality statistics and samples.
  header('QUALITY');
  const validated = await readJsonl(paths.qaValidated, ValidatedQAPair);
  process.stdout.write(
    `Q&A validation (${validated.length} pairs)\n${
      passRates(
        validated.map((v) => v.validation),
        [...QA_CRITERIA, 'passed'],
      ).table
    }\n\n`,
  );
  const judged = await readJsonl(paths.conversationsJudged, JudgedConversation);
  process.stdout.write(
    `Conversation judging (${judged.length} conversations)\n${
      passRates(
        judged.map((j) => j.judgment),
        [...JUDGE_CRITERIA, 'overall_pass'],
      ).table
    }\n`,
  );
  const pass = judged.find((j) => j.judgment.overall_pass);
  const fail = judged.find((j) => !j.judgment.overall_pass);
  if (pass)
    process.stdout.write(
      `\nSample PASSING (${pass.conversation.metadata.user_persona}, ${pass.conversation.metadata.style}): ${pass.judgment.feedback}\n${pass.conversation.messages.map((m) => `  ${m.role.toUpperCase()}: ${m.content.slice(0, 160)}`).join('\n')}\n`,
    );
  if (fail) {
    const failed = JUDGE_CRITERIA.filter((c) => !fail.judgment[c]).join(', ');
    process.stdout.write(
      `\nSample FAILING (${failed}): ${fail.judgment.feedback}${fail.judgment.issues.length ? `\n  issues: ${fail.judgment.issues.join('; ')}` : ''}\n`,
    );
  }

  // Every artifact against its schema.
  header('OUTPUT FORMATS');
  let ok = true;
  for (const [artifact, { label: name, schema }] of Object.entries(ARTIFACTS) as Array<
    [ArtifactName, (typeof ARTIFACTS)[ArtifactName]]
  >) {
    const file = paths[artifact];
    try {
      const rows = await readJsonl(file, schema, { allowEmpty: true });
      process.stdout.write(`✓ ${name}: ${file} valid (${rows.length} rows)\n`);
    } catch (error) {
      ok = false;
      process.stdout.write(`✗ ${name}: ${(error as Error).message}\n`);
    }
  }
  header(ok ? 'TRIAL RUN COMPLETE' : 'TRIAL RUN FAILED: an artifact does not match its schema');
  return ok ? 0 : 1;
}

runIfMain(import.meta.url, 'trial_run.ts', SUMMARY, FLAGS, trialRun);
