// The metadata of a one-turn conversation, for tests that build conversations by hand.
import type { ConversationMetadata } from '../../src/schemas.js';

/** A one-turn, basic conversation's metadata in the standard modality and text; `overrides` replace fields. */
export function oneTurnMetadata(overrides: Partial<ConversationMetadata> = {}): ConversationMetadata {
  return {
    num_turns: 1,
    style: 'formal',
    user_persona: 'x',
    user_emotion: 'professional',
    input_modality: 'standard',
    text_variation: 'standard',
    source_qa_ids: [],
    difficulty: 'basic',
    categories: [],
    ...overrides,
  };
}
