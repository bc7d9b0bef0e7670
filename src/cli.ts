// Flag parsing and validation for the stage scripts, and the one place that turns errors into one-line messages.
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { ignoreClosedPipes } from './closed_pipes.js';
import { UsageError } from './errors.js';
import { redact } from './secrets.js';

// `list`: paths, repeatable (`--input a --input b`) or comma-separated (`--input a,b`).
type Kind = 'string' | 'boolean' | 'int' | 'number' | 'list';
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

type ValueOf<F extends FlagSpec> = F['kind'] extends 'boolean'
  ? boolean
  : F['kind'] extends 'int' | 'number'
    ? number
    : F['kind'] extends 'list'
      ? string[]
      : string;
export type Flags<S extends FlagSpecs> = {
  [K in keyof S]: S[K] extends { default: unknown } ? ValueOf<S[K]> : ValueOf<S[K]> | undefined;
};

export function usageText(script: string, summary: string, specs: FlagSpecs): string {
  const rows: Array<[string, string]> = Object.entries(specs).map(([name, spec]) => {
    const value =
      spec.kind === 'boolean'
        ? ''
        : ` ${spec.value ?? (spec.choices ? spec.choices.join('|') : spec.kind === 'string' ? 'PATH' : spec.kind === 'list' ? 'PATH[,PATH…]' : spec.kind === 'int' ? 'N' : 'X')}`;
    const def = spec.default !== undefined && spec.kind !== 'boolean' ? ` (default ${spec.default})` : '';
    return [`  --${name}${value}`, spec.help + def];
  });
  rows.push(['  --help', 'print this help']);
  return `${summary}\n\nUsage: npx tsx ${script} [flags]\n\n${helpColumns(rows)}\n`;
}

/**
 * Lays out flag/help pairs in two columns. The first column is as wide as its longest entry plus two spaces (at
 * least HELP_COLUMN), so a long flag such as `--format messages|nanochat|sharegpt` never runs into its help text.
 */
export function helpColumns(rows: ReadonlyArray<readonly [string, string]>): string {
  const width = Math.max(HELP_COLUMN, ...rows.map(([left]) => left.length + 2));
  return rows.map(([left, right]) => left.padEnd(width) + right).join('\n');
}
const HELP_COLUMN = 34;

/** The known flag nearest to an unknown one (edit distance ≤ 2, or a prefix), for "did you mean". */
export function nearestFlag(unknown: string, names: readonly string[]): string | undefined {
  const typed = unknown.replace(/^-+/, '').split('=')[0]!;
  let best: { name: string; distance: number } | undefined;
  for (const name of names) {
    const distance = name.startsWith(typed) && typed.length >= 3 ? 0.5 : editDistance(typed, name);
    if (!best || distance < best.distance) best = { name, distance };
  }
  const allowed = Math.min(2, Math.max(1, Math.floor(typed.length / 3)));
  return best && best.distance <= allowed ? best.name : undefined;
}

