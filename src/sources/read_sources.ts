// Reads the facts from files and folders (markdown, plain text, HTML, PDF) into chunks in a fixed order, each
// naming its file and place; files that cannot be read are named one line each and stop the run or are skipped.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { chunkMarkdown, LONG_LINE, type Chunk } from '../chunking.js';
import { decodeText, fitChunk } from '../text_input.js';
import { BadSourceFileError, InputError } from '../errors.js';
import { asOfYear, asOfYearOfLines } from '../future_years.js';
import { blocksToChunks, MIN_WORDS, type Block } from './blocks.js';
import { htmlBlocks } from './html.js';
import { pdfBlocks } from './pdf.js';

export type Format = 'markdown' | 'html' | 'pdf';
export type OnBadFile = 'stop' | 'skip';
export const ON_BAD_FILE = ['stop', 'skip'] as const;

const EXTENSIONS: Record<string, Format> = {
  '.md': 'markdown',
  '.markdown': 'markdown',
  '.txt': 'markdown',
  '.text': 'markdown',
  '.html': 'html',
  '.htm': 'html',
  '.xhtml': 'html',
  '.pdf': 'pdf',
};

export interface SourceFile {
  file: string;
  format: Format;
  chunks: Chunk[];
  /** The file's own `As of` year, if it has one. */
  asOf?: number;
  /** Its text as the model could read it (markdown as written; HTML and PDF as their blocks). */
  text: string;
}

export interface Sources {
  files: SourceFile[];
  /** Every chunk, files in order, each file's chunks in order. */
  chunks: Chunk[];
  /** All files' text, for checks over the whole facts (which company they are about). */
  text: string;
  /** The last year a pair from this file may mention: its own As-of year, else the latest of the run, else now. */
  cutoff(file: string | undefined): number;
}

export interface ReadOptions {
  onBadFile?: OnBadFile;
  /** Where the one-line notes about bad or ignored files go (stderr by default). */
  note?: (line: string) => void;
  now?: Date;
}

/** Explicit files in the order given; a folder's files (recursively, hidden ones left out) in path order. */
function expand(inputs: string[], bad: Array<[string, string]>, note: (line: string) => void): string[] {
  const files: string[] = [];
  const walk = (dir: string, ignored: string[]) => {
    const names = readdirSync(dir)
      .filter((n) => !n.startsWith('.'))
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const name of names) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path, ignored);
      else if (EXTENSIONS[extname(name).toLowerCase()]) files.push(path);
      else ignored.push(path);
    }
  };
  for (const input of inputs) {
    if (!existsSync(input)) {
      bad.push([input, 'not found — pass --input PATH (a facts file, several, or a folder of them)']);
      continue;
    }
    if (!statSync(input).isDirectory()) {
      files.push(input);
      continue;
    }
    const before = files.length;
    const ignored: string[] = [];
    walk(input, ignored);
    if (ignored.length)
      note(
        `${input}: ignored ${ignored.length} file${ignored.length > 1 ? 's' : ''} that are not markdown, text, HTML or PDF (${ignored.slice(0, 3).join(', ')}${ignored.length > 3 ? ', …' : ''})`,
      );
    if (files.length === before) bad.push([input, 'no markdown, text, HTML or PDF file in this folder']);
  }
  return [...new Set(files)];
}

function formatOf(file: string, bytes: Buffer): Format {
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return 'pdf';
  const byName = EXTENSIONS[extname(file).toLowerCase()];
  if (byName) return byName;
  return /^\s*(<!doctype html|<html[\s>])/i.test(bytes.subarray(0, 512).toString('utf8')) ? 'html' : 'markdown';
}

/** UTF-8, or UTF-16 with a byte order mark (src/text_input.ts); anything else is a bad file, named with its line. */
function decodeFile(bytes: Buffer, file: string): string {
  try {
    return decodeText(bytes, file);
  } catch (error) {
    throw new BadSourceFileError((error as Error).message.replace(`${file}:`, 'line '), { cause: error });
  }
}

