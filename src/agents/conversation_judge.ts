// Stage 4's agent: a four-criterion yes/no rubric over one conversation; `overall_pass` is computed in code.
import { z } from 'zod';
import { conversationText } from '../conversation_text.js';
import type { Domain } from '../domain.js';
import type { Conversation } from '../schemas.js';

export const JudgmentOutput = z.object({
  factually_accurate: z.boolean(),
  natural_conversation: z.boolean(),
  on_topic: z.boolean(),
  adds_value: z.boolean(),
  feedback: z.string(),
  issues: z.array(z.string()),
});
export type JudgmentOutput = z.infer<typeof JudgmentOutput>;

export const JUDGMENT_SCHEMA_NAME = 'judgment';


export function judgePrompt(domain: Domain, conversation: Conversation): { system: string; prompt: string } {
  const sources = conversation.source_qa_pairs.length
    ? conversation.source_qa_pairs.map((qa) => `Q: ${qa.question}\nA: ${qa.answer}`).join('\n\n')
    : 'No source Q&A available';
  const system = `You evaluate the quality of training conversations for an AI assistant about ${domain.name}. You are strict and consistent.`;
  const prompt = `Evaluate this conversation about ${domain.name}.

CONVERSATION:
${conversationText(conversation.messages)}

SOURCE Q&A PAIRS (correct by definition — use them to verify every claim):
${sources}

Answer four yes/no questions:

1. factually_accurate — every fact the assistant states matches the source Q&A pairs; nothing is invented or
   contradicted. False on ANY unsupported detail.
2. natural_conversation — it reads like a real exchange: smooth flow, natural transitions, believable user. False if
   robotic, awkward or scripted.
3. on_topic — it is about ${domain.name} and would be useful for training its assistant. False if off-topic.
4. adds_value — it covers its topic in a specific, concrete way. False if generic, repetitive or trivially short.

feedback: one or two sentences explaining the judgment.
issues: the specific problems found (empty when there are none).`;
  return { system, prompt };
}
