// The pipeline, listed once: its artifacts (file, what they hold, their schema) and its seven stages (script, the
// artifacts they write, their role). The trial, stats, the report and `make help` read these tables, so a new stage is
// its script plus one row here.
import type { z } from 'zod';
import {
  Conversation,
  EmbeddedConversation,
  JudgedConversation,
  QAPair,
  TrainingExample,
  ValidatedQAPair,
} from './schemas.js';

/** Every artifact of a run, in pipeline order; `schema` is what the trial checks each line against. */
export const ARTIFACTS = {
  qaPairs: { file: 'qa_pairs.jsonl', label: 'Q&A pairs', schema: QAPair },
  qaValidated: { file: 'qa_pairs_validated.jsonl', label: 'Validated Q&A', schema: ValidatedQAPair },
  qaPassed: { file: 'qa_pairs_validated_passed.jsonl', label: 'Passing Q&A', schema: QAPair },
  conversationsRaw: { file: 'conversations_raw.jsonl', label: 'Raw conversations', schema: Conversation },
  conversationsJudged: {
    file: 'conversations_judged.jsonl',
    label: 'Judged conversations',
    schema: JudgedConversation,
  },
  conversationsEmbedded: {
    file: 'conversations_embedded.jsonl',
    label: 'Embedded conversations',
    schema: EmbeddedConversation,
  },
  conversationsDeduplicated: {
    file: 'conversations_deduplicated.jsonl',
    label: 'Deduplicated conversations',
    schema: JudgedConversation,
  },
  // Stage 7 may write any export format; the trial writes the default one, `messages`.
  conversationsFinal: { file: 'conversations_final.jsonl', label: 'Training set (messages)', schema: TrainingExample },
} satisfies Record<string, { file: string; label: string; schema: z.ZodType }>;

export type ArtifactName = keyof typeof ARTIFACTS;
export type ArtifactPaths = Record<ArtifactName, string>;

/** Artifact paths; the trial run uses the same names prefixed with `trial_`. */
export function artifactPaths(prefix = '', dir = 'output'): ArtifactPaths {
  const entries = Object.entries(ARTIFACTS).map(([name, a]) => [name, `${dir}/${prefix}${a.file}`]);
  return Object.fromEntries(entries) as ArtifactPaths;
}
export const PATHS = artifactPaths();

interface StageRow {
  n: number;
  /** The stage's name in its manifest and summary line. */
  name: string;
  script: string;
  /** What it does, for `make help` and the trial's headers. */
  role: string;
  title: string;
  /** The artifacts it writes, its primary one (the one its manifest is named after) first. */
  artifacts: readonly ArtifactName[];
  /** An LLM stage: its defaults in config.ts STAGES, and its progress label. */
  llm?: 'extract' | 'validate' | 'generate' | 'judge';
}

export const PIPELINE = [
  {
    n: 1,
    name: 'extract_qa',
    script: '1_extract_qa.ts',
    title: 'Q&A EXTRACTION',
    role: 'extract Q&A pairs',
    artifacts: ['qaPairs'],
    llm: 'extract',
  },
  {
    n: 2,
    name: 'validate_qa',
    script: '2_validate_qa.ts',
    title: 'Q&A VALIDATION',
    role: 'validate Q&A pairs',
    artifacts: ['qaValidated', 'qaPassed'],
    llm: 'validate',
  },
  {
    n: 3,
    name: 'generate_conversations',
    script: '3_generate_conversations.ts',
    title: 'CONVERSATION GENERATION',
    role: 'generate conversations',
    artifacts: ['conversationsRaw'],
    llm: 'generate',
  },
  {
    n: 4,
    name: 'judge',
    script: '4_judge_and_save.ts',
    title: 'JUDGING',
    role: 'judge conversations',
    artifacts: ['conversationsJudged'],
    llm: 'judge',
  },
  {
    n: 5,
    name: 'embed',
    script: '5_embed_conversations.ts',
    title: 'EMBEDDINGS',
    role: 'embed conversations',
    artifacts: ['conversationsEmbedded'],
  },
  {
    n: 6,
    name: 'deduplicate',
    script: '6_deduplicate.ts',
    title: 'DEDUPLICATION',
    role: 'remove near-duplicates',
    artifacts: ['conversationsDeduplicated'],
  },
  {
    n: 7,
    name: 'select_top',
    script: '7_select_top.ts',
    title: 'TOP-K SELECTION',
    role: 'select the top-K training set',
    artifacts: ['conversationsFinal'],
  },
] as const satisfies readonly StageRow[];

export type PipelineStage = (typeof PIPELINE)[number];
export type PipelineStageName = PipelineStage['name'];

/** The stage whose calls use config.ts STAGES[key]. */
export function llmStageName(key: NonNullable<StageRow['llm']>): PipelineStageName {
  return PIPELINE.find((s) => 'llm' in s && s.llm === key)!.name;
}

/** The artifact a stage's manifest, checkpoint and ledger are named after. */
export function primaryArtifact(stage: PipelineStage): ArtifactName {
  return stage.artifacts[0];
}

/** The two runs that share an output folder; the trial's artifacts carry a `trial_` prefix. */
export const RUNS = [
  { prefix: '', label: 'Full run', make: 'make full', report: 'report.html' },
  { prefix: 'trial_', label: 'Trial', make: 'make trial', report: 'trial_report.html' },
] as const;
