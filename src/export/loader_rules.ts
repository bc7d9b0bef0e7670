// Re-implements each target trainer's load-time checks so a bad row is caught at export, not mid-training.

import { EXPORT_FORMATS, type ExportFormat } from './formats.js';

type Turn = { role: unknown; content: unknown };

/** What a format calls its list of turns, a turn's two fields and the user and assistant roles. */
interface TurnNames {
  field: string;
  role: string;
  content: string;
  user: string;
  assistant: string;
}

// Both formats call the system role "system".
const SYSTEM = 'system';
const TURN_NAMES = {
  messages: { field: 'messages', role: 'role', content: 'content', user: 'user', assistant: 'assistant' },
  sharegpt: { field: 'conversations', role: 'from', content: 'value', user: 'human', assistant: 'gpt' },
} as const satisfies Record<string, TurnNames>;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const describe = (value: unknown): string => (value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value);

/**
 * nanochat `tasks/customjson.py` (`class CustomJSON`, karpathy/nanochat at 6383d5d; upstream deleted it in 950a1dc,
 * forks such as kungfuai/CVlization keep it). Its assertions, in its order and with its wording:
 * a list; at least 2 messages; each has 'role' and 'content'; message i is "user" when i is even, "assistant"
 * when odd; content is a str. So a leading system message is rejected here even though render_conversation
 * could merge it. Two rules are ours and stricter than CustomJSON: the last message must be from the assistant
 * (a trailing user turn is trained with mask 0, so it is dead weight), and content must not be blank.
 */
function checkNanochat(row: unknown): string | null {
  if (!Array.isArray(row)) return `Expected list of messages, got ${describe(row)}`;
  if (row.length < 2) return `Conversation must have at least 2 messages, got ${row.length}`;
  for (const [i, message] of row.entries()) {
    if (!isObject(message)) return `Message ${i} must be an object, got ${describe(message)}`;
    if (!('role' in message)) return `Message ${i} missing 'role' field`;
    if (!('content' in message)) return `Message ${i} missing 'content' field`;
    const expected = i % 2 === 0 ? 'user' : 'assistant';
    if (message.role !== expected) return `Message ${i} has role ${String(message.role)} but should be ${expected}`;
    if (typeof message.content !== 'string') return `Message ${i} content must be a string`;
    if (message.content.trim() === '') return `Message ${i} content is empty`;
  }
  // row.length ≥ 2 and roles alternate from "user", so an odd length means the last turn is the user's.
  if (row.length % 2 !== 0) return `Conversation must end with an assistant message, got user`;
  return null;
}

/**
 * Shared rule for role/content-style lists with an optional leading system turn, in the shape LLaMA-Factory's
 * `SharegptDatasetConverter` / `OpenAIDatasetConverter` (hiyouga/LLaMA-Factory `src/llamafactory/data/converter.py`)
 * accept: system only as the first turn, then user/assistant alternating from the user ("Invalid role tag"),
 * and an even number of turns, i.e. ending with the assistant ("Invalid message count").
 */
function checkTurns(turns: readonly Turn[], names: TurnNames): string | null {
  const { field, role, content, user, assistant } = names;
  const allowed = [SYSTEM, user, assistant];
  let offset = 0;
  for (const [i, turn] of turns.entries()) {
    if (typeof turn.role !== 'string' || !allowed.includes(turn.role)) {
      return `${field}[${i}].${role} is ${JSON.stringify(turn.role)}; expected one of ${allowed.join(', ')}`;
    }
    if (typeof turn.content !== 'string')
      return `${field}[${i}].${content} must be a string, got ${describe(turn.content)}`;
    if (turn.role === SYSTEM) {
      if (i !== 0) return `${field}[${i}] is a ${SYSTEM} turn; ${SYSTEM} is allowed only as the first turn`;
      offset = 1;
      continue;
    }
    const expected = (i - offset) % 2 === 0 ? user : assistant;
    if (turn.role !== expected) return `${field}[${i}].${role} is ${turn.role} but should be ${expected}`;
  }
  const dialogue = turns.length - offset;
  if (dialogue === 0) return `${field} has no ${user}/${assistant} turns`;
  if (dialogue % 2 !== 0) return `${field} ends with a ${user} turn; the last turn must be ${assistant}`;
  return null;
}

