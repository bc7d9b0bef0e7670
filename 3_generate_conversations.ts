/**
 * Stage 3 — generate conversations.
 *
 * Reads the passing Q&A pairs (output/qa_pairs_validated_passed.jsonl), samples a configuration per conversation
 * (persona, style, emotion, input modality, text variation, turn count, system prompt; seeded, stratified over
 * persona × style), draws one Q&A pair per turn, and asks the model to write the conversation. Answers with the wrong
 * roles or turn count are asked for again. Metadata comes from the sample, the text variation is applied in code.
 * Writes output/conversations_raw.jsonl.
 *
 *   npx tsx 3_generate_conversations.ts [--num-conversations N] [--seed N] [--concurrency N] [--dry-run] …
 */
import { runIfMain, type Flags } from './src/cli.js';
import { DEFAULT_DOMAIN, PARAMS, STAGES } from './src/config.js';
import { domainFilePath } from './src/domain.js';
import { assertSameDomain } from './src/domain_checks.js';
import { readJsonl } from './src/io/jsonl.js';
import { PATHS } from './src/pipeline.js';
import {
  checkRoles,
  CONVERSATION_SCHEMA_NAME,
  ConversationOutput,
  conversationPrompt,
} from './src/prompts/conversation_generator.js';
import { MAX_SEED } from './src/random.js';
import { conversationTarget, planConversations, type ConversationPlan } from './src/sampling.js';
import { DIFFICULTIES, QAPair, type Conversation } from './src/schemas.js';
import { buildOnDemand } from './src/stage/call_list.js';
import { llmStageFlagSet } from './src/stage/flags.js';
import type { ChatProvider } from './src/llm/types.js';
import { resolveLlmSettings, runLlmStage, structuredCall } from './src/stage/llm_stage.js';
import { OUTPUT_TOKENS } from './src/stage/output_estimate.js';
import { applyTextVariation } from './src/text_variation.js';

export const FLAGS = llmStageFlagSet(STAGES.generate, [PATHS.qaPassed, PATHS.conversationsRaw], {
  'num-conversations': {
    kind: 'int',
    help: `conversations to generate (capped at ${PARAMS.conversationsPerQa} per Q&A pair)`,
    default: PARAMS.numConversations,
    min: 1,
  },
  seed: { kind: 'int', help: 'random seed of the sampling', default: PARAMS.seed, min: 0, max: MAX_SEED },
});

const SUMMARY =
  'Stage 3: sample conversation configurations and write multi-turn conversations → conversations_raw.jsonl';

/** The conversation as stored: the sampled system prompt first, user messages varied in code, metadata from the plan. */
export function assembleConversation(
  plan: ConversationPlan,
  output: ConversationOutput,
  pairs: QAPair[],
): Conversation {
  const { config, qaIds } = plan;
  const sources = qaIds.map((i) => pairs[i]!);
  const hardest = Math.max(...sources.map((p) => DIFFICULTIES.indexOf(p.difficulty)));
  return {
    messages: [
      { role: 'system', content: config.system_prompt.template },
      ...output.messages.map((m) => ({
        role: m.role,
        content: m.role === 'user' ? applyTextVariation(m.content, config.text_variation) : m.content,
      })),
    ],
    metadata: {
      num_turns: config.num_turns,
      style: config.style,
      user_persona: config.persona.name,
      user_emotion: config.user_emotion,
      input_modality: config.input_modality,
      text_variation: config.text_variation,
      source_qa_ids: qaIds,
      difficulty: DIFFICULTIES[Math.max(0, hardest)]!,
      categories: [...new Set(sources.flatMap((p) => p.categories))],
      system_prompt: config.system_prompt.name,
    },
    source_qa_pairs: sources,
  };
}

/** `client`: the model to call instead of the provider's API (unit tests pass a recording fake). */
export async function generateConversations(flags: Flags<typeof FLAGS>, client?: ChatProvider): Promise<number> {
  const llm = { ...resolveLlmSettings('generate', flags), client };
  const { domain } = llm;
  // Free, before any call: pairs or conversations made for another company must not be paid for again under this one.
  assertSameDomain(flags.input, llm.domain, domainFilePath(flags.domain, DEFAULT_DOMAIN));

  // 1. Read the passing pairs and decide how many conversations to write.
  const pairs = await readJsonl(flags.input, QAPair, { missingHint: 'run stage 2 first: npx tsx 2_validate_qa.ts' });
  const target = conversationTarget(flags['num-conversations'], pairs.length, PARAMS.conversationsPerQa);

  // 2. Sample every conversation up front (seeded), so each request — and its resume key — is the same on a re-run.
  const plans = planConversations(target, pairs, domain, flags.seed);
  const output = { schema: ConversationOutput, schemaName: CONVERSATION_SCHEMA_NAME };
  // Each prompt is built when it is needed, from its plan, and not held: at 100,000 conversations the prompts
  // were most of the stage's memory.
  const calls = buildOnDemand(plans.length, (i) => {
    const plan = plans[i]!;
    return {
      id: `conversation-${i}`,
      call: structuredCall(
        llm,
        conversationPrompt(
          domain,
          plan.config,
          plan.qaIds.map((id) => pairs[id]!),
        ),
        output,
        (out) => checkRoles(out.messages, plan.config.num_turns),
      ),
    };
  });

  // 3. Write the conversations as they come, in plan order (with --dry-run: estimate, and stop).
  let sample: Conversation | undefined;
  const stage = await runLlmStage(flags, llm, calls, {
    artifact: flags.output,
    inputs: [flags.input],
    settings: {
      seed: flags.seed,
      requested: flags['num-conversations'],
      target,
      qa_pairs: pairs.length,
      domain: domain.name,
    },
    read: target,
    outputTokens: (i) => OUTPUT_TOKENS.generate(plans[i]!.config.num_turns),
    opening: () =>
      `${target} conversations from ${pairs.length} Q&A pairs (requested ${flags['num-conversations']}) · seed ${flags.seed} · ${llm.provider} ${llm.model}`,
    rows: (i, out) => {
      const conversation = assembleConversation(plans[i]!, out, pairs);
      sample ??= conversation;
      return [conversation];
    },
  });
  if (!stage) return 0;
  const { run, manifest } = stage;
  if (sample)
    run.log(
      `sample (${sample.metadata.user_persona}, ${sample.metadata.style}, ${sample.metadata.num_turns} turns):\n${sample.messages.map((m) => `  ${m.role.toUpperCase()}: ${m.content.slice(0, 160)}`).join('\n')}`,
    );
  return run.finish(manifest);
}

runIfMain(import.meta.url, '3_generate_conversations.ts', SUMMARY, FLAGS, generateConversations);
