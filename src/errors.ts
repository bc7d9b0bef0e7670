// Typed errors that carry what the user needs to fix them; the CLI prints their message as one line.

/** A bad flag value or unknown flag: the message names the flag and what was expected. */
export class UsageError extends Error {
  override name = 'UsageError';
  readonly exitCode = 2;
}

/** Bad input data: a missing or malformed file. The message starts with the file (and line). */
export class InputError extends Error {
  override name = 'InputError';
  readonly exitCode = 1;
}

/** A JSONL line that is not JSON or fails its schema. */
export class JsonlLineError extends InputError {
  override name = 'JsonlLineError';
  constructor(readonly file: string, readonly line: number, readonly detail: string) {
    super(`${file}:${line}: ${detail}`);
  }
}

/** Something the whole stage cannot go on after: a missing key, a rejected key, an exhausted quota. */
export class FatalError extends Error {
  override name = 'FatalError';
  readonly exitCode = 1;
}

/** Raised when the user interrupts a stage; finished items are already saved. */
export class InterruptedError extends Error {
  override name = 'InterruptedError';
  readonly exitCode = 130;
}
