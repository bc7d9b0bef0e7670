// Durable per-item results keyed by request hash: what makes a stage resumable after a crash, kill -9 or Ctrl-C.
import { appendFileSync, existsSync, rmSync } from 'node:fs';
import { FatalError } from '../errors.js';
import { writeAtomically, writeFailureReason } from './jsonl.js';
import { DEFAULT_CHUNK_BYTES, forEachLine, forEachLineSync } from './line_reader.js';
import { redact, redactSecrets } from '../secrets.js';
import { checkRegularFile } from './file_checks.js';

/** How a task's result is kept in the checkpoint, when plain JSON would be wasteful (stage 5's vectors). */
export interface ResultCodec<R> {
  encode(result: R): unknown;
  /** Also reads what older checkpoints hold. */
  decode(stored: unknown): R;
}

interface Entry {
  key: string;
  id: string;
  result: unknown;
}

/** Written when a saved result fails its check: the entries before it for that key are dead, the next one counts. */
interface Rejection {
  rejected: string;
}

/** What `recheck` makes of a saved result: its problem, or nothing when it may be reused. */
export type SavedProblem = (stored: unknown) => string | undefined;

export class Checkpoint {
  /** Results saved by earlier runs, held until this run asks for them. */
  private readonly loaded = new Map<string, unknown>();
  /** Keys saved by this run: their results are on disk only, so a long stage does not hold them all in memory. */
  private readonly saved = new Set<string>();
  /** Rejection lines in the file, by key: compact() drops every line of the key up to the last of them. */
  private readonly rejections = new Map<string, number>();
  /** Saved results this run found unusable and asks again (the manifest's `counts.reasked`). */
  rejected = 0;

  /**
   * `fresh` forgets everything saved before. The file is read in chunks of `chunkBytes` (a test makes them tiny):
   * memory grows with the answers kept, not with the file, so a checkpoint of any size resumes.
   */
  constructor(
    readonly file: string,
    fresh = false,
    private readonly chunkBytes = DEFAULT_CHUNK_BYTES,
  ) {
    // A folder gives EISDIR with no file named, and a FIFO would block the read for ever.
    checkRegularFile({ path: file, role: 'the checkpoint of --output' });
    if (fresh) rmSync(file, { force: true });
    if (!existsSync(file)) return;
    const { endsWithNewline } = forEachLineSync(
      file,
      (bytes) => {
        // The first answer saved for a key is the one kept, here and in compact(): the same request, paid once. A
        // repeated key is recognised from the line's start, so its (possibly huge) rest is never decoded.
        const quick = quickKey(bytes);
        if (quick !== undefined && this.loaded.has(quick)) return;
        const entry = parse(bytes);
        if (!entry) return;
        if ('rejected' in entry) {
          this.loaded.delete(entry.rejected);
          this.rejections.set(entry.rejected, (this.rejections.get(entry.rejected) ?? 0) + 1);
        } else if (!this.loaded.has(entry.key)) this.loaded.set(entry.key, entry.result);
      },
      chunkBytes,
    );
    // kill -9 in the middle of an append leaves a line without its newline; the next append would be glued to it
    // and lost as well. End the torn line here so only the item that was being written runs again.
    if (!endsWithNewline) appendFileSync(file, '\n');
  }

  get size(): number {
    return this.loaded.size + this.saved.size;
  }

  has(key: string): boolean {
    return this.loaded.has(key) || this.saved.has(key);
  }

  /** A result from an earlier run; handed out once, then let go. */
  take<R>(key: string): R | undefined {
    const result = this.loaded.get(key) as R | undefined;
    this.loaded.delete(key);
    if (result !== undefined) this.saved.add(key);
    return result;
  }

  /**
   * Checks the saved results of `items` as a fresh answer would be checked (a hand edit, a torn disk or an older
   * version can leave a result of the wrong shape). One that fails is dropped and marked in the file, so it is asked
   * again — this run and, should it be cut off first, the next. Returns how many were dropped and the first reason.
   */
  recheck(items: Iterable<{ key: string; problem: SavedProblem }>): { dropped: number; first?: string } {
    let dropped = 0;
    let first: string | undefined;
    for (const { key, problem } of items) {
      const reason = this.problemOf(key, problem);
      if (reason === undefined) continue;
      this.append({ rejected: key } satisfies Rejection);
      this.loaded.delete(key);
      this.rejections.set(key, (this.rejections.get(key) ?? 0) + 1);
      first ??= reason;
      dropped++;
    }
    this.rejected += dropped;
    if (dropped)
      process.stderr.write(
        `warning: ${dropped} saved ${dropped === 1 ? 'result' : 'results'} in ${this.file} failed the check a fresh answer gets and ${dropped === 1 ? 'is' : 'are'} asked again (${redact(first!).slice(0, 300)})\n`,
      );
    return { dropped, first };
  }

