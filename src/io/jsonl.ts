// JSONL reading that validates every line and points at bad ones, and atomic writing (temporary file, then rename).
import {
  createWriteStream,
  readFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type WriteStream,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { z } from 'zod';
import { InputError, JsonlLineError } from '../errors.js';
import { formatZodIssue } from '../format.js';
import { textLines } from './line_reader.js';
import { processAlive } from './process_alive.js';
import { redactSecrets } from '../secrets.js';

export interface ReadOptions {
  /** Said when the file is missing, e.g. "run stage 1 first: npx tsx 1_extract_qa.ts". */
  missingHint?: string;
  /** An empty file is an error unless allowed. */
  allowEmpty?: boolean;
}

/** Streams a JSONL file, validating each non-blank line; the first bad line stops with FILE:LINE. */
export async function* iterateJsonl<S extends z.ZodType>(
  file: string,
  schema: S,
  options: ReadOptions = {},
): AsyncGenerator<{ row: z.output<S>; line: number }> {
  assertReadable(file, options.missingHint);
  let lineNo = 0;
  let rows = 0;
  for await (const batch of textLines(file)) {
    for (const text of batch) {
      lineNo++;
      if (!text.trim()) continue;
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        throw new JsonlLineError(file, lineNo, `not valid JSON (${(error as Error).message})`, { cause: error });
      }
      const parsed = schema.safeParse(value);
      if (!parsed.success) throw new JsonlLineError(file, lineNo, formatZodIssue(parsed.error.issues[0]!));
      rows++;
      yield { row: parsed.data, line: lineNo };
    }
  }
  if (rows === 0 && !options.allowEmpty) throw new InputError(`${file}: empty, expected at least one JSONL row`);
}

export async function readJsonl<S extends z.ZodType>(
  file: string,
  schema: S,
  options: ReadOptions = {},
): Promise<z.output<S>[]> {
  const rows: z.output<S>[] = [];
  for await (const { row } of iterateJsonl(file, schema, options)) rows.push(row);
  return rows;
}

export function assertReadable(file: string, missingHint?: string): void {
  if (!existsSync(file)) throw new InputError(`${file}: not found${missingHint ? ` — ${missingHint}` : ''}`);
  if (statSync(file).isDirectory()) throw new InputError(`${file}: is a directory, expected a file`);
}

/**
 * Writes lines to `<file>.tmp` and renames over `file` on commit, so a reader never sees half an artifact and a
 * crash leaves the previous version in place.
 */
const NEWLINE = Buffer.from('\n');

export class AtomicJsonlWriter {
  private readonly tmp: string;
  private readonly stream: WriteStream;
  private failure: Error | undefined;
  count = 0;

  constructor(readonly file: string) {
    ensureWritableDir(file);
    removeStaleTemporaries(file);
    this.tmp = `${file}.${process.pid}.tmp`;
    // 1 MiB before a write waits for 'drain', not the default 16 KiB: a stage's rows are several KB each, so the
    // default made every third or fourth row wait a write to disk while the answers behind it queued.
    this.stream = createWriteStream(this.tmp, { encoding: 'utf8', highWaterMark: 1 << 20 });
    this.stream.on('error', (error) => (this.failure = error));
  }

  /** Resolves once the stream has room again, so a fast producer cannot buffer the whole file in memory. */
  async write(row: unknown): Promise<void> {
    // Every artifact and errors row: a key in an input (a facts file) or a message never reaches a file.
    return this.writeLine(redactSecrets(JSON.stringify(row)));
  }

  /** One line already serialised (without its newline); a Buffer is copied, so the caller may reuse it. */
  async writeLine(line: string | Buffer): Promise<void> {
    if (this.failure) throw this.writeError();
    this.count++;
    if (this.stream.write(typeof line === 'string' ? `${line}\n` : Buffer.concat([line, NEWLINE]))) return;
    // A failed stream (disk full) never drains: wait for 'close' too, or the stage would hang instead of stopping.
    await new Promise<void>((resolve, reject) => {
      const done = () => {
        this.stream.off('drain', done).off('close', done);
        if (this.failure) reject(this.writeError());
        else resolve();
      };
      this.stream.on('drain', done).on('close', done);
    });
  }

