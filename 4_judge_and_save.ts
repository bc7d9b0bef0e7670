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
import { runIfMain, type Flags } from './src/cli.js';
import { DEFAULT_DOMAIN, PARAMS, STAGES } from './src/config.js';
import { domainFilePath } from './src/domain.js';
import { assertSameDomain } from './src/domain_checks.js';
import { readJsonl, writeJsonl } from './src/io/jsonl.js';
import { PATHS } from './src/pipeline.js';
import {
  assistantTurns,
  checkTurnVerdicts,
  JUDGMENT_SCHEMA_NAME,
  JudgmentOutput,
  judgePrompt,
} from './src/prompts/conversation_judge.js';
import { Conversation, JUDGE_CRITERIA, type JudgedConversation, type Judgment } from './src/schemas.js';
import { buildOnDemand } from './src/stage/call_list.js';
import { llmStageFlagSet } from './src/stage/flags.js';
import type { ChatProvider } from './src/llm/types.js';
import { resolveLlmSettings, runLlmStage, structuredCall } from './src/stage/llm_stage.js';
import { OUTPUT_TOKENS } from './src/stage/output_estimate.js';
import { passRates } from './src/stage/pass_rates.js';

export const FLAGS = llmStageFlagSet(STAGES.judge, [PATHS.conversationsRaw, PATHS.conversationsJudged], {
  final: {
    kind: 'string',
    help: 'training-format file of the passing conversations',
    default: PATHS.conversationsFinal,
  },
  'top-k': { kind: 'int', help: 'passing conversations written to --final', default: PARAMS.topK, min: 1 },
});

const SUMMARY =
  'Stage 4: judge each conversation with a yes/no rubric → conversations_judged.jsonl (+ top-K passing → conversations_final.jsonl)';

/** `client`: the model to call instead of the provider's API (unit tests pass a recording fake). */
export async function judgeConversations(flags: Flags<typeof FLAGS>, client?: ChatProvider): Promise<number> {
  const llm = { ...resolveLlmSettings('judge', flags), client };
  // Free, before any call: pairs or conversations made for another company must not be paid for again under this one.
  assertSameDomain(flags.input, llm.domain, domainFilePath(flags.domain, DEFAULT_DOMAIN));

  // 1. Read the conversations.
  const conversations = await readJsonl(flags.input, Conversation, {
    missingHint: 'run stage 3 first: npx tsx 3_generate_conversations.ts',
  });
  const output = { schema: JudgmentOutput, schemaName: JUDGMENT_SCHEMA_NAME };
  // Each prompt is built when it is needed and not held (the conversations are, for the rows).
  const calls = buildOnDemand(conversations.length, (i) => {
    const conversation = conversations[i]!;
    return {
      id: `conversation-${i}`,
      call: structuredCall(llm, judgePrompt(llm.domain, conversation), output, (out) =>
        checkTurnVerdicts(out.assistant_turns, assistantTurns(conversation)),
      ),
    };
  });

  // 2. Judge them, each judged conversation written as its verdict comes (with --dry-run: estimate, and stop).
  // factually_accurate (every assistant turn supported) and overall_pass are computed here, never trusted. Only
  // the verdicts and the first top-K passing conversations are held for the end.
  const judgments: Judgment[] = [];
  const top: Array<Pick<Conversation, 'messages'>> = [];
  const stage = await runLlmStage(flags, llm, calls, {
    artifact: flags.output,
    inputs: [flags.input],
    outputs: { final: flags.final },
    settings: { top_k: flags['top-k'], domain: llm.domain.name },
    read: conversations.length,
    outputTokens: (i) => OUTPUT_TOKENS.judge(assistantTurns(conversations[i]!)),
    opening: (mode) =>
      `${conversations.length} conversations from ${flags.input} · ${llm.provider} ${llm.model} · ${mode}`,
    rows: (i, j): JudgedConversation[] => {
      const { assistant_turns: turn_verdicts, ...rubric } = j;
      const factually_accurate = turn_verdicts.every((t) => t.supported);
      const overall_pass = factually_accurate && j.natural_conversation && j.on_topic && j.adds_value;
      const judgment = { factually_accurate, ...rubric, overall_pass, turn_verdicts };
      judgments.push(judgment);
      if (overall_pass && top.length < flags['top-k']) top.push({ messages: conversations[i]!.messages });
      return [{ conversation: conversations[i]!, judgment }];
    },
  });
  if (!stage) return 0;
  const { run, manifest } = stage;

  // 3. The first top-K passing conversations in training format.
  await writeJsonl(flags.final, top);
  const passing = judgments.filter((j) => j.overall_pass).length;
  const rates = passRates(judgments, [...JUDGE_CRITERIA, 'overall_pass']);
  run.log(rates.table);
  run.log(`top ${top.length} passing conversations written to ${flags.final}`);
  return run.finish({ pass_rates: rates.rates, passing, ...manifest });
}

runIfMain(import.meta.url, '4_judge_and_save.ts', SUMMARY, FLAGS, judgeConversations);
