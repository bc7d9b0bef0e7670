// Estimates a whole run before it happens: stage 1's prompts are real, later stages' are built from stand-in
// answers of typical size, because their real inputs are the earlier stages' answers.
import { conversationPrompt } from '../prompts/conversation_generator.js';
import { judgePrompt } from '../prompts/conversation_judge.js';
import { qaExtractionPrompt, QABatchOutput } from '../prompts/qa_extractor.js';
import { qaValidationPrompt } from '../prompts/qa_validator.js';
import type { Chunk } from '../chunking.js';
import { PARAMS, STAGES } from '../config.js';
import type { Provider } from '../llm/providers.js';
import type { Domain } from '../domain.js';
import { estimateCalls, type DryRunEstimate } from './dry_run.js';
import type { ChatRequest } from '../llm/types.js';
import { OUTPUT_TOKENS, TYPICAL_CHARS, typicalMessages } from './output_estimate.js';
import { conversationTarget, planConversations } from '../sampling.js';
import { resolveModel } from './flags.js';
import type { Conversation, QAPair } from '../schemas.js';

export interface StageEstimate extends DryRunEstimate {
  stage: string;
  model: string;
}

function request(prompt: { system: string; prompt: string }, model: string): { request: ChatRequest } {
  return { request: { model, ...prompt, schema: QABatchOutput, schemaName: '', temperature: 0 } };
}

export function estimateRun(
  chunks: Chunk[],
  domain: Domain,
  numConversations: number,
  models: Record<'extract' | 'validate' | 'generate' | 'judge', string>,
  passRate = 0.85,
): StageEstimate[] {
  const extract = chunks.map((c) => request(qaExtractionPrompt(domain, c), models.extract));
  const pairs: QAPair[] = chunks.flatMap((c) =>
    Array.from({ length: PARAMS.pairsPerChunk }, () => ({
      question: 'q'.repeat(TYPICAL_CHARS.question),
      answer: 'a'.repeat(TYPICAL_CHARS.answer),
      source_text: c.source_text,
      context_before: c.context_before,
      context_after: c.context_after,
      difficulty: 'basic' as const,
      categories: ['features'],
    })),
  );
  const validate = pairs.map((p) => request(qaValidationPrompt(domain, p), models.validate));
  const passing = pairs.slice(0, Math.round(pairs.length * passRate));
  const plans = planConversations(
    conversationTarget(numConversations, passing.length, PARAMS.conversationsPerQa),
    passing,
    domain,
    PARAMS.seed,
  );
  const generate = plans.map((plan) =>
    request(
      conversationPrompt(
        domain,
        plan.config,
        plan.qaIds.map((i) => passing[i]!),
      ),
      models.generate,
    ),
  );
  const judge = plans.map((plan) => {
    const conversation: Conversation = {
      messages: [
        { role: 'system', content: plan.config.system_prompt.template },
        ...typicalMessages(plan.config.num_turns),
      ],
      metadata: {
        num_turns: plan.config.num_turns,
        style: plan.config.style,
        user_persona: plan.config.persona.name,
        user_emotion: 'professional',
        input_modality: 'standard',
        text_variation: 'standard',
        source_qa_ids: plan.qaIds,
        difficulty: 'basic',
        categories: [],
      },
      source_qa_pairs: plan.qaIds.map((i) => passing[i]!),
    };
    return request(judgePrompt(domain, conversation), models.judge);
  });
  return [
    { stage: 'extract_qa', model: models.extract, ...estimateCalls(extract, OUTPUT_TOKENS.extract, models.extract) },
    {
      stage: 'validate_qa',
      model: models.validate,
      ...estimateCalls(validate, OUTPUT_TOKENS.validate, models.validate),
    },
    {
      stage: 'generate_conversations',
      model: models.generate,
      ...estimateCalls(generate, (i) => OUTPUT_TOKENS.generate(plans[i]!.config.num_turns), models.generate),
    },
    {
      stage: 'judge',
      model: models.judge,
      ...estimateCalls(judge, (i) => OUTPUT_TOKENS.judge(plans[i]!.config.num_turns), models.judge),
    },
  ];
}

export function defaultModels(provider: Provider): Record<'extract' | 'validate' | 'generate' | 'judge', string> {
  const pick = (s: keyof typeof STAGES) => resolveModel(STAGES[s], provider, undefined);
  return { extract: pick('extract'), validate: pick('validate'), generate: pick('generate'), judge: pick('judge') };
}
