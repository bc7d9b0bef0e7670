// Applies the sampled text variation to user messages in code, so the data shows it whatever the model wrote.
import type { TextVariationName } from './sampling.js';

// Sentence punctuation only: dots inside tokens (swap-commerce.com, 2.5) carry meaning and stay.
const SENTENCE_PUNCTUATION = /[.,!?;:]+(?=\s|$)|[¡¿]/g;

export function applyTextVariation(text: string, variation: TextVariationName): string {
  if (variation === 'all_lowercase') return text.toLowerCase();
  if (variation === 'no_punctuation')
    return text
      .replace(SENTENCE_PUNCTUATION, '')
      .replace(/[ \t]{2,}/g, ' ')
      .trim();
  return text;
}