function editDistance(a: string, b: string): number {
  // Damerau (adjacent swaps count once): `--limt`, `--ouptut` are one slip each.
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

/** Parses argv against the specs; returns undefined when --help was printed. */
export function parseFlags<S extends FlagSpecs>(argv: string[], specs: S, help: string): Flags<S> | undefined {
  const options: Record<string, { type: 'string' | 'boolean'; multiple?: boolean }> = { help: { type: 'boolean' } };
  for (const [name, spec] of Object.entries(specs))
    options[name] = { type: spec.kind === 'boolean' ? 'boolean' : 'string', multiple: spec.kind === 'list' };
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
  let values: Record<string, string | boolean | Array<string | boolean> | undefined>;
  try {
    ({ values } = parseArgs({ args, options, strict: true, allowPositionals: false }));
  } catch (error) {
    const message = (error as Error).message;
    const unknown = /Unknown option '([^']+)'/.exec(message);
    if (unknown) {
      const near = nearestFlag(unknown[1]!, ['help', ...Object.keys(specs)]);
      throw new UsageError(`Unknown flag ${unknown[1]}${near ? `: did you mean --${near}?` : ''} (see --help)`);
    }
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

function convert(name: string, spec: FlagSpec, raw: string | boolean | Array<string | boolean> | undefined): unknown {
  if (spec.kind === 'list')
    return splitList(
      name,
      raw === undefined ? (spec.default === undefined ? undefined : [String(spec.default)]) : (raw as string[]),
    );
  if (raw === undefined) return spec.default;
  if (spec.kind === 'boolean') return raw;
  const text = String(raw);
  if (spec.kind === 'string') {
    if (spec.choices && !spec.choices.includes(text))
      throw new UsageError(
        `Expected \`--${name}\` to be one of ${spec.choices.join(', ')}, got ${JSON.stringify(text)}`,
      );
    if (!text) throw new UsageError(`Expected \`--${name}\` to be a non-empty value`);
    return text;
  }
  const integer = spec.kind === 'int';
  // Decimal notation only: Number() would read `0x10` as 16, `1e3` as 1000 and ` 8` as 8, none of which a user meant.
  const value = (integer ? DECIMAL_INT : DECIMAL_NUMBER).test(text) ? Number(text) : NaN;
  const bounds = [
    spec.min !== undefined ? `${spec.exclusiveMin ? '>' : '≥'} ${spec.min}` : '',
    spec.max !== undefined ? `≤ ${spec.max}` : '',
  ]
    .filter(Boolean)
    .join(' and ');
  const expected = `Expected \`--${name}\` to be ${integer ? 'an integer' : 'a number'}${bounds ? ` ${bounds}` : ''}, got ${text || '""'}`;
  if (!Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) throw new UsageError(expected);
  if (spec.min !== undefined && (spec.exclusiveMin ? value <= spec.min : value < spec.min))
    throw new UsageError(expected);
  if (spec.max !== undefined && value > spec.max) throw new UsageError(expected);
  return value;
}

/** Each value is one path, or several separated by commas — unless a file of that very name exists. */
function splitList(name: string, values: string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  const paths = values.flatMap((v) =>
    existsSync(v)
      ? [v]
      : v
          .split(',')
          .map((p) => p.trim())
          .filter(Boolean),
  );
  if (!paths.length) throw new UsageError(`Expected \`--${name}\` to name at least one path`);
  return paths;
}

/** True when the module is the script node was started with (not imported by trial_run or a test). */
export function isMain(importMetaUrl: string): boolean {
  return process.argv[1] !== undefined && importMetaUrl === pathToFileURL(process.argv[1]).href;
}

/**
 * The tail of every script: when it is the one node was started with, parse argv with its flags (`--help` prints
 * them) and run `main` through runCli. Imported (by trial_run or a test), it does nothing.
 */
export function runIfMain<S extends FlagSpecs>(
  importMetaUrl: string,
  script: string,
  summary: string,
  specs: S,
  main: (flags: Flags<S>) => Promise<number>,
  /** `--help` when the flags alone do not say enough (stage 7 lists every format's rules). */
  help: () => string = () => usageText(script, summary, specs),
): void {
  if (!isMain(importMetaUrl)) return;
  void runCli(async () => {
    const flags = parseFlags(process.argv.slice(2), specs, help());
    return flags ? main(flags) : 0;
  });
}

/**
 * Runs a script's main and exits with its code. Known errors become one line on stderr; anything else also becomes
 * one line (the stack only with DEBUG=1), because a stack trace is not an error message.
 */
export async function runCli(main: () => Promise<number | undefined> | Promise<void>): Promise<never> {
  ignoreClosedPipes();
  let code: number;
  try {
    code = (await main()) ?? 0;
  } catch (error) {
    const err = error as Error & { exitCode?: number };
    // An interrupt is the user's choice, not an error: say what was kept and how to go on.
    const label = err.name === 'InterruptedError' ? '' : 'error: ';
    process.stderr.write(`${label}${redact(err.message.split('\n')[0] ?? String(error))}\n`);
    if (process.env.DEBUG) process.stderr.write(`${redact(String(err.stack))}\n`);
    code = err.exitCode ?? 1;
  }
  // Let pending stdout/stderr writes flush before exiting.
  await new Promise((resolve) => setImmediate(resolve));
  process.exit(code);
}
