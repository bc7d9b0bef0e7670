// Reads a file line by line in fixed-size chunks, as bytes: a file of any size, never held as one string.
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';

/** 1 MiB: large enough that the per-read cost vanishes, small enough that memory is bounded by the longest line. */
export const DEFAULT_CHUNK_BYTES = 1 << 20;

export interface LineSummary {
  bytes: number;
  /** False when the file is non-empty and its last line has no newline (a write cut short). */
  endsWithNewline: boolean;
}

/**
 * Splits chunks into lines (without the `\n`). A line is handed over as a Buffer: bytes of a multi-byte character
 * split across two chunks stay together, and a caller can look at a line's start before paying to decode it.
 */
class LineSplitter {
  private pending: Buffer[] = [];
  private last = 0x0a;
  bytes = 0;

  constructor(private readonly onLine: (line: Buffer) => void) {}

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.bytes += chunk.length;
    this.last = chunk[chunk.length - 1]!;
    let start = 0;
    for (let nl = chunk.indexOf(0x0a, start); nl >= 0; nl = chunk.indexOf(0x0a, start)) {
      this.emit(chunk.subarray(start, nl));
      start = nl + 1;
    }
    // A copy: the reader reuses its chunk buffer.
    if (start < chunk.length) this.pending.push(Buffer.from(chunk.subarray(start)));
  }

  end(): LineSummary {
    if (this.pending.length) this.emit(Buffer.alloc(0));
    return { bytes: this.bytes, endsWithNewline: this.bytes === 0 || this.last === 0x0a };
  }

  private emit(tail: Buffer): void {
    let line = tail;
    if (this.pending.length) {
      line = Buffer.concat([...this.pending, tail]);
      this.pending = [];
    }
    // CRLF files (edited on Windows) read like LF ones.
    this.onLine(line.length && line[line.length - 1] === 0x0d ? line.subarray(0, -1) : line);
  }
}

/** Synchronous, for constructors: each line goes to `onLine` before the next chunk is read. */
export function forEachLineSync(
  file: string,
  onLine: (line: Buffer) => void,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): LineSummary {
  const splitter = new LineSplitter(onLine);
  const chunk = Buffer.allocUnsafe(chunkBytes);
  const fd = openSync(file, 'r');
  try {
    for (let n = readSync(fd, chunk, 0, chunkBytes, null); n > 0; n = readSync(fd, chunk, 0, chunkBytes, null))
      splitter.push(chunk.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return splitter.end();
}

/**
 * The file's bytes, one read at a time, into one reused buffer: each chunk is valid until the next is asked for, so
 * the lines a splitter makes of it (copies or views) must be handed over before then.
 */
async function* chunksOf(file: string, chunkBytes: number): AsyncGenerator<Buffer> {
  const chunk = Buffer.allocUnsafe(chunkBytes);
  const handle = await open(file, 'r');
  try {
    for (
      let { bytesRead } = await handle.read(chunk, 0, chunkBytes, null);
      bytesRead > 0;
      { bytesRead } = await handle.read(chunk, 0, chunkBytes, null)
    )
      yield chunk.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** The same, awaiting `onLine` (a writer with back-pressure) before reading on. */
export async function forEachLine(
  file: string,
  onLine: (line: Buffer) => void | Promise<void>,
  chunkBytes = DEFAULT_CHUNK_BYTES,
): Promise<LineSummary> {
  const lines: Buffer[] = [];
  const splitter = new LineSplitter((line) => lines.push(line));
  const drain = async () => {
    for (const line of lines.splice(0)) await onLine(line);
  };
  for await (const chunk of chunksOf(file, chunkBytes)) {
    splitter.push(chunk);
    await drain();
  }
  const summary = splitter.end();
  await drain();
  return summary;
}

/**
 * A file's lines as text, one array for the lines each read completes: what iterateJsonl parses. Like node:readline
 * (which it replaced, at half the time: 600 conversations of 6.7 KB in 36-51 ms instead of 51-126 ms), a lone
 * carriage return also ends a line, so line numbers are the same as before. A multi-byte character cut by a read
 * stays whole: lines are decoded only once complete.
 */
export async function* textLines(file: string, chunkBytes = DEFAULT_CHUNK_BYTES): AsyncGenerator<string[]> {
  let batch: string[] = [];
  const splitter = new LineSplitter((line) => {
    const text = line.toString('utf8');
    if (text.includes('\r')) batch.push(...text.split('\r'));
    else batch.push(text);
  });
  for await (const chunk of chunksOf(file, chunkBytes)) {
    splitter.push(chunk);
    if (batch.length) {
      yield batch;
      batch = [];
    }
  }
  splitter.end();
  if (batch.length) yield batch;
}
