// Text variations applied to user messages in code.
import { describe, expect, it } from 'vitest';
import { applyTextVariation } from '../src/text_variation.js';

const TEXT = 'Hi! Does Swap ship to Canada? The site swap-commerce.com says 2.5% fees, right?';

describe('applyTextVariation', () => {
  it('standard leaves the text untouched', () => {
    expect(applyTextVariation(TEXT, 'standard')).toBe(TEXT);
    expect(applyTextVariation('  Spaces,  kept.  ', 'standard')).toBe('  Spaces,  kept.  ');
  });

  it('all_lowercase lowercases everything and keeps punctuation', () => {
    expect(applyTextVariation(TEXT, 'all_lowercase')).toBe(
      'hi! does swap ship to canada? the site swap-commerce.com says 2.5% fees, right?',
    );
    expect(applyTextVariation('ÉTÉ in İSTANBUL', 'all_lowercase')).toBe('ÉTÉ in İSTANBUL'.toLowerCase());
  });

  it('no_punctuation drops sentence punctuation but keeps swap-commerce.com and 2.5', () => {
    expect(applyTextVariation(TEXT, 'no_punctuation')).toBe(
      'Hi Does Swap ship to Canada The site swap-commerce.com says 2.5% fees right',
    );
  });

  it('no_punctuation keeps case, and handles runs and line breaks', () => {
    expect(applyTextVariation('Wait... really?!\nYes: 1,000 orders; ok.', 'no_punctuation')).toBe(
      'Wait really\nYes 1,000 orders ok',
    );
    expect(applyTextVariation('¿Qué tal? ¡Bien!', 'no_punctuation')).toBe('Qué tal Bien');
  });
});
