// Flag parsing: defaults, conversions, and one-line errors that name the flag.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { helpColumns, nearestFlag, parseFlags, usageText, type FlagSpecs } from '../src/cli.js';
import { UsageError } from '../src/errors.js';

const SPECS = {
  input: { kind: 'string', help: 'input file', default: 'output/qa_pairs.jsonl' },
  output: { kind: 'string', help: 'output file' },
  concurrency: { kind: 'int', help: 'most requests in flight at once', default: 30, min: 1 },
  threshold: {
    kind: 'number',
    help: 'cosine similarity at which two conversations are duplicates',
    default: 0.95,
    min: 0,
    max: 1,
    exclusiveMin: true,
  },
  provider: { kind: 'string', help: 'gemini or openai', choices: ['gemini', 'openai'] },
  fresh: { kind: 'boolean', help: 'start over' },
} satisfies FlagSpecs;

const HELP = usageText('6_deduplicate.ts', 'Removes near-duplicate conversations.', SPECS);
const parse = (...argv: string[]) => parseFlags(argv, SPECS, HELP);
const errorOf = (...argv: string[]): UsageError => {
  try {
    parse(...argv);
  } catch (error) {
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).not.toContain('\n');
    return error as UsageError;
  }
  throw new Error(`parseFlags(${argv.join(' ')}) did not throw`);
};

/** Each of `values` after `flag` is refused with the one line naming the flag, what it expects and the value. */
function refusesEach(flag: string, expected: string, values: string[]): void {
  for (const value of values) {
    expect(errorOf(flag, value).message).toBe(`Expected \`${flag}\` to be ${expected}, got ${value}`);
  }
}

describe('parseFlags', () => {
  afterEach(() => vi.restoreAllMocks());

  it('applies defaults and leaves flags without one undefined', () => {
    expect(parse()).toEqual({
      input: 'output/qa_pairs.jsonl',
      output: undefined,
      concurrency: 30,
      threshold: 0.95,
      provider: undefined,
      fresh: undefined,
    });
  });

  it('converts values, in both --flag value and --flag=value forms', () => {
    expect(
      parse('--concurrency', '8', '--threshold=0.9', '--provider', 'openai', '--fresh', '--output', 'out/x.jsonl'),
    ).toEqual({
      input: 'output/qa_pairs.jsonl',
      output: 'out/x.jsonl',
      concurrency: 8,
      threshold: 0.9,
      provider: 'openai',
      fresh: true,
    });
  });

  it('accepts the bounds themselves where they are inclusive', () => {
    expect(parse('--concurrency', '1')?.concurrency).toBe(1);
    expect(parse('--threshold', '1')?.threshold).toBe(1);
  });

  it('rejects an unknown flag', () => {
    expect(errorOf('--bogus', '3').message).toMatchInlineSnapshot(`"Unknown flag --bogus (see --help)"`);
  });

  it('suggests the nearest flag for a slip, in both --flag value and --flag=value forms', () => {
    expect(errorOf('--concurency', '3').message).toBe(
      'Unknown flag --concurency: did you mean --concurrency? (see --help)',
    );
    expect(errorOf('--thresold=0.9').message).toBe('Unknown flag --thresold: did you mean --threshold? (see --help)');
    expect(errorOf('--ouptut', 'x').message).toBe('Unknown flag --ouptut: did you mean --output? (see --help)');
    expect(errorOf('--provide', 'openai').message).toBe(
      'Unknown flag --provide: did you mean --provider? (see --help)',
    );
  });

  it('rejects a negative, zero or non-numeric --concurrency', () => {
    refusesEach('--concurrency', 'an integer ≥ 1', ['-3', '0', 'abc', '2.5']);
    expect(errorOf('--concurrency=').message).toMatchInlineSnapshot(
      `"Expected \`--concurrency\` to be an integer ≥ 1, got """`,
    );
  });

  it('rejects a missing value, also when another flag follows', () => {
    expect(errorOf('--concurrency').message).toMatchInlineSnapshot(`"Expected a value after --concurrency"`);
    expect(errorOf('--output', '--fresh').message).toMatchInlineSnapshot(
      `"Expected a value after --output, got --fresh"`,
    );
    expect(errorOf('--output', '--concurrency', '5').message).toMatchInlineSnapshot(
      `"Expected a value after --output, got --concurrency"`,
    );
  });

  it('still takes a value that starts with a single dash', () => {
    expect(parse('--output', '-')?.output).toBe('-');
  });

  it('treats exclusiveMin as strictly greater', () => {
    refusesEach('--threshold', 'a number > 0 and ≤ 1', ['0', '1.5', 'NaN']);
    expect(parse('--threshold', '0.000001')?.threshold).toBe(0.000001);
  });

  it('checks choices', () => {
    expect(errorOf('--provider', 'anthropic').message).toMatchInlineSnapshot(
      `"Expected \`--provider\` to be one of gemini, openai, got "anthropic""`,
    );
  });

  it('rejects an empty string value', () => {
    expect(errorOf('--output', '').message).toMatchInlineSnapshot(`"Expected \`--output\` to be a non-empty value"`);
  });

  it('exits with code 2 through UsageError', () => {
    expect(errorOf('--concurrency', '-3').exitCode).toBe(2);
  });

  it('prints the help and returns undefined for --help', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    expect(parse('--help')).toBeUndefined();
    expect(parse('--concurrency', '4', '--help')).toBeUndefined();
    expect(write).toHaveBeenCalledWith(HELP);
  });
});

