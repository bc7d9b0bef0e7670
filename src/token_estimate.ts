// How many tokens a text is, where no tokenizer answers: the one place the pipeline's token rule of thumb lives.

/** Four characters a token: the usual rule for English in both providers' tokenizers (the prompts are sized the same way). */
export const CHARS_PER_TOKEN = 4;

/** The estimated tokens of a text, or of several texts together. */
export function tokensOf(text: string | readonly string[]): number {
  const chars = typeof text === 'string' ? text.length : text.reduce((n, t) => n + t.length, 0);
  return Math.ceil(chars / CHARS_PER_TOKEN);
}
