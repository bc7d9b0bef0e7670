/**
 * Stage 7 — select the training set.
 *
 * Reads output/conversations_deduplicated.jsonl, keeps passing conversations and chooses top-K of them: the ones
 * covering the most facts first (greedy maximum coverage), then the sampled mix (persona, style, emotion, turns,
 * system prompt) nearest its targets, then the fewest near-duplicates (stage 6's report); `--select first` takes the
 * first top-K in input order, as the original did. Prints and records the coverage and mix beside the first-K
 * prefix's, and writes output/conversations_final.jsonl in the chosen training format. Every line is checked against its
 * target loader's rules before the file is written; token lengths are reported against nanochat's 2,048 limit.
 *
 * `--parquet` also writes the set as parquet (a `messages` column of role/content structs, SmolTalk's shape) and a
 * dataset card with the Hub's YAML header beside it, ready for scripts/push_to_hub.ts.
 * `--system drop` is refused with a format that keeps the system message (all but nanochat), instead of ignored.
 *
 *   npx tsx 7_select_top.ts [--top-k N] [--format messages|nanochat|sharegpt|openai|axolotl] [--system merge|drop] [--max-tokens N] [--parquet]
 */
import { basename } from 'node:path';
import { runIfMain, usageText, type Flags } from './src/cli.js';
import { DEFAULT_DOMAIN, PARAMS } from './src/config.js';
import { PATHS } from './src/pipeline.js';
import { dedupReportPath, selectedPath } from './src/io/sidecars.js';
import {
  EXPORT_FORMATS,
  FORMAT_RULES,
  keepsSystem,
  SYSTEM_MODES,
  toExportRow,
  type ExportFormat,
  type Message,
  type SystemMode,
} from './src/export/formats.js';
import { checkExportRow, OPENAI_MIN_EXAMPLES } from './src/export/loader_rules.js';
import { hubFiles, writeDatasetCard } from './src/export/dataset_card.js';
import { parquetMessages, writeMessagesParquet } from './src/export/parquet.js';
import { readProvenance } from './src/export/provenance.js';
import { UsageError } from './src/errors.js';
import { countTokens, NANOCHAT_MAX_TOKENS, tokenStats } from './src/export/tokens.js';
import { conversationFactIds } from './src/facts.js';
import { iterateJsonl, writeJsonl } from './src/io/jsonl.js';
import { loadDomain } from './src/domain.js';
import { sampledDimensions } from './src/report/targets.js';
import { crowding, readDedupReport } from './src/select/dedup_report.js';
import { effectiveTargets, mixCounts, mixDistance } from './src/select/mix.js';
import { factsCovered, firstK, selectConversations, type Candidate } from './src/select/select.js';
import { UniqueConversation } from './src/schemas.js';
import { offlineStageFlagSet } from './src/stage/flags.js';
import { StageRun } from './src/stage/stage_run.js';

export const FLAGS = offlineStageFlagSet([PATHS.conversationsDeduplicated, PATHS.conversationsFinal], {
  'top-k': { kind: 'int', help: 'conversations in the training set', default: PARAMS.topK, min: 1 },
  format: {
    kind: 'string',
    help: "training format, each line checked by its loader's rules (listed below)",
    default: 'messages',
    choices: EXPORT_FORMATS,
  },
  system: {
    kind: 'string',
    help: 'nanochat only: merge the system prompt into the first user message, or drop it (the other formats keep it)',
    default: 'merge',
    choices: SYSTEM_MODES,
  },
  select: {
    kind: 'string',
    help: 'coverage: most facts, then the mix, then fewest near-duplicates; first: the first top-K in input order',
    default: 'coverage',
    choices: ['coverage', 'first'],
  },
  domain: {
    kind: 'string',
    help: `domain file the run used, for the persona and system-prompt targets (default ${DEFAULT_DOMAIN} if present)`,
  },
  'max-tokens': {
    kind: 'int',
    help: `drop conversations longer than N tokens (nanochat renders at most ${NANOCHAT_MAX_TOKENS})`,
    min: 1,
  },
  parquet: {
    kind: 'boolean',
    help: 'also write <output>.parquet (messages: list of role/content) and <output>.README.md, a Hub dataset card',
  },
});

const SUMMARY =
  'Stage 7: keep passing conversations, take the top K and write the training set → conversations_final.jsonl';

