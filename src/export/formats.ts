// Turns a pipeline conversation into one training row for the chosen trainer format (messages, nanochat, sharegpt,
// openai, axolotl).

export type Role = 'system' | 'user' | 'assistant';
export type Message = { role: Role; content: string };

export const EXPORT_FORMATS = ['messages', 'nanochat', 'sharegpt', 'openai', 'axolotl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * Which trainer reads each format and the rule set `checkExportRow` applies, for `--format` help. Only nanochat has no
 * place for a system message (CustomJSON wants user first), so only nanochat takes `--system merge|drop`; the others
 * keep the system message as their first turn.
 */
export const FORMAT_RULES: Record<ExportFormat, string> = {
  messages: 'TRL SFTTrainer {"messages"}: system only first, user/assistant alternate, last is assistant',
  nanochat: 'nanochat CustomJSON bare array: user first, strict alternation, string content, last is assistant',
  sharegpt:
    'LLaMA-Factory sharegpt {"conversations": from/value}: system only first, human/gpt alternate, ends with gpt',
  openai:
    'OpenAI fine-tuning {"messages"}: keys role/content only, non-empty content, an assistant turn, ≥ 10 rows, plus the messages rules',
  axolotl:
    'Axolotl type: chat_template {"messages"} (field_messages default): roles system/user/assistant, the messages rules',
};

/** Formats whose rows carry the system message as it is; `--system drop` would silently do nothing with them. */
export function keepsSystem(format: ExportFormat): boolean {
  return format !== 'nanochat';
}

export const SYSTEM_MODES = ['merge', 'drop'] as const;
export type SystemMode = (typeof SYSTEM_MODES)[number];

export type ExportOptions = { system?: SystemMode };

const SHAREGPT_FROM = { system: 'system', user: 'human', assistant: 'gpt' } as const;

/**
 * The message list nanochat trains on, with the leading system prompt merged into the first user turn or dropped.
 *
 * The merge is the same surgery nanochat's tokenizer does itself: `RustBPETokenizer.render_conversation` in
 * karpathy/nanochat `nanochat/tokenizer.py` (read at commit 952ea51) does
 *   `messages[1]["content"] = messages[0]["content"] + "\n\n" + messages[1]["content"]; messages = messages[1:]`
 * after asserting "System message must be followed by a user message". We do it at export time because
 * `tasks/customjson.py` (`class CustomJSON`, karpathy/nanochat at 6383d5d; same in the kungfuai/CVlization copy)
 * asserts message 0 is from the user before render_conversation ever sees the row.
 *
 * A leading system message that is not followed by a user message is left in place on purpose, so that
 * `checkExportRow` reports the row instead of this function guessing where the prompt should go.
 */
export function nanochatMessages(messages: readonly Message[], system: SystemMode): Message[] {
  const copy = messages.map(({ role, content }) => ({ role, content }));
  const [first, second] = copy;
  if (first?.role !== 'system' || second?.role !== 'user') return copy;
  if (system === 'drop') return copy.slice(1);
  return [{ role: 'user', content: `${first.content}\n\n${second.content}` }, ...copy.slice(2)];
}

/**
 * One JSONL row (to be written with JSON.stringify) in the given format. It maps and never judges:
 * pass the result to `checkExportRow` to learn whether the target loader will accept it.
 */
export function toExportRow(messages: readonly Message[], format: ExportFormat, opts: ExportOptions = {}): unknown {
  const system = opts.system ?? 'merge';
  switch (format) {
    case 'messages':
    case 'openai':
    case 'axolotl':
      // Same shape the Python original wrote; the system message stays first. TRL, the OpenAI fine-tuning API and
      // Axolotl's chat_template (field_messages: messages, role/content) all read it; their rules differ.
      return { messages: messages.map(({ role, content }) => ({ role, content })) };
    case 'nanochat':
      // CustomJSON wants a bare JSON array per line, not an object.
      return nanochatMessages(messages, system);
    case 'sharegpt':
      return { conversations: messages.map(({ role, content }) => ({ from: SHAREGPT_FROM[role], value: content })) };
    default:
      throw new TypeError(`Expected format to be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
}
