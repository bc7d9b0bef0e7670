// A row of the final training file in any of stage 7's export formats, and its messages with their roles back.
import { z } from '../zod.js';
import { Message, TrainingExample } from '../schemas.js';

// Stage 7 may write any export format; stats only needs to know each line is one of them.
export const FinalRow = z.union([
  TrainingExample,
  z.array(Message).min(1),
  z.object({ conversations: z.array(z.object({ from: z.string(), value: z.string() })).min(1) }),
]);
export type FinalRow = z.infer<typeof FinalRow>;

const SHAREGPT_ROLES: Record<string, Message['role']> = { system: 'system', human: 'user', gpt: 'assistant' };

/**
 * The messages of a final row. A nanochat row with `--system merge` carries the system prompt inside its first user
 * message: that is what the trainer sees, so it is what the row says.
 */
export function finalRowMessages(row: FinalRow): Array<{ role: string; content: string }> {
  if (Array.isArray(row)) return row;
  if ('messages' in row) return row.messages;
  return row.conversations.map((c) => ({ role: SHAREGPT_ROLES[c.from] ?? c.from, content: c.value }));
}

/** A row of stage 7's `conversations_final.selected.jsonl`: which deduplicated row a final row is, and its facts. */
export const SelectedRow = z.object({ index: z.number().int().min(0), fact_ids: z.array(z.string()) });
