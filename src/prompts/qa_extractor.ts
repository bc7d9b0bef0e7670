// Stage 1's prompt and answer schema: asks for exactly three grounded Q&A pairs about one chunk of the facts.
import { z } from '../zod.js';
import type { Chunk } from '../chunking.js';
import type { Domain } from '../domain.js';
import { QAPair } from '../schemas.js';

// What the model writes: the pair's own fields of QAPair. source_text and context are the chunk's own, set by code:
// the model never echoes them. Text is `min(1)` here, not the artifact's non-blank rule: the JSON Schema sent to the
// model stays the one resume keys were made with (a blank answer still fails QAPair before it is written).
export const QABatchOutput = z.object({
  qa_pairs: z
    .array(
      z.object({
        question: z.string().min(1),
        answer: z.string().min(1),
        difficulty: QAPair.shape.difficulty,
        categories: QAPair.shape.categories.unwrap(),
      }),
    )
    .length(3),
});
export type QABatchOutput = z.infer<typeof QABatchOutput>;

export const QA_BATCH_SCHEMA_NAME = 'qa_batch';

export function qaExtractionPrompt(domain: Domain, chunk: Chunk): { system: string; prompt: string } {
  const system = `You write high-quality, diverse question-answer pairs about ${domain.name} for training an AI assistant. ${domain.description}`;
  const prompt = `Write EXACTLY 3 different question-answer pairs grounded in the MAIN TEXT below.

The MAIN TEXT is what the pairs are about. The context lines around it only help you understand the topic; do not
base answers on facts that appear only in the context.
${chunk.section ? `\nSection: ${chunk.section}\n` : ''}
CONTEXT BEFORE:
${chunk.context_before || '(none)'}

Source text:
${chunk.source_text}

CONTEXT AFTER:
${chunk.context_after || '(none)'}

Each question:
1. sounds like a real person asking (a customer, a partner, a colleague), not a quiz;
2. is clearly answerable from the MAIN TEXT, specific rather than broad;
3. differs from the other two in type — factual ("What is…", "When…"), how-to ("How do I…"), comparison ("What's the
   difference…"), explanation ("Why…", "What does … mean?"), practical ("Can I…", "Is it possible…");
4. avoids one-word answers and repeated phrasings.

Each answer:
1. states only what the MAIN TEXT supports — no invented numbers, names, dates or features;
2. is complete and helpful, professional but friendly, with specific details where the text has them;
3. varies in length and structure across the three pairs.

For each pair also give:
- difficulty: basic (simple recall), intermediate (needs understanding) or advanced (technical or multi-part);
- categories: the topics it covers, preferably from: ${domain.topics.join(', ')}.`;
  return { system, prompt };
}
