// The dataset card (README.md with the Hub's YAML header) that goes beside the parquet export and up to the Hub.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import type { ExportFormat, SystemMode } from './formats.js';
import type { Provenance } from './provenance.js';
import type { TokenStats } from './tokens.js';

/** Where each file sits in the Hub repository; the card's `configs` and scripts/push_to_hub.ts both use it. */
export const HUB_PATHS = { card: 'README.md', parquet: 'data/train-00000-of-00001.parquet' } as const;

export interface CardInfo {
  /** Company or domain the facts describe (the domain file's name). */
  domain: string;
  rows: number;
  format: ExportFormat;
  system: SystemMode;
  /** The JSONL's file name in the repository (uploaded beside the parquet as it is). */
  jsonlName: string;
  provenance: Provenance;
  selection: {
    method: string;
    candidates: number;
    facts_in_candidates: number;
    facts_covered: number;
    mix_distance: Record<string, number>;
  };
  tokens: TokenStats;
  overTokenLimit: number;
  createdAt: string;
}

/**
 * The Hub's size buckets for `size_categories` (huggingface_hub's datasetcard template and the cards the Hub
 * writes itself, e.g. `n<1K`, `1K<n<10K`, `100K<n<1M`).
 */
export function sizeCategory(rows: number): string {
  const buckets: Array<[number, string]> = [
    [1e3, 'n<1K'],
    [1e4, '1K<n<10K'],
    [1e5, '10K<n<100K'],
    [1e6, '100K<n<1M'],
    [1e7, '1M<n<10M'],
    [1e8, '10M<n<100M'],
    [1e9, '100M<n<1B'],
  ];
  return buckets.find(([limit]) => rows < limit)?.[1] ?? 'n>1T';
}

// JSON strings are valid YAML double-quoted scalars, so any text (colons, quotes, "#") is safe in the header.
const q = (text: string) => JSON.stringify(text);
const percent = (passed: number, total: number) => (total ? `${((100 * passed) / total).toFixed(1)}%` : '–');

/**
 * The card: a YAML header the Hub reads (size category, task, tags, the parquet `configs` and its `messages` feature)
 * and a body with what a reader needs to trust the data: the files and formats, the models that wrote and judged
 * it, every pass rate, the fact coverage and how it was made.
 */
export function datasetCard(info: CardInfo): string {
  const title = `${info.domain} synthetic support conversations`;
  const yaml = [
    '---',
    `pretty_name: ${q(title)}`,
    'language:',
    '- en',
    'task_categories:',
    '- text-generation',
    'tags:',
    '- synthetic',
    '- conversational',
    '- sft',
    `- ${q(`format:${info.format}`)}`,
    'annotations_creators:',
    '- machine-generated',
    'language_creators:',
    '- machine-generated',
    'source_datasets:',
    '- original',
    'size_categories:',
    `- ${sizeCategory(info.rows)}`,
    'configs:',
    '- config_name: default',
    '  data_files:',
    '  - split: train',
    `    path: ${HUB_PATHS.parquet}`,
    'dataset_info:',
    '  features:',
    '  - name: messages',
    '    list:',
    '    - name: role',
    '      dtype: string',
    '    - name: content',
    '      dtype: string',
    '  splits:',
    '  - name: train',
    `    num_examples: ${info.rows}`,
    '---',
  ];
  const { provenance: p, selection: s, tokens: t } = info;
  const models = p.models.length
    ? [
        '| stage | model requested | version that answered | calls |',
        '|---|---|---|---:|',
        ...p.models.map((m) => `| ${m.stage} | ${m.requested} | ${m.version} | ${m.calls} |`),
      ]
    : ['Not recorded: the manifests of stages 1–5 were not found next to the input.'];
  const rates = p.passRates.length
    ? [
        '| stage | criterion | passed | rate |',
        '|---|---|---:|---:|',
        ...p.passRates.map(
          (r) => `| ${r.stage} | ${r.criterion} | ${r.passed}/${r.total} | ${percent(r.passed, r.total)} |`,
        ),
      ]
    : ['Not recorded: the manifests of stages 2 and 4 were not found next to the input.'];
  const dedup = p.settings.deduplicate;
  const body = [
    `# ${title}`,
    '',
    `${info.rows} multi-turn conversations between a user and ${info.domain}'s assistant, generated from a facts file by`,
    'synth-chat-pipeline and checked by an LLM judge, for supervised fine-tuning.',
    '',
    '## Files and formats',
    '',
    `- \`${HUB_PATHS.parquet}\`: one \`messages\` column, a list of \`{role, content}\` structs (SmolTalk's shape)${info.format === 'nanochat' ? `, system prompt ${info.system === 'merge' ? 'merged into the first user message' : 'dropped'}` : ', system message first'}. \`datasets.load_dataset("parquet", data_files=...)\` or this repository's name loads it.`,
    `- \`${info.jsonlName}\`: the same conversations as JSONL in \`--format ${info.format}\`, checked line by line against that trainer's loader rules.`,
    '',
    '## Models used',
    '',
    ...models,
    '',
    '## Pass rates',
    '',
    ...rates,
    '',
    '## Coverage',
    '',
    `- Selection \`${s.method}\`: ${info.rows} of ${s.candidates} passing, deduplicated candidates; they cover ${s.facts_covered} of the ${s.facts_in_candidates} facts the candidates cover.`,
    `- Mix distance from the sampling targets (0 = on target): ${
      Object.entries(s.mix_distance)
        .map(([k, v]) => `${k} ${v.toFixed(2)}`)
        .join(', ') || '–'
    }.`,
    `- Tokens per conversation (nanochat rendering, cl100k estimate): min ${t.min}, median ${t.p50}, p90 ${t.p90}, max ${t.max}; ${info.overTokenLimit} over nanochat's 2,048.`,
    '',
    '## How it was made',
    '',
    '1. Q&A pairs extracted from each line of the facts file, then validated (grounded, realistic, sensible).',
    '2. Conversations generated from validated pairs with a sampled persona, style, emotion, input modality, text variation, turn count and system prompt.',
    '3. Each conversation judged per assistant turn against its source facts (factually accurate, natural, on topic, adds value); only passing ones kept.',
    `4. Near-duplicates removed${typeof dedup?.threshold === 'number' ? ` (${String(dedup.method ?? 'cosine')} ≥ ${dedup.threshold})` : ''}, then the training set selected for fact coverage and mix.`,
    '',
    `Stages with a manifest: ${p.stages.join(', ') || 'none found'}. Written ${info.createdAt}. The text is machine-generated: review it before you rely on it.`,
    '',
  ];
  return [...yaml, '', ...body].join('\n');
}

/** The files `7_select_top.ts --parquet` writes next to its JSONL output (`conversations_final.jsonl` → `….parquet`, `….README.md`). */
export function hubFiles(output: string): { parquet: string; card: string } {
  const stem = output.replace(/\.jsonl$/, '');
  return { parquet: `${stem}.parquet`, card: `${stem}.README.md` };
}

/** Writes the card atomically (temporary file, then rename), like every other artifact. */
export function writeDatasetCard(file: string, info: CardInfo): void {
  const tmp = `${file}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, datasetCard(info));
    renameSync(tmp, file);
  } catch (error) {
    rmSync(tmp, { force: true });
    throw error;
  }
}
