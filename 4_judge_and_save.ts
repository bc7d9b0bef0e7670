/**
 * Stage 4 — judge conversations.
 *
 * Reads output/conversations_raw.jsonl, shows the model the source fact lines (verbatim, with context) and Q&A pairs
 * of each conversation and asks for a verdict per assistant turn (supported by the facts, or the unsupported claim)
 * and three yes/no questions (natural, on topic, adds value); computes `factually_accurate` as every turn supported
 * (an answer with the wrong number of turns is asked for again) and `overall_pass` as all four, writes every judged conversation to
 * output/conversations_judged.jsonl, prints each criterion's pass rate, and — as the original did — writes the first
 * top-K passing conversations in training format to output/conversations_final.jsonl (stage 7 rewrites that file
 * after deduplication).
 *
 *   npx tsx 4_judge_and_save.ts [--input PATH] [--output PATH] [--top-k N] [--concurrency N] [--dry-run] …
 */
import { assistantTurns, checkTurnVerdicts, JUDGMENT_SCHEMA_NAME, JudgmentOutput, judgePrompt } from './src/agents/conversation_judge.js';
import { isMain, parseFlags, runCli, usageText, type Flags } from './src/cli.js';
import { DEFAULT_DOMAIN, PARAMS, PATHS, STAGES } from './src/config.js';
import { domainFilePath, loadDomain } from './src/domain.js';
import { assertSameDomain } from './src/domain_checks.js';
import { openLlmStage, runLlmCalls } from './src/llm_stage.js';
import { dryRun } from './src/dry_run.js';
import { readJsonl, writeJsonl } from './src/jsonl.js';
import type { StructuredCall } from './src/llm/structured.js';
import { OUTPUT_TOKENS } from './src/output_estimate.js';
import { passRates } from './src/pass_rates.js';
import { Conversation, JUDGE_CRITERIA, type JudgedConversation } from './src/schemas.js';
import { concurrencyFlag, ioFlags, LLM_FLAGS, resolveModel, resolveProvider, resolveThinking, RUN_FLAGS } from './src/stage_flags.js';

export const FLAGS = {
  ...ioFlags(PATHS.conversationsRaw, PATHS.conversationsJudged),
  final: { kind: 'string', help: 'training-format file of the passing conversations', default: PATHS.conversationsFinal },
  'top-k': { kind: 'int', help: 'passing conversations written to --final', default: PARAMS.topK, min: 1 },
  ...concurrencyFlag(STAGES.judge.concurrency),
  ...LLM_FLAGS,
  ...RUN_FLAGS,
} as const;

const SUMMARY = 'Stage 4: judge each conversation with a yes/no rubric → conversations_judged.jsonl (+ top-K passing → conversations_final.jsonl)';

export async function judgeConversations(flags: Flags<typeof FLAGS>): Promise<number> {
  const provider = resolveProvider(flags.provider);
  const model = resolveModel(STAGES.judge, provider, flags.model);
  const thinking = resolveThinking(STAGES.judge, provider, model, flags.thinking);
  const domain = loadDomain(flags.domain, DEFAULT_DOMAIN);
  // Free, before any call: pairs or conversations made for another company must not be paid for again under this one.
  assertSameDomain(flags.input, domain, domainFilePath(flags.domain, DEFAULT_DOMAIN));

  // 1. Read the conversations.
  const conversations = await readJsonl(flags.input, Conversation, { missingHint: 'run stage 3 first: npx tsx 3_generate_conversations.ts' });
  const calls = conversations.map((conversation, i) => {
    const { system, prompt } = judgePrompt(domain, conversation);
    const call: StructuredCall<JudgmentOutput> = {
      request: { model, system, prompt, schema: JudgmentOutput, schemaName: JUDGMENT_SCHEMA_NAME, temperature: STAGES.judge.temperature, thinking },
      check: (out) => checkTurnVerdicts(out.assistant_turns, assistantTurns(conversation)),
    };
    return { id: `conversation-${i}`, call };
  });
  if (flags['dry-run']) {
    dryRun('judge', provider, model, flags.output, calls.map((c) => c.call), (i) => OUTPUT_TOKENS.judge(assistantTurns(conversations[i]!)), { batch: flags.batch, fresh: flags.fresh });
    return 0;
  }

  // 2. Judge them.
  const stage = openLlmStage(flags, {
    stage: 'judge',
    why: 'stage 4 asks the model to judge conversations',
    artifact: flags.output,
    inputs: [flags.input],
    outputs: { final: flags.final },
    provider,
    model,
    temperature: STAGES.judge.temperature,
    thinking,
    settings: { top_k: flags['top-k'], domain: domain.name },
  });
  const { run } = stage;
  run.counts.read = conversations.length;
  run.log(`judge: ${conversations.length} conversations from ${flags.input} · ${provider} ${model} · ${stage.mode}`);
  const { results, manifest } = await runLlmCalls(stage, 'judge', provider, calls, { batch: flags.batch });

  // 3. factually_accurate (every assistant turn supported) and overall_pass are computed here, never trusted.
  const judged: JudgedConversation[] = [];
  results.forEach((j, i) => {
    if (!j) return;
    const { assistant_turns: turn_verdicts, ...rubric } = j;
    const factually_accurate = turn_verdicts.every((t) => t.supported);
    const overall_pass = factually_accurate && j.natural_conversation && j.on_topic && j.adds_value;
    judged.push({ conversation: conversations[i]!, judgment: { factually_accurate, ...rubric, overall_pass, turn_verdicts } });
  });

  // 4. Write all judged conversations, and the first top-K passing ones in training format.
  run.counts.written = await writeJsonl(flags.output, judged);
  const passing = judged.filter((j) => j.judgment.overall_pass);
  await writeJsonl(flags.final, passing.slice(0, flags['top-k']).map((j) => ({ messages: j.conversation.messages })));
  const rates = passRates(judged.map((j) => j.judgment), [...JUDGE_CRITERIA, 'overall_pass']);
  run.log(rates.table);
  run.log(`top ${Math.min(flags['top-k'], passing.length)} passing conversations written to ${flags.final}`);
  return run.finish({ pass_rates: rates.rates, passing: passing.length, ...manifest });
}

if (isMain(import.meta.url)) {
  void runCli(async () => {
    const flags = parseFlags(process.argv.slice(2), FLAGS, usageText('4_judge_and_save.ts', SUMMARY, FLAGS));
    return flags ? judgeConversations(flags) : 0;
  });
}
