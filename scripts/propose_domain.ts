/**
 * Propose domain — describe another company from its own facts, for the user to read and edit before a run.
 *
 * Reads the facts (the same inputs as stage 1: files or folders of markdown, text, HTML and PDF), asks the model
 * ONCE for the company's name and description, 4–8 personas, 3–6 system prompts and the topics that become the Q&A
 * categories, checks the answer against the domain file's schema, and writes data/domain.json atomically. An
 * existing file is never replaced without --force. Same provider, key, model check and retries as the stages.
 *
 *   npx tsx scripts/propose_domain.ts [--input FACTS] [--output data/domain.json] [--force] [--dry-run] …
 */
import { existsSync } from 'node:fs';
import { runIfMain, type Flags } from '../src/cli.js';
import { DEFAULT_DOMAIN, DEFAULT_FACTS, STAGES, type LlmStageDefaults } from '../src/config.js';
import {
  assertMayWrite,
  DOMAIN_SCHEMA_NAME,
  domainProposalPrompt,
  factsForProposal,
  PROPOSAL_OUTPUT_TOKENS,
  proposalCheck,
  ProposedDomain,
  writeDomainFile,
} from '../src/domain_proposal.js';
import { dryRun } from '../src/stage/dry_run.js';
import type { StructuredCall } from '../src/llm/structured.js';
import { openLlmStage, runLlmCalls } from '../src/stage/llm_stage.js';
import { ON_BAD_FILE, readSources, type OnBadFile } from '../src/sources/read_sources.js';
import { LLM_FLAGS, resolveModel, resolveProvider, resolveThinking, RUN_FLAGS } from '../src/stage/flags.js';

// Stage 1's model (and MODEL_EXTRACT): it reads the same facts. A low temperature, as the answer is a description
// to be checked, not variety; 'low' thinking, as stage 3's, because one answer must keep many fields consistent.
const PROPOSE: LlmStageDefaults = { ...STAGES.extract, temperature: 0.3, concurrency: 1, thinking: 'low' };

export const FLAGS = {
  input: {
    kind: 'list',
    help: 'facts: markdown, text, HTML or PDF files, or folders of them (repeat or comma-separate)',
    default: DEFAULT_FACTS,
  },
  'on-bad-file': {
    kind: 'string',
    help: 'a facts file that cannot be read stops the run, or is skipped',
    choices: ON_BAD_FILE,
    default: 'stop',
  },
  output: { kind: 'string', help: 'the domain file to write', default: DEFAULT_DOMAIN },
  force: {
    kind: 'boolean',
    help: 'replace an existing --output (an answer saved by an earlier run is reused: add --fresh to ask again)',
  },
  provider: LLM_FLAGS.provider,
  model: { ...LLM_FLAGS.model, help: `model name (default: $MODEL_EXTRACT, else stage 1's default for the provider)` },
  thinking: LLM_FLAGS.thinking,
  rpm: LLM_FLAGS.rpm,
  tpm: LLM_FLAGS.tpm,
  'dry-run': {
    ...LLM_FLAGS['dry-run'],
    help: 'make no API call: print the request size, its estimated cost, and the prompt',
  },
  ...RUN_FLAGS,
} as const;

const SUMMARY =
  'Propose domain: one call that describes the company of the facts → data/domain.json (read and edit it before a run)';

export async function proposeDomain(flags: Flags<typeof FLAGS>): Promise<number> {
  const provider = resolveProvider(flags.provider);
  const model = resolveModel(PROPOSE, provider, flags.model);
  const thinking = resolveThinking(PROPOSE, provider, model, flags.thinking);
  // 1. Never over a file the user may have edited: refused before the facts are read or anything is paid for.
  if (!flags['dry-run']) assertMayWrite(flags.output, flags.force);

  // 2. The facts, as stage 1 reads them; very large ones are cut to their start.
  const sources = await readSources(flags.input, { onBadFile: flags['on-bad-file'] as OnBadFile });
  const files = sources.files.map((f) => f.file);
  const { facts, omitted } = factsForProposal(sources.text);
  const { system, prompt } = domainProposalPrompt(facts);
  const call: StructuredCall<ProposedDomain> = {
    request: {
      model,
      system,
      prompt,
      schema: ProposedDomain,
      schemaName: DOMAIN_SCHEMA_NAME,
      temperature: PROPOSE.temperature,
      thinking,
    },
    check: proposalCheck(facts),
  };
  const sent = `${facts.length} characters of facts from ${files.length > 1 ? `${files.length} files` : files[0]}${omitted ? ` (the last ${omitted} characters left out)` : ''}`;

  if (flags['dry-run']) {
    process.stdout.write(
      `propose_domain: would send ${sent}${existsSync(flags.output) && !flags.force ? ` · ${flags.output} exists: the real run needs --force` : ''}\n`,
    );
    dryRun('propose_domain', provider, model, flags.output, [call], PROPOSAL_OUTPUT_TOKENS, { fresh: flags.fresh });
    return 0;
  }

  // 3. The one call, through the stages' setup: key check, model look-up, retries with feedback, manifest.
  const stage = openLlmStage(
    { ...flags, concurrency: 1, 'max-failure-rate': 0 },
    {
      stage: 'propose_domain',
      why: 'propose_domain asks the model to describe the company of the facts',
      artifact: flags.output,
      inputs: files,
      provider,
      model,
      temperature: PROPOSE.temperature,
      thinking,
      settings: { facts_chars: facts.length, facts_omitted_chars: omitted },
    },
  );
  const { run } = stage;
  run.log(`propose_domain: ${sent} · ${provider} ${model}`);
  const { results } = await runLlmCalls(stage, 'propose', provider, [{ id: 'domain', call }]);
  run.setRead(1);

  // 4. Write it whole, and say what to read before paying for a run.
  const domain = results[0];
  if (domain) {
    assertMayWrite(flags.output, flags.force);
    writeDomainFile(flags.output, domain);
    run.setWritten(1);
    run.log(
      `${flags.output}: ${domain.name} · personas ${domain.personas.map((p) => p.name).join(', ')} · system prompts ${domain.system_prompts.map((s) => s.name).join(', ')} · topics ${domain.topics.join(', ')}`,
    );
    const args = [
      ...(flags.input.join() === DEFAULT_FACTS ? [] : [`--facts ${flags.input.join(',')}`]),
      ...(flags.output === DEFAULT_DOMAIN ? [] : [`--domain ${flags.output}`]),
    ];
    run.log(
      `read and edit it (README "Your own company in three commands"), then: make trial${args.length ? ` ARGS="${args.join(' ')}"` : ''}`,
    );
  }
  return run.finish();
}

runIfMain(import.meta.url, 'scripts/propose_domain.ts', SUMMARY, FLAGS, proposeDomain);