describe('nearestFlag', () => {
  it('finds one slip (a missing, extra, wrong or swapped letter) and a prefix, and nothing for a different word', () => {
    const names = ['limit', 'input', 'output', 'num-conversations', 'dry-run', 'help'];
    expect(nearestFlag('--limt', names)).toBe('limit');
    expect(nearestFlag('--lmiit', names)).toBe('limit');
    expect(nearestFlag('--num-conversation', names)).toBe('num-conversations');
    expect(nearestFlag('--dryrun', names)).toBe('dry-run');
    expect(nearestFlag('--bogus', names)).toBeUndefined();
    expect(nearestFlag('--x', names)).toBeUndefined();
  });
});

describe('usageText', () => {
  it('keeps two spaces between a long flag and its help', () => {
    const text = helpColumns([
      ['  --format messages|nanochat|sharegpt|trl|axolotl', 'training format'],
      ['  --x', 'short'],
    ]);
    const [first, second] = text.split('\n');
    expect(first).toMatch(/axolotl {2}training format$/);
    // Both help texts start in the same column.
    expect(second!.indexOf('short')).toBe(first!.indexOf('training format'));
    const help = usageText('7_select_top.ts', 'Stage 7.', {
      format: {
        kind: 'string',
        help: 'training format',
        choices: ['messages', 'nanochat', 'sharegpt', 'openai', 'axolotl'],
      },
    });
    expect(help).toMatch(/--format messages\|nanochat\|sharegpt\|openai\|axolotl {2,}training format/);
  });

  it('lists every flag with its value placeholder and default', () => {
    expect(HELP).toContain('Usage: npx tsx 6_deduplicate.ts [flags]');
    expect(HELP).toMatch(/--concurrency N +most requests in flight at once \(default 30\)/);
    expect(HELP).toMatch(/--threshold X +cosine .* \(default 0\.95\)/);
    expect(HELP).toMatch(/--provider gemini\|openai +gemini or openai\n/);
    expect(HELP).toMatch(/--fresh +start over\n/);
    expect(HELP).toMatch(/--help +print this help\n$/);
  });

  it('reads numbers in decimal only: hex, exponents and padding are refused, not reinterpreted', () => {
    expect(errorOf('--concurrency', '0x10').message).toMatchInlineSnapshot(
      `"Expected \`--concurrency\` to be an integer ≥ 1, got 0x10"`,
    );
    expect(errorOf('--concurrency', '1e3').message).toMatch(/got 1e3$/);
    expect(errorOf('--concurrency', ' 8').message).toMatch(/integer ≥ 1/);
    expect(errorOf('--concurrency', '99999999999999999999').message).toMatch(/integer ≥ 1/);
    expect(errorOf('--threshold', '0x1').message).toMatch(/got 0x1$/);
    expect(parse('--concurrency', '016')?.concurrency).toBe(16);
    expect(parse('--threshold', '.5')?.threshold).toBe(0.5);
    expect(parse('--threshold', '5e-1')?.threshold).toBe(0.5);
  });
});