  async commit(): Promise<void> {
    await new Promise<void>((resolve) =>
      this.stream.end((error?: Error | null) => {
        if (error) this.failure ??= error;
        resolve();
      }),
    );
    if (this.failure) throw this.writeError();
    renameSync(this.tmp, this.file);
  }

  /**
   * Drops the temporary file. Resolves once the stream has closed: the file is opened asynchronously, so removing it
   * any earlier would let the pending open create it again after the removal.
   */
  async abort(): Promise<void> {
    if (!this.stream.closed) await new Promise<void>((resolve) => this.stream.once('close', () => resolve()).destroy());
    rmSync(this.tmp, { force: true });
  }

  private writeError(): InputError {
    return new InputError(`${this.file}: could not be written (${this.failure!.message})`);
  }
}

/**
 * Runs `fill` with a writer for `file` and returns the lines written: the file is in place, whole, once `fill`
 * resolves, and untouched when it throws (only the temporary copy goes), so no reader ever sees half an artifact.
 */
export async function writeAtomically(
  file: string,
  fill: (writer: AtomicJsonlWriter) => Promise<unknown>,
): Promise<number> {
  const writer = new AtomicJsonlWriter(file);
  try {
    await fill(writer);
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
  return writer.count;
}

export async function writeJsonl(file: string, rows: Iterable<unknown>): Promise<number> {
  return writeAtomically(file, async (writer) => {
    for (const row of rows) await writer.write(row);
  });
}

/**
 * A writer killed with -9 leaves its `<file>.<pid>.tmp` behind; the next writer of the same file removes those
 * whose process is gone (a live one may be another run writing right now).
 */
function removeStaleTemporaries(file: string): void {
  const prefix = `${basename(file)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) && name.endsWith('.tmp') ? Number(name.slice(prefix.length, -4)) : NaN;
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && !processAlive(pid))
      rmSync(join(dirname(file), name), { force: true });
  }
}

const NOT_WRITABLE: Record<string, string> = {
  EEXIST: 'a file is in the way of the folder',
  ENOTDIR: 'a file is in the way of the folder',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
};

/** Fails early, with the folder named, when the output cannot be created. */
export function ensureWritableDir(file: string): void {
  const dir = dirname(file);
  try {
    mkdirSync(dir, { recursive: true });
    const probe = `${dir}/.write-probe-${process.pid}`;
    writeFileSync(probe, '');
    rmSync(probe, { force: true });
  } catch (error) {
    throw new InputError(`${dir}: output folder not writable (${writeFailureReason(error)})`, { cause: error });
  }
}

/** Why a write failed, for a person: `no space left on the device: ENOSPC`. */
export function writeFailureReason(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${NOT_WRITABLE[code] ? `${NOT_WRITABLE[code]}: ` : ''}${code}` : (error as Error).message;
}

/** Reads one JSON file validated by its schema; a missing file, bad JSON or a schema failure is one line naming it. */
export function readJsonFile<S extends z.ZodType>(
  file: string,
  schema: S,
  notes: { what: string; ifMissing?: string; ifInvalid?: string },
): z.output<S> {
  if (!existsSync(file))
    throw new InputError(`${file}: ${notes.what} not found${notes.ifMissing ? ` (expected ${notes.ifMissing})` : ''}`);
  if (statSync(file).isDirectory()) throw new InputError(`${file}: ${notes.what} is a directory, expected a JSON file`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InputError(`${file}: not valid JSON (${(error as Error).message})`, { cause: error });
  }
  const parsed = schema.safeParse(raw);
  if (!parsed.success)
    throw new InputError(
      `${file}: ${formatZodIssue(parsed.error.issues[0]!)}${notes.ifInvalid ? ` (expected ${notes.ifInvalid})` : ''}`,
    );
  return parsed.data;
}
