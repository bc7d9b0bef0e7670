// Every typed error of the pipeline: each carries what the user needs to fix it, the error it wraps (`cause`) and
// whether asking again could help (`isRetryable`, as vercel/ai's APICallError in packages/provider/src/errors). The
// CLI prints their message as one line.

/**
 * The base of an error that ends the CLI: a fixed exit code, and asking again never helps. One function makes each,
 * so an exiting error is a name and a code.
 */
function exitingError(name: string, exitCode: number) {
  return class extends Error {
    override name = name;
    readonly exitCode = exitCode;
    readonly isRetryable = false;
  };
}

/** A bad flag value, unknown flag or bad setting in the environment: the message names it and what was expected. */
export class UsageError extends exitingError('UsageError', 2) {}

/** Bad input data: a missing or malformed file. The message starts with the file (and line). */
export class InputError extends exitingError('InputError', 1) {}

/** A JSONL line that is not JSON or fails its schema. */
export class JsonlLineError extends InputError {
  override name = 'JsonlLineError';
  constructor(
    readonly file: string,
    readonly line: number,
    readonly detail: string,
    options?: ErrorOptions,
  ) {
    super(`${file}:${line}: ${detail}`, options);
  }
}

/** Something the whole stage cannot go on after: a missing key, a rejected key, an exhausted quota. */
export class FatalError extends exitingError('FatalError', 1) {}

/** Raised when the user interrupts a stage; finished items are already saved. */
export class InterruptedError extends exitingError('InterruptedError', 130) {}

/** What an answer that arrived but cannot be used can be wrong with. */
export const INVALID_ANSWER_CLASSES = ['not_json', 'schema', 'truncated', 'refused', 'blocked', 'invalid'] as const;
export type InvalidAnswerClass = (typeof INVALID_ANSWER_CLASSES)[number];

/** An error about one item, with the class its failure is counted under (the ledger's `error_class`). */
abstract class ItemError<Class extends string> extends Error {
  constructor(
    readonly errorClass: Class,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** An answer that arrived but cannot be used; retried at once, with the reason told to the model. */
export class InvalidAnswerError extends ItemError<InvalidAnswerClass> {
  override name = 'InvalidAnswerError';
  readonly isRetryable = true;
}

/** A failure after every attempt was spent; recorded for the item, the stage goes on. `cause`: the last attempt's error. */
export class ItemFailedError extends ItemError<string> {
  override name = 'ItemFailedError';
  /** Its attempts are spent: a rerun of the stage asks again, this run does not. */
  readonly isRetryable = false;
  readonly attempts: number;
  constructor(errorClass: string, message: string, attempts: number, options?: ErrorOptions) {
    super(errorClass, message, options);
    this.attempts = attempts;
  }
}

/** Thrown when the stage is stopping: the item is neither finished nor failed. */
export class StoppedError extends Error {
  override name = 'StoppedError';
  readonly isRetryable = false;
}

/** A dedup input that breaks the kernel's contract; `field` names the offending input. */
export class DedupInputError extends Error {
  override name = 'DedupInputError';
  readonly isRetryable = false;
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

/** A source file (facts, HTML, PDF) that yields no usable text; `cause` is the read or parse error when there was one. */
export class BadSourceFileError extends Error {
  override name = 'BadSourceFileError';
  readonly isRetryable = false;
}
