// Stage 3's prompt and answer schema: one multi-turn conversation from sampled Q&A pairs, every sampled dimension in it.
import { z } from '../zod.js';
import type { Domain } from '../domain.js';
import type { ConversationConfig } from '../sampling.js';
import type { QAPair } from '../schemas.js';

// The model writes only the user/assistant exchange; the system message is the sampled template, added by code,
// and the metadata is the sample itself — never trusted from the model.
export const ConversationOutput = z.object({
  messages: z.array(z.object({ role: z.enum(['user', 'assistant']), content: z.string().min(1) })).min(2),
});
export type ConversationOutput = z.infer<typeof ConversationOutput>;

export const CONVERSATION_SCHEMA_NAME = 'conversation';

export const STYLE_DESCRIPTIONS = {
  formal: 'Professional language, complete sentences, no slang.',
  casual: 'Friendly tone, contractions welcome, conversational.',
  technical: 'Uses technical terminology and assumes some expertise.',
};

export const EMOTION_DESCRIPTIONS = {
  professional: 'Neutral, business-like tone; clear questions.',
  happy: 'Positive and enthusiastic; may express excitement about what they learn.',
  frustrated: 'Dealing with a problem; shows mild annoyance or urgency.',
  impatient: 'Wants quick, direct answers; brief messages, skips pleasantries.',
  confused: 'Unsure about concepts; asks for clarification or examples.',
};

export const MODALITY_DESCRIPTIONS = {
  standard: 'Typed on a computer: clean text, normal formatting.',
  typed_on_phone: 'Typed on a phone: short messages, abbreviations, the odd autocorrect slip.',
  voice_dictated:
    'Dictated by voice: filler words such as "um" or "so", run-on spoken phrasing, an occasional transcription slip.',
};

export const VARIATION_DESCRIPTIONS = {
  standard: 'Normal capitalisation and punctuation.',
  all_lowercase: 'The user writes everything in lowercase.',
  no_punctuation: 'The user leaves out most punctuation.',
};

/** Exactly `turns` user messages, strictly alternating from the user, ending with the assistant. */
export function checkRoles(messages: Array<{ role: string }>, turns: number): string | undefined {
  if (messages.length !== turns * 2)
    return `expected ${turns} user and ${turns} assistant messages (${turns * 2} in all), got ${messages.length}`;
  for (let i = 0; i < messages.length; i++) {
    const expected = i % 2 === 0 ? 'user' : 'assistant';
    if (messages[i]!.role !== expected)
      return `message ${i + 1} must be from the ${expected}, got ${messages[i]!.role} (the conversation alternates user/assistant, starting with the user)`;
  }
  return undefined;
}

export function formatQaPairs(pairs: QAPair[]): string {
  return pairs.map((qa) => `Q: ${qa.question}\nA: ${qa.answer}\nCategories: ${qa.categories.join(', ')}`).join('\n\n');
}

export function conversationPrompt(
  domain: Domain,
  config: ConversationConfig,
  pairs: QAPair[],
): { system: string; prompt: string } {
  const system = `You write natural, realistic conversations between a user and an AI assistant about ${domain.name}, used to train that assistant.`;
  const turns = config.num_turns;
  const prompt = `Write a conversation between a user and the AI assistant of ${domain.name}.

CONFIGURATION:
- Number of turns: ${turns} (exactly ${turns} user message${turns > 1 ? 's' : ''}, each answered by the assistant)
- Conversation style: ${config.style} — ${STYLE_DESCRIPTIONS[config.style]}
- User persona: ${config.persona.name} — ${config.persona.description}
- User emotion: ${config.user_emotion} — ${EMOTION_DESCRIPTIONS[config.user_emotion]}
- Input modality: ${config.input_modality} — ${MODALITY_DESCRIPTIONS[config.input_modality]}
- Text variation of user messages: ${config.text_variation} — ${VARIATION_DESCRIPTIONS[config.text_variation]}
- The assistant's system prompt: ${config.system_prompt.template}

SOURCE Q&A PAIRS (the only facts the assistant may state):
${formatQaPairs(pairs)}

Rules:
1. Do not ask the Q&A questions verbatim: give the user a reason to ask ("I'm comparing options and…").
2. The assistant answers helpfully and accurately, using ONLY facts from the Q&A pairs; it does not invent numbers,
   names, dates or features. When asked something the pairs do not cover, it says so.
3. The assistant follows its system prompt (tone, verbosity) and the conversation follows the ${config.style} style.
4. The user's wording fits the persona, the emotion and the input modality above.
5. Follow-up questions build on earlier answers; weave related pairs together where it is natural.
6. Make it specific and concrete — it should teach something real about ${domain.name}.

Return only the messages, alternating user and assistant, starting with the user and ending with the assistant.`;
  return { system, prompt };
}