/** `--help`: the flags, then each `--format` with the trainer that reads it and the rules its lines are checked by. */
export function selectHelp(): string {
  const width = Math.max(...EXPORT_FORMATS.map((f) => f.length)) + 2;
  const rules = EXPORT_FORMATS.map((f) => `  ${f.padEnd(width)}${FORMAT_RULES[f]}`).join('\n');
  return `${usageText('7_select_top.ts', SUMMARY, FLAGS)}\n--format, the trainer that reads it, and the rules each line is checked by:\n${rules}\n`;
}

export async function selectTop(flags: Flags<typeof FLAGS>): Promise<number> {
  const format = flags.format as ExportFormat;
  const system = flags.system as SystemMode;
  // Refused before any work: with these formats the system message is part of the row, so "drop" would do nothing.
  if (system === 'drop' && keepsSystem(format))
    throw new UsageError(
      `\`--system drop\` applies to --format nanochat only; --format ${format} keeps the system message as its first turn (leave --system out)`,
    );
  if (format === 'openai' && flags['top-k'] < OPENAI_MIN_EXAMPLES)
    throw new UsageError(
      `Expected \`--top-k\` to be at least ${OPENAI_MIN_EXAMPLES} with --format openai (the fine-tuning API refuses a smaller file), got ${flags['top-k']}`,
    );
  const run = new StageRun({
    stage: 'select_top',
    artifact: flags.output,
    inputs: [flags.input],
    outputs: flags.parquet ? hubFiles(flags.output) : {},
    noCalls: true,
    settings: { top_k: flags['top-k'], select: flags.select, format, system, max_tokens: flags['max-tokens'] ?? null },
    concurrency: 1,
    quiet: flags.quiet,
  });

  // 1. Stream the deduplicated conversations: the candidates are the passing ones within the token limit whose
  //    line its loader accepts.
  const missingHint = 'run stage 6 first: npx tsx 6_deduplicate.ts';
  const MIX = ['persona', 'style', 'emotion', 'turns', 'system_prompt'];
  const domain = loadDomain(flags.domain, DEFAULT_DOMAIN);
  const dimensions = sampledDimensions(domain).filter((d) => MIX.includes(d.key));
  const candidates: Candidate[] = [];
  const rowOf: number[] = [];
  let firstRuleBreak: string | undefined;
  let index = -1;
  for await (const { row, line } of iterateJsonl(flags.input, UniqueConversation, { missingHint })) {
    run.throwIfInterrupted();
    index++;
    run.addRead();
    if (!row.judgment.overall_pass) {
      run.filter('not_passing');
      continue;
    }
    if (flags.select === 'first' && candidates.length >= flags['top-k']) {
      run.filter('beyond_top_k');
      continue;
    }
    const length = countTokens(row.conversation.messages, { system: format === 'nanochat' ? system : 'merge' });
    if (flags['max-tokens'] !== undefined && length > flags['max-tokens']) {
      run.filter('over_max_tokens');
      continue;
    }
    // 2. Check each line against its loader before anything is written.
    const problem = checkExportRow(toExportRow(row.conversation.messages, format, { system }), format);
    if (problem) {
      firstRuleBreak ??= `${flags.input}:${line}: ${problem}`;
      run.filter('loader_rule');
      continue;
    }
    candidates.push({
      facts: conversationFactIds(row.conversation.source_qa_pairs),
      mix: dimensions.map((d) => d.value(row.conversation.metadata)),
      crowd: index,
    });
    rowOf.push(index);
  }
  // Crowding needs every kept row's place in the embedded file, so it is filled in once the count is known.
  const removed = await readDedupReport(dedupReportPath(flags.input));
  const crowd = removed ? crowding(removed, index + 1) : undefined;
  for (const c of candidates) c.crowd = crowd?.[c.crowd] ?? 0;
  const chosen =
    flags.select === 'first'
      ? firstK(candidates, flags['top-k'])
      : selectConversations(candidates, flags['top-k'], dimensions);
  run.filter('not_selected', candidates.length - chosen.length);

  // What the choice gives, beside the first-K prefix of the same candidates.
  const targets = effectiveTargets(
    dimensions,
    candidates.map((c) => c.mix),
  );
  const summary = (rows: number[]) => {
    const mix = mixCounts(
      targets,
      rows.map((i) => candidates[i]!.mix),
    );
    return {
      conversations: rows.length,
      facts_covered: factsCovered(candidates, rows),
      mix,
      mix_distance: mixDistance(targets, mix),
    };
  };
  const selection = {
    method: flags.select,
    candidates: candidates.length,
    facts_in_candidates: factsCovered(
      candidates,
      candidates.map((_, i) => i),
    ),
    crowding_from: removed ? dedupReportPath(flags.input) : null,
    selected: summary(chosen),
    first_k: summary(firstK(candidates, flags['top-k'])),
  };
  const tvd = (m: Record<string, number>) =>
    Object.entries(m)
      .map(([k, v]) => `${k} ${v.toFixed(2)}`)
      .join(' · ');
  run.log(
    `selection (${flags.select}): ${chosen.length} of ${candidates.length} candidates cover ${selection.selected.facts_covered} of ${selection.facts_in_candidates} facts; the first ${selection.first_k.conversations} would cover ${selection.first_k.facts_covered}`,
  );
  run.log(`mix distance from targets (0 = on target), selected: ${tvd(selection.selected.mix_distance)}`);
  run.log(
    `mix distance from targets, first ${selection.first_k.conversations}:  ${tvd(selection.first_k.mix_distance)}`,
  );

  // 2b. Read the input again and keep the chosen rows, in input order, with their facts for stats and the report.
  const wanted = new Map(chosen.map((i) => [rowOf[i]!, i]));
  const rows: unknown[] = [];
  const tokens: number[] = [];
  const sources: Array<{ index: number; fact_ids: string[] }> = [];
  const parquetRows: Message[][] = [];
  let at = -1;
  for await (const { row } of iterateJsonl(flags.input, UniqueConversation, { missingHint })) {
    const c = wanted.get(++at);
    if (c === undefined) continue;
    rows.push(toExportRow(row.conversation.messages, format, { system }));
    if (flags.parquet) parquetRows.push(parquetMessages(row.conversation.messages, format, system));
    tokens.push(countTokens(row.conversation.messages, { system: format === 'nanochat' ? system : 'merge' }));
    sources.push({ index: at, fact_ids: candidates[c]!.facts });
  }

  // 3. Write the training set and report its token lengths.
  await run.stopIfInterrupted();
  run.setWritten(await writeJsonl(flags.output, run.untilInterrupted(rows)));
  await writeJsonl(selectedPath(flags.output), sources);
  run.addOutput(selectedPath(flags.output));
  if (format === 'openai' && run.counts.written < OPENAI_MIN_EXAMPLES)
    process.stderr.write(
      `warning: ${flags.output} has ${run.counts.written} rows; the OpenAI fine-tuning API refuses a training file with fewer than ${OPENAI_MIN_EXAMPLES}\n`,
    );
  if (firstRuleBreak)
    process.stderr.write(
      `warning: ${run.counts.filtered.loader_rule} conversations break the ${format} loader's rules and were left out; first: ${firstRuleBreak}\n`,
    );
  const stats = tokenStats(tokens);
  const over = tokens.filter((t) => t > NANOCHAT_MAX_TOKENS).length;
  run.log(
    `tokens per conversation: min ${stats.min} · p50 ${stats.p50} · p90 ${stats.p90} · p99 ${stats.p99} · max ${stats.max}`,
  );
  if (over)
    process.stderr.write(
      `warning: ${over} conversations exceed nanochat's ${NANOCHAT_MAX_TOKENS}-token limit and would be truncated (--max-tokens ${NANOCHAT_MAX_TOKENS} drops them)\n`,
    );

  // 4. With --parquet: the same rows as parquet, and the dataset card that describes them for the Hub.
  if (flags.parquet) {
    // A Ctrl-C that cut the JSONL short must not leave a parquet with more rows than it.
    await run.stopIfInterrupted();
    const files = hubFiles(flags.output);
    writeMessagesParquet(files.parquet, parquetRows);
    writeDatasetCard(files.card, {
      domain: domain.name,
      rows: parquetRows.length,
      format,
      system,
      jsonlName: basename(flags.output),
      provenance: readProvenance(flags.input),
      selection: {
        ...selection.selected,
        method: flags.select,
        candidates: candidates.length,
        facts_in_candidates: selection.facts_in_candidates,
      },
      tokens: stats,
      overTokenLimit: over,
      createdAt: new Date().toISOString(),
    });
    run.log(
      `parquet: ${files.parquet} · dataset card: ${files.card} (publish with scripts/push_to_hub.ts --repo ORG/NAME)`,
    );
  }
  return run.finish({ token_stats: stats, over_token_limit: over, selection });
}

runIfMain(import.meta.url, '7_select_top.ts', SUMMARY, FLAGS, selectTop, selectHelp);