  /** Whether `key` is saved and would pass recheck: what a dry run counts as reused, changing nothing. */
  reusable(key: string, problem: SavedProblem): boolean {
    return this.has(key) && this.problemOf(key, problem) === undefined;
  }

  private problemOf(key: string, problem: SavedProblem): string | undefined {
    if (!this.loaded.has(key)) return undefined;
    try {
      return problem(this.loaded.get(key));
    } catch (error) {
      return (error as Error).message;
    }
  }

  /** Appended synchronously, so a finished item survives the process dying right after. */
  save(key: string, id: string, result: unknown): void {
    this.append({ key, id, result } satisfies Entry);
    this.saved.add(key);
  }

  private append(line: Entry | Rejection): void {
    try {
      appendFileSync(this.file, `${redactSecrets(JSON.stringify(line))}\n`);
    } catch (error) {
      // Fatal: every further answer would be paid for and lost the same way (a full disk). What is saved stays
      // usable — a torn last line is dropped when the file is read again.
      throw new FatalError(
        `${this.file}: could not save a finished item (${writeFailureReason(error)}); no new calls are made; the ${this.size} finished items saved there are kept and reused when you run the same command again`,
        { cause: error },
      );
    }
  }

  /**
   * Rewrites the file without duplicate and torn lines. Answers this run did not use are kept: a smaller run
   * (--limit, a trial) must not throw away answers a later full run would otherwise pay for again; --fresh clears.
   */
  async compact(): Promise<void> {
    if (!existsSync(this.file)) return;
    const seen = new Set<string>();
    // A rejected key's lines up to its last rejection are dead; the rejection lines themselves are not copied.
    const dead = new Map(this.rejections);
    // On failure the checkpoint stays as it was; only the temporary copy goes.
    await writeAtomically(this.file, (writer) =>
      // Lines are copied as they are, not parsed and serialised again: a stage-5 checkpoint is hundreds of MB.
      forEachLine(
        this.file,
        async (bytes) => {
          const quick = quickKey(bytes);
          if (quick !== undefined && (seen.has(quick) || dead.has(quick))) return;
          const entry = parse(bytes);
          if (!entry) return;
          if ('rejected' in entry) {
            const left = (dead.get(entry.rejected) ?? 1) - 1;
            if (left > 0) dead.set(entry.rejected, left);
            else dead.delete(entry.rejected);
            return;
          }
          if (seen.has(entry.key) || dead.has(entry.key)) return;
          seen.add(entry.key);
          await writer.writeLine(bytes);
        },
        this.chunkBytes,
      ),
    );
    this.rejections.clear();
  }
}

const KEY_PREFIX = Buffer.from('{"key":"');

/** The key of a line as save() writes it (`{"key":"…",`), read without decoding the rest; undefined otherwise. */
function quickKey(line: Buffer): string | undefined {
  if (line.length < KEY_PREFIX.length || line.compare(KEY_PREFIX, 0, KEY_PREFIX.length, 0, KEY_PREFIX.length) !== 0)
    return undefined;
  const end = line.indexOf(0x22, KEY_PREFIX.length);
  // An escaped character (never in our hex keys) is left to JSON.parse.
  if (end < 0 || line.subarray(KEY_PREFIX.length, end).includes(0x5c)) return undefined;
  return line.toString('utf8', KEY_PREFIX.length, end);
}

function parse(line: Buffer): Entry | Rejection | undefined {
  if (line.length === 0) return undefined;
  try {
    const entry = JSON.parse(line.toString('utf8')) as Entry | Rejection;
    if (entry && 'rejected' in entry) return typeof entry.rejected === 'string' ? entry : undefined;
    return typeof entry?.key === 'string' ? entry : undefined;
  } catch {
    // A line cut short by kill -9 mid-write: that item simply runs again.
    return undefined;
  }
}
