// Streaming passes over artifacts for stats and the report: one row (or one chunk of bytes) held at a time.
import { createReadStream, existsSync } from 'node:fs';
import type { z } from 'zod';
import { JsonlLineError } from '../errors.js';
import { iterateJsonl } from '../io/jsonl.js';

/** Validates every row (a corrupt line stops with FILE:LINE) while holding one row at a time. */
export async function scan<S extends z.ZodType>(
  file: string,
  schema: S,
  each?: (row: z.output<S>, index: number) => void,
): Promise<number | undefined> {
  if (!existsSync(file)) return undefined;
  let n = 0;
  for await (const { row } of iterateJsonl(file, schema, { allowEmpty: true })) {
    each?.(row, n);
    n++;
  }
  return n;
}

/**
 * The embedded file is about fifteen times the size of the others (1,024 numbers a row; 1.4 GB at 100,000 rows), and
 * parsing it would take most of the time while only its row count is shown. So: the first row is validated in full,
 * and every line is checked to be one whole JSON object (opens with `{`, closes with `}`), which catches the usual
 * corruption, a truncated or interleaved write, with its line number. Stage 6 validates every row when it reads it.
 */
export async function countObjectLines<S extends z.ZodType>(file: string, schema: S): Promise<number | undefined> {
  if (!existsSync(file)) return undefined;
  for await (const _ of iterateJsonl(file, schema, { allowEmpty: true })) break;
  const blank = (byte: number) => byte === 32 || byte === 9 || byte === 13;
  let line = 1;
  let rows = 0;
  let first = -1;
  let last = -1;
  const endLine = () => {
    if (first !== -1) {
      if (first !== 123 || last !== 125)
        throw new JsonlLineError(
          file,
          line,
          'not valid JSON (not one complete object: truncated or interleaved line?)',
        );
      rows++;
    }
    line++;
    first = last = -1;
  };
  for await (const chunk of createReadStream(file)) {
    const buffer = chunk as Buffer;
    let start = 0;
    while (start <= buffer.length) {
      const newline = buffer.indexOf(10, start);
      const end = newline === -1 ? buffer.length : newline;
      for (let i = start; i < end && first === -1; i++) if (!blank(buffer[i]!)) first = buffer[i]!;
      for (let i = end - 1; i >= start; i--) {
        if (blank(buffer[i]!)) continue;
        last = buffer[i]!;
        break;
      }
      if (newline === -1) break;
      endLine();
      start = newline + 1;
    }
  }
  if (first !== -1) endLine();
  return rows;
}

export async function countLines(file: string): Promise<number> {
  let lines = 0;
  for await (const chunk of createReadStream(file)) {
    const buffer = chunk as Buffer;
    for (let at = buffer.indexOf(10); at !== -1; at = buffer.indexOf(10, at + 1)) lines++;
  }
  return lines;
}
