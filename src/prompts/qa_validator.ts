// Stage 2's prompt and answer schema: three yes/no checks of one Q&A pair against its source; `passed` is computed in code.
import type { z } from 'zod';
import type { Domain } from '../domain.js';
import { QAValidation, type QAPair } from '../schemas.js';

// The artifact's validation without `passed`, which code computes as all three.
export const QAValidationOutput = QAValidation.omit({ passed: true });
export type QAValidationOutput = z.infer<typeof QAValidationOutput>;

export const QA_VALIDATION_SCHEMA_NAME = 'qa_validation';

export function qaValidationPrompt(domain: Domain, pair: QAPair): { system: string; prompt: string } {
  // The rules come first and are the same for every pair, so the requests share a prefix that implicit prompt caching
  // can bill at the cached rate; the pair, which differs every time, closes the prompt.
  const system = `You validate training data about ${domain.name}. You are strict: when in doubt, fail the pair.

For each question-answer pair, answer three yes/no questions:

1. uses_source_fact — is every fact in the answer supported by the source text (and its context)? False on ANY
   invented, wrong or unsupported claim.
2. realistic_question — would a real person ask this, in these words? False if it is awkward, vague, templated or
   obviously machine-written.
3. sensible_answer — does the answer address exactly what was asked, completely and at a fitting level of detail?
   False if it is off-topic, cut off or inappropriate.

feedback: one or two sentences explaining the decision; name each failed criterion and why.`;
  const prompt = `Validate this question-answer pair about ${domain.name}.

Question: ${pair.question}

Answer: ${pair.answer}

${pair.section ? `Section: ${pair.section}\n\n` : ''}Source text: ${pair.source_text}

Context before: ${pair.context_before || '(none)'}

Context after: ${pair.context_after || '(none)'}`;
  return { system, prompt };
}
