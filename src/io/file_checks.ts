// Before the first call: every file a stage will write can be written, and none of them is one of its inputs or
// another of its outputs — so a wrong path costs nothing, instead of the calls already paid when the write fails.
import { realpathSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { InputError } from '../errors.js';
import { ensureWritableDir } from './jsonl.js';

export interface StageFile {
  path: string;
  /** How the message names it: `--output`, `--final`, `the checkpoint of --output` … */
  role: string;
}

/**
 * Throws one line naming the path when an output is a folder, ends with a slash, is not a regular file (a FIFO, a
 * device), sits in a folder that cannot be written, or is the same file as an input or another output.
 */
export function checkStageFiles(inputs: StageFile[], outputs: StageFile[]): void {
  for (const out of outputs) {
    if (/[\\/]$/.test(out.path))
      throw new InputError(`${out.path}: ${out.role} ends with a slash, expected a file name`);
    checkRegularFile(out);
  }
  const seen: Array<{ file: StageFile; id: FileId }> = [];
  for (const input of inputs) seen.push({ file: input, id: fileId(input.path) });
  const inputCount = seen.length;
  for (const out of outputs) {
    const id = fileId(out.path);
    const clash = seen.findIndex((s) => sameFile(s.id, id));
    if (clash >= 0) {
      const other = seen[clash]!.file;
      if (clash < inputCount)
        throw new InputError(
          `${out.path}: ${out.role} is the same file as ${other.role} (${other.path}); the stage would overwrite what it reads — choose another ${flagOf(out)}`,
        );
      throw new InputError(
        `${out.path}: ${out.role} is the same file as ${other.role} (${other.path}); one would overwrite the other — choose different paths`,
      );
    }
    seen.push({ file: out, id });
  }
  // Folders are created only once nothing else is wrong.
  for (const out of outputs) ensureWritableDir(out.path);
}

function flagOf(file: StageFile): string {
  return /--[\w-]+/.exec(file.role)?.[0] ?? 'path';
}

/** An existing path that is a folder, FIFO or device is refused with one line naming it; an absent one is fine. */
export function checkRegularFile(out: StageFile): void {
  const stats = statOrUndefined(out.path);
  if (stats?.isDirectory())
    throw new InputError(
      `${out.path}: ${out.role} is a folder, expected a file (remove it or choose another ${flagOf(out)})`,
    );
  if (stats && !stats.isFile())
    throw new InputError(
      `${out.path}: ${out.role} is ${kindOf(stats)}, expected a regular file (remove it or choose another ${flagOf(out)})`,
    );
}

function kindOf(stats: Stats): string {
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isSocket()) return 'a socket';
  if (stats.isCharacterDevice() || stats.isBlockDevice()) return 'a device';
  return 'not a regular file';
}

interface FileId {
  /** The path with every existing part resolved (symbolic links, `..`). */
  path: string;
  /** Device and inode when the file exists: two hard links are one file. */
  inode?: string;
}

function fileId(path: string): FileId {
  const stats = statOrUndefined(path);
  return { path: canonical(path), inode: stats ? `${stats.dev}:${stats.ino}` : undefined };
}

function sameFile(a: FileId, b: FileId): boolean {
  return a.path === b.path || (a.inode !== undefined && a.inode === b.inode);
}

/** realpath of the longest existing ancestor, with the rest appended: an output usually does not exist yet. */
function canonical(path: string): string {
  const absolute = resolve(path);
  const rest: string[] = [];
  let head = absolute;
  for (;;) {
    try {
      return join(realpathSync(head), ...rest.reverse());
    } catch {
      const parent = dirname(head);
      if (parent === head) return absolute;
      rest.push(basename(head));
      head = parent;
    }
  }
}

function statOrUndefined(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}
