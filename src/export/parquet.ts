// Writes the training set as parquet: one `messages` column of list<struct<role, content>>, the shape SmolTalk uses.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { nanochatMessages, type ExportFormat, type Message, type SystemMode } from './formats.js';

/**
 * The parquet schema, written out rather than guessed from the data: the standard three-level LIST
 * (`messages` → repeated `list` → `element`) of a struct with two UTF-8 strings, which is how pyarrow writes a
 * `list<struct<role: string, content: string>>` and how `datasets` reads a SmolTalk-style `messages` feature.
 */
export const MESSAGES_SCHEMA = [
  { name: 'root', num_children: 1 },
  { name: 'messages', repetition_type: 'OPTIONAL', converted_type: 'LIST', num_children: 1 },
  { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
  { name: 'element', repetition_type: 'OPTIONAL', num_children: 2 },
  { name: 'role', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
  { name: 'content', type: 'BYTE_ARRAY', converted_type: 'UTF8', repetition_type: 'OPTIONAL' },
] as const;

/**
 * The role/content list a parquet row holds for a conversation exported in `format`: the nanochat rows' own list
 * (system prompt merged or dropped as `--system` says), otherwise every message with the system message first,
 * as SmolTalk keeps it.
 */
export function parquetMessages(messages: readonly Message[], format: ExportFormat, system: SystemMode): Message[] {
  if (format === 'nanochat') return nanochatMessages(messages, system);
  return messages.map(({ role, content }) => ({ role, content }));
}

/** Writes `rows` to `file` atomically (temporary file, then rename), like every other artifact. */
export function writeMessagesParquet(file: string, rows: readonly Message[][]): void {
  const buffer = parquetWriteBuffer({
    columnData: [
      { name: 'messages', data: rows.map((messages) => messages.map(({ role, content }) => ({ role, content }))) },
    ],
    schema: MESSAGES_SCHEMA.map((element) => ({ ...element })),
    createdBy: 'synth-chat-pipeline (hyparquet-writer)',
  });
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, new Uint8Array(buffer));
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
