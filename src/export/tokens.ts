// Estimates how many tokens nanochat spends on a conversation, to warn before its 2,048-token truncation.

import { countTokens as countBpe } from 'gpt-tokenizer/encoding/cl100k_base';
import { nanochatMessages, type Message, type SystemMode } from './formats.js';

/** render_conversation(conversation, max_tokens=2048) in nanochat/tokenizer.py cuts everything past this. */
export const NANOCHAT_MAX_TOKENS = 2048;

// nanochat encodes content with tiktoken's encode_ordinary, so text that looks like "<|endoftext|>" is plain text,
// not a special token; gpt-tokenizer throws on it unless nothing is disallowed.
const ORDINARY = { disallowedSpecial: new Set<string>() };

/**
 * Approximate length of the conversation as nanochat's `render_conversation` lays it out:
 * 1 <|bos|>, then per message <|user_start|>…<|user_end|> or <|assistant_start|>…<|assistant_end|>
 * (2 special tokens each) around the content tokens, after the leading system prompt is merged into the
 * first user turn with "\n\n" (the default) or dropped, matching the export's `system` mode.
 *
 * The approximation: content is counted with GPT-4's cl100k_base BPE (bundled in gpt-tokenizer, no download),
 * not nanochat's own tokenizer, which is trained per run (65,536 tokens by default) with GPT-4's split pattern
 * except that digits group in 1–2 rather than 1–3. A smaller vocabulary spends somewhat more tokens on the same
 * text, so treat counts near the limit as over it.
 */
export function countTokens(messages: readonly Message[], opts: { system?: SystemMode } = {}): number {
  const rendered = nanochatMessages(messages, opts.system ?? 'merge');
  let total = 1;
  for (const message of rendered) total += 2 + countBpe(message.content, ORDINARY);
  return total;
}

export type TokenStats = { min: number; p50: number; p90: number; p99: number; max: number; mean: number };

/** Percentiles by nearest rank (always a value that occurs). An empty list gives zeros, not NaN. */
export function tokenStats(counts: readonly number[]): TokenStats {
  if (counts.length === 0) return { min: 0, p50: 0, p90: 0, p99: 0, max: 0, mean: 0 };
  const sorted = [...counts].sort((a, b) => a - b);
  const rank = (p: number) => sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)];
  return {
    min: sorted[0],
    p50: rank(50),
    p90: rank(90),
    p99: rank(99),
    max: sorted[sorted.length - 1],
    mean: sorted.reduce((sum, n) => sum + n, 0) / sorted.length,
  };
}