/**
 * TRL's conversational format (huggingface.co/docs/trl/dataset_formats: `{"messages": [{"role", "content"}…]}`),
 * which SFTTrainer renders with the tokenizer's chat template. Many chat templates raise "Conversation roles must
 * alternate user/assistant/user/assistant/..." on anything else, so the turn rules above apply.
 */
function checkMessages(row: unknown): string | null {
  return checkTurnList(row, TURN_NAMES.messages);
}

/** A row that holds its turns, each an object, under `names.field`; the turn rules above apply to them. */
function checkTurnList(row: unknown, names: TurnNames): string | null {
  const list = isObject(row) ? row[names.field] : undefined;
  if (!Array.isArray(list)) return `Expected an object with a "${names.field}" array, got ${describe(row)}`;
  const turns: Turn[] = [];
  for (const [i, message] of list.entries()) {
    if (!isObject(message)) return `${names.field}[${i}] must be an object, got ${describe(message)}`;
    turns.push({ role: message[names.role], content: message[names.content] });
  }
  return checkTurns(turns, names);
}

// Keys the OpenAI cookbook's `Chat_finetuning_data_prep.ipynb` accepts in a message (its "message_unrecognized_key").
const OPENAI_KEYS = new Set(['role', 'content', 'name', 'weight']);

/**
 * The OpenAI fine-tuning JSONL, with the checks of OpenAI's cookbook `examples/Chat_finetuning_data_prep.ipynb`
 * (openai/openai-cookbook): every message has role and content (`message_missing_key`) and no other key
 * (`message_unrecognized_key`), content is a non-empty string (`missing_content`), and the example has an assistant
 * message (`example_missing_assistant_message`). The file-level minimum of 10 examples is checked by stage 7 before
 * it starts (`OPENAI_MIN_EXAMPLES`). The turn rules of `messages` apply on top.
 */
function checkOpenai(row: unknown): string | null {
  if (!isObject(row) || !Array.isArray(row.messages))
    return `Expected an object with a "messages" array, got ${describe(row)}`;
  for (const [i, message] of row.messages.entries()) {
    if (!isObject(message)) return `messages[${i}] must be an object, got ${describe(message)}`;
    if (!('role' in message) || !('content' in message)) return `messages[${i}] needs both "role" and "content"`;
    const extra = Object.keys(message).find((key) => !OPENAI_KEYS.has(key));
    if (extra) return `messages[${i}] has the key "${extra}"; OpenAI accepts only role, content, name and weight`;
    if (typeof message.content !== 'string' || message.content.trim() === '')
      return `messages[${i}].content must be a non-empty string`;
  }
  if (!row.messages.some((m) => isObject(m) && m.role === 'assistant')) return 'messages has no assistant message';
  return checkMessages(row);
}

/** The OpenAI fine-tuning API refuses a training file with fewer examples than this (the cookbook's check). */
export const OPENAI_MIN_EXAMPLES = 10;

function checkSharegpt(row: unknown): string | null {
  return checkTurnList(row, TURN_NAMES.sharegpt);
}

/** null when the target loader will accept the row, otherwise the rule it breaks, in one line. */
export function checkExportRow(row: unknown, format: ExportFormat): string | null {
  switch (format) {
    case 'nanochat':
      return checkNanochat(row);
    case 'messages':
      return checkMessages(row);
    case 'openai':
      return checkOpenai(row);
    case 'axolotl':
      // `type: chat_template` with the default `field_messages: messages` and role/content property mappings
      // (docs.axolotl.ai/docs/dataset-formats/conversation.html) renders through the model's chat template, so
      // the same turn rules as TRL's apply.
      return checkMessages(row);
    case 'sharegpt':
      return checkSharegpt(row);
    default:
      throw new TypeError(`Expected format to be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`);
  }
}
