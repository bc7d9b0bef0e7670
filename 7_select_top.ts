/**
 * Stage 7 — select the training set.
 *
 * Reads output/conversations_deduplicated.jsonl, keeps passing conversations, takes the first top-K in input order
 * (the judge's booleans give every passing conversation the same rank, so input order decides, as in the original),
 * and writes output/conversations_final.jsonl in the chosen training format. Every line is checked against its
 * target loader's rules before the file is written; token lengths are reported against nanochat's 2,048 limit.
 *
 *   npx tsx 7_select_top.ts [--top-k N] [--format messages|nanochat|sharegpt] [--system merge|drop] [--max-tokens N]
 */
import { isMain, parseFlags, runCli, usageText, type Flags } from './src/cli.js';
import { PARAMS, PATHS, sidecarPath } from './src/config.js';
import { EXPORT_FORMATS, SYSTEM_MODES, toExportRow, type ExportFormat, type SystemMode } from './src/export/formats.js';
import { checkExportRow } from './src/export/loader_rules.js';
import { countTokens, NANOCHAT_MAX_TOKENS, tokenStats } from './src/export/tokens.js';
import { iterateJsonl, writeJsonl } from './src/jsonl.js';
import { UniqueConversation } from './src/schemas.js';
import { ioFlags, QUIET_FLAG } from './src/stage_flags.js';
import { StageRun } from './src/stage_run.js';

export const FLAGS = {
  ...ioFlags(PATHS.conversationsDeduplicated, PATHS.conversationsFinal),
  'top-k': { kind: 'int', help: 'conversations in the training set', default: PARAMS.topK, min: 1 },
  format: { kind: 'string', help: 'training format', default: 'messages', choices: EXPORT_FORMATS },
  system: { kind: 'string', help: 'nanochat: merge the system prompt into the first user message, or drop it', default: 'merge', choices: SYSTEM_MODES },
  'max-tokens': { kind: 'int', help: `drop conversations longer than N tokens (nanochat renders at most ${NANOCHAT_MAX_TOKENS})`, min: 1 },
  ...QUIET_FLAG,
} as const;

const SUMMARY = 'Stage 7: keep passing conversations, take the top K and write the training set → conversations_final.jsonl';

export async function selectTop(flags: Flags<typeof FLAGS>): Promise<number> {
  const format = flags.format as ExportFormat;
  const system = flags.system as SystemMode;
  const run = new StageRun({
    stage: 'select_top',
    artifact: flags.output,
    inputs: [flags.input],
    noCalls: true,
    settings: { top_k: flags['top-k'], format, system, max_tokens: flags['max-tokens'] ?? null },
    concurrency: 1,
    quiet: flags.quiet,
  });

  // 1. Stream the deduplicated conversations; keep passing ones within the token limit, up to top-K.
  const rows: unknown[] = [];
  const tokens: number[] = [];
  let firstRuleBreak: string | undefined;
  for await (const { row, line } of iterateJsonl(flags.input, UniqueConversation, { missingHint: 'run stage 6 first: npx tsx 6_deduplicate.ts' })) {
    run.throwIfInterrupted();
    run.counts.read++;
    if (!row.judgment.overall_pass) {
      run.filter('not_passing');
      continue;
    }
    if (rows.length >= flags['top-k']) {
      run.filter('beyond_top_k');
      continue;
    }
    const length = countTokens(row.conversation.messages, { system: format === 'nanochat' ? system : 'merge' });
    if (flags['max-tokens'] !== undefined && length > flags['max-tokens']) {
      run.filter('over_max_tokens');
      continue;
    }
    // 2. Check each line against its loader before anything is written.
    const out = toExportRow(row.conversation.messages, format, { system });
    const problem = checkExportRow(out, format);
    if (problem) {
      firstRuleBreak ??= `${flags.input}:${line}: ${problem}`;
      run.filter('loader_rule');
      continue;
    }
    rows.push(out);
    tokens.push(length);
  }

  // 3. Write the training set and report its token lengths.
  await run.stopIfInterrupted();
  run.counts.written = await writeJsonl(flags.output, run.untilInterrupted(rows));
  if (firstRuleBreak) process.stderr.write(`warning: ${run.counts.filtered.loader_rule} conversations break the ${format} loader's rules and were left out; first: ${firstRuleBreak}\n`);
  const stats = tokenStats(tokens);
  const over = tokens.filter((t) => t > NANOCHAT_MAX_TOKENS).length;
  run.log(`tokens per conversation: min ${stats.min} · p50 ${stats.p50} · p90 ${stats.p90} · p99 ${stats.p99} · max ${stats.max}`);
  if (over) process.stderr.write(`warning: ${over} conversations exceed nanochat's ${NANOCHAT_MAX_TOKENS}-token limit and would be truncated (--max-tokens ${NANOCHAT_MAX_TOKENS} drops them)\n`);
  return run.finish({ token_stats: stats, over_token_limit: over });
}

if (isMain(import.meta.url)) {
  void runCli(async () => {
    const flags = parseFlags(process.argv.slice(2), FLAGS, usageText('7_select_top.ts', SUMMARY, FLAGS));
    return flags ? selectTop(flags) : 0;
  });
}