function fromBlocks(blocks: Block[], what: string): { chunks: Chunk[]; text: string; asOf?: number } {
  const chunks = blocksToChunks(blocks);
  if (!chunks.length)
    throw new BadSourceFileError(`no paragraph or list item of ${MIN_WORDS} words or more in ${what}`);
  const texts = blocks.map((b) => b.text);
  return { chunks, text: texts.join('\n'), asOf: asOfYearOfLines(texts) };
}

async function readOne(file: string): Promise<SourceFile> {
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw new BadSourceFileError(
      `cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      { cause: error },
    );
  }
  const format = formatOf(file, bytes);
  let read: { chunks: Chunk[]; text: string; asOf?: number };
  if (format === 'pdf') {
    let blocks: Block[];
    try {
      blocks = await pdfBlocks(new Uint8Array(bytes));
    } catch (error) {
      const name = (error as Error).name;
      throw new BadSourceFileError(
        name === 'PasswordException'
          ? 'the PDF is encrypted (save an unprotected copy)'
          : `not a PDF that can be read (${(error as Error).message.split('\n')[0]})`,
        { cause: error },
      );
    }
    if (!blocks.length) throw new BadSourceFileError('the PDF has no text layer (a scanned PDF needs OCR first)');
    read = fromBlocks(blocks, 'its text layer');
  } else {
    const text = decodeFile(bytes, file);
    if (!text.trim()) throw new BadSourceFileError('the facts file is empty');
    if (format === 'html') read = fromBlocks(htmlBlocks(text), "the page's main text");
    else {
      const chunks = chunkMarkdown(text);
      if (!chunks.length)
        throw new BadSourceFileError(
          `no chunkable line (expected lines starting with * or -, or longer than ${LONG_LINE} characters; a # heading is a section, not a fact)`,
        );
      read = { chunks, text, asOf: asOfYear(text) };
    }
  }
  // A chunk over the input budget is split at sentence ends (or refused): one pasted dump is not one huge prompt.
  const chunks = read.chunks
    .flatMap((c) => fitChunk(c, file))
    .map((c) => ({ ...c, source_file: file, source_location: c.source_location ?? `line ${c.line}` }));
  return { file, format, chunks, text: read.text, ...(read.asOf !== undefined ? { asOf: read.asOf } : {}) };
}

/** Reads every input; bad files stop the run (each named on its own line) or, with onBadFile 'skip', are left out. */
export async function readSources(inputs: string[], options: ReadOptions = {}): Promise<Sources> {
  const { onBadFile = 'stop', note = (line) => process.stderr.write(`${line}\n`), now = new Date() } = options;
  const bad: Array<[string, string]> = [];
  const paths = expand(inputs, bad, note);
  const files: SourceFile[] = [];
  for (const path of paths) {
    try {
      files.push(await readOne(path));
    } catch (error) {
      if (!(error instanceof BadSourceFileError)) throw error;
      bad.push([path, error.message]);
    }
  }
  const several = inputs.length > 1 || paths.length > 1;
  if (bad.length && onBadFile === 'stop') {
    if (bad.length === 1)
      throw new InputError(`${bad[0]![0]}: ${bad[0]![1]}${several ? ' (--on-bad-file skip goes on without it)' : ''}`);
    for (const [file, why] of bad) note(`${file}: ${why}`);
    throw new InputError(
      `${bad.length} input files cannot be read (each named above); fix them or pass --on-bad-file skip`,
    );
  }
  for (const [file, why] of bad) note(`skipped ${file}: ${why}`);
  if (!files.length) throw new InputError(`${inputs.join(', ')}: no readable facts (every input file was skipped)`);

  const years = files.flatMap((f) => (f.asOf === undefined ? [] : [f.asOf]));
  const fallback = years.length ? Math.max(...years) : now.getFullYear();
  const byFile = new Map(files.map((f) => [f.file, f.asOf ?? fallback]));
  return {
    files,
    chunks: files.flatMap((f) => f.chunks),
    text: files.map((f) => f.text).join('\n'),
    cutoff: (file) => (file !== undefined ? byFile.get(file) : undefined) ?? fallback,
  };
}
