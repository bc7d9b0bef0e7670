// Flag parsing and validation for the stage scripts, and the one place that turns errors into one-line messages.
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { UsageError } from './errors.js';
import { redact } from './secrets.js';

type Kind = 'string' | 'boolean' | 'int' | 'number';
export interface FlagSpec {
  kind: Kind;
  help: string;
  default?: string | number | boolean;
  /** Allowed values of a string flag. */
  choices?: readonly string[];
  min?: number;
  max?: number;
  /** The value must be strictly greater than min (for thresholds in (0, 1]). */
  exclusiveMin?: boolean;
  /** How the value is shown in --help (PATH, NAME, N, X). */
  value?: string;
}
export type FlagSpecs = Record<string, FlagSpec>;

type ValueOf<F extends FlagSpec> = F['kind'] extends 'boolean' ? boolean : F['kind'] extends 'int' | 'number' ? number : string;
export type Flags<S extends FlagSpecs> = { [K in keyof S]: S[K] extends { default: unknown } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined };

export function usageText(script: string, summary: string, specs: FlagSpecs): string {
  const rows = Object.entries(specs).map(([name, spec]) => {
    const value = spec.kind === 'boolean' ? '' : ` ${spec.value ?? (spec.choices ? spec.choices.join('|') : spec.kind === 'string' ? 'PATH' : spec.kind === 'int' ? 'N' : 'X')}`;
    const def = spec.default !== undefined && spec.kind !== 'boolean' ? ` (default ${spec.default})` : '';
    return `  --${name}${value}`.padEnd(34) + spec.help + def;
  });
  return `${summary}\n\nUsage: npx tsx ${script} [flags]\n\n${[...rows, '  --help'.padEnd(34) + 'print this help'].join('\n')}\n`;
}

/** Parses argv against the specs; returns undefined when --help was printed. */
export function parseFlags<S extends FlagSpecs>(argv: string[], specs: S, help: string): Flags<S> | undefined {
  const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: spec.kind === 'boolean' ? 'boolean' : 'string' };
  // `--concurrency -3` must reach our range check, not parseArgs' "ambiguous" complaint: glue values to their flag.
  const args: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!.startsWith('--') ? argv[i]!.slice(2) : '';
    if (specs[name] && specs[name].kind !== 'boolean' && i + 1 < argv.length) {
      // `--output --fresh` forgot the value; taking "--fresh" as a path would hide the mistake.
      if (argv[i + 1]!.startsWith('--')) throw new UsageError(`Expected a value after --${name}, got ${argv[i + 1]}`);
      args.push(`--${name}=${argv[++i]}`);
    } else args.push(argv[i]!);
  }
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) throw new UsageError(`Unknown flag ${unknown[1]} (see --help)`);
    const missing = /Option '([^']*?--[\w-]+)[^']*' argument missing/.exec(message);
    if (missing) throw new UsageError(`Expected a value after ${missing[1]!.replace(/^-\w, /, '')}`);
    throw new UsageError(message.split('\n')[0]!);
  }
  if (values.help) {
    process.stdout.write(help);
    return undefined;
  }
  const out: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) out[name] = convert(name, spec, values[name]);
  return out as Flags<S>;
}

const DECIMAL_INT = /^[+-]?\d+$/;
const DECIMAL_NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function convert(name: string, spec: FlagSpec, raw: string | boolean | undefined): unknown {
  if (raw === undefined) return spec.default;
  if (spec.kind === 'boolean') return raw;
  const text = String(raw);
  if (spec.kind === 'string') {
    if (spec.choices && !spec.choices.includes(text)) throw new UsageError(`Expected \`--${name}\` to be one of ${spec.choices.join(', ')}, got ${JSON.stringify(text)}`);
    if (!text) throw new UsageError(`Expected \`--${name}\` to be a non-empty value`);
    return text;
  }
  const integer = spec.kind === 'int';
  // Decimal notation only: Number() would read `0x10` as 16, `1e3` as 1000 and ` 8` as 8, none of which a user meant.
  const value = (integer ? DECIMAL_INT : DECIMAL_NUMBER).test(text) ? Number(text) : NaN;
  const bounds = [
    spec.min !== undefined ? `${spec.exclusiveMin ? '>' : '≥'} ${spec.min}` : '',
    spec.max !== undefined ? `≤ ${spec.max}` : '',
  ].filter(Boolean).join(' and ');
  const expected = `Expected \`--${name}\` to be ${integer ? 'an integer' : 'a number'}${bounds ? ` ${bounds}` : ''}, got ${text || '""'}`;
  if (!Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) throw new UsageError(expected);
  if (spec.min !== undefined && (spec.exclusiveMin ? value <= spec.min : value < spec.min)) throw new UsageError(expected);
  if (spec.max !== undefined && value > spec.max) throw new UsageError(expected);
  return value;
}

/** True when the module is the script node was started with (not imported by trial_run or a test). */
export function isMain(importMetaUrl: string): boolean {
  return process.argv[1] !== undefined && importMetaUrl === pathToFileURL(process.argv[1]).href;
}

/**
 * Runs a script's main and exits with its code. Known errors become one line on stderr; anything else also becomes
 * one line (the stack only with DEBUG=1), because a stack trace is not an error message.
 */
export async function runCli(main: () => Promise<number | void>): Promise<never> {
  let code: number;
  try {
    code = (await main()) ?? 0;
  } catch (error) {
    const err = error as Error & { exitCode?: number };
    // An interrupt is the user's choice, not an error: say what was kept and how to go on.
    const label = err.name === 'InterruptedError' ? '' : 'error: ';
    process.stderr.write(`${label}${redact(err.message.split('\n')[0] ?? String(error))}\n`);
    if (process.env.DEBUG) process.stderr.write(redact(String(err.stack)) + '\n');
    code = err.exitCode ?? 1;
  }
  // Let pending stdout/stderr writes flush before exiting.
  await new Promise((resolve) => setImmediate(resolve));
  process.exit(code);
}
