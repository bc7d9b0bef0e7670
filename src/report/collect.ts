// Reads one run (the full run or the trial) from its artifacts and manifests, streaming each file once: row counts,
// criterion pass rates, the sampled mix, similarities of removed duplicates and a sample of conversations to review.
import { existsSync } from 'node:fs';
import { artifactPaths, PIPELINE, primaryArtifact, RUNS, type PipelineStage } from '../pipeline.js';
import { checkpointPath, dedupReportPath, selectedPath } from '../io/sidecars.js';
import { SWAP_DOMAIN, type Domain } from '../domain.js';
import {
  Conversation,
  EmbeddedConversation,
  JUDGE_CRITERIA,
  JudgedConversation,
  QA_CRITERIA,
  QAPair,
  ValidatedQAPair,
} from '../schemas.js';
import { RemovedDuplicate } from '../select/dedup_report.js';
import { FinalRow } from './final_rows.js';
import { ListingBuilder, type ListedConversation, type Listing } from './listing.js';
import { readManifest, type Manifest } from './manifest.js';
import { countLines, countObjectLines, scan } from './scan.js';
import { sampledDimensions } from './targets.js';

export type StageStatus = 'done' | 'no manifest' | 'artifact missing' | 'not run';

export interface StageData {
  n: number;
  name: string;
  script: string;
  artifact: string;
  status: StageStatus;
  /** Rows in the artifact as it is now; undefined when there is no artifact. */
  rows?: number;
  manifest?: Manifest;
  /** What the reader should know: a stale or edited artifact, an interrupted run. */
  notes: string[];
}

export interface Criterion {
  stage: number;
  name: string;
  passed: number;
  total: number;
}

export interface DistributionData {
  key: string;
  title: string;
  counts: Record<string, number>;
  /** Configured share per value (sums to 1). */
  target: Record<string, number>;
  total: number;
  note?: string;
}

export type { ListedConversation } from './listing.js';

export interface RunData {
  label: string;
  prefix: string;
  dir: string;
  stages: StageData[];
  funnel: Array<{ label: string; count: number | undefined }>;
  criteria: Criterion[];
  /** The mix of generated conversations (stage 3); empty before stage 3 ran. */
  distributions: DistributionData[];
  /** Similarities of the conversations stage 6 removed, from its report file. */
  similarities?: number[];
  dedupThreshold?: number;
  conversations: ListedConversation[];
  /** Beside the list: the kept rows of listed duplicates, whether the list is a sample, and what it cannot mark. */
  review: Omit<Listing, 'conversations'>;
  /** Rows in the file the (sampled) list was read from. */
  conversationTotal: number;
  conversationSource?: 'judged' | 'raw';
}

export interface CollectOptions {
  dir?: string;
  /** '' for the full run, 'trial_' for the trial. */
  prefix?: string;
  /** Gives the persona and system-prompt targets (default: the built-in SWAP Commerce domain). */
  domain?: Domain;
  /** How many conversations to keep for the browsable list (0 for stats). */
  listLimit?: number;
}

export { dedupReportPath };

/** Everything stats and the report show for one run, or undefined when none of its stages has left a trace. */
export async function collectRun(options: CollectOptions): Promise<RunData | undefined> {
  const dir = options.dir ?? 'output';
  const prefix = options.prefix ?? '';
  const listLimit = options.listLimit ?? 0;
  const paths = artifactPaths(prefix, dir);
  const artifactOf = (spec: PipelineStage) => paths[primaryArtifact(spec)];
  const manifests = PIPELINE.map((spec) => readManifest(artifactOf(spec)));
  if (!PIPELINE.some((spec, i) => manifests[i] || existsSync(artifactOf(spec)))) return undefined;

  const rows: Record<number, number | undefined> = {};
  const judgedExists = existsSync(paths.conversationsJudged);
  const listing = await ListingBuilder.start(
    paths,
    selectedPath(paths.conversationsFinal),
    judgedExists ? paths.conversationsJudged : paths.conversationsRaw,
    listLimit,
  );

  rows[1] = await scan(paths.qaPairs, QAPair);

  const qa = new CriterionTally([...QA_CRITERIA, 'passed']);
  rows[2] = await scan(paths.qaValidated, ValidatedQAPair, (row) => qa.add(row.validation));
  const passedPairs = await scan(paths.qaPassed, QAPair);

  const dimensions = sampledDimensions(options.domain ?? SWAP_DOMAIN);
  const mix = dimensions.map(() => new Map<string, number>());
  rows[3] = await scan(paths.conversationsRaw, Conversation, (row, index) => {
    dimensions.forEach((dimension, d) => {
      const value = dimension.value(row.metadata);
      if (value !== undefined) mix[d]!.set(value, (mix[d]!.get(value) ?? 0) + 1);
    });
    if (!judgedExists) listing.offer(index, { conversation: row });
  });

  const judge = new CriterionTally([...JUDGE_CRITERIA, 'overall_pass']);
  rows[4] = await scan(paths.conversationsJudged, JudgedConversation, (row, index) => {
    judge.add(row.judgment);
    listing.offer(index, row);
  });

  rows[5] = await countObjectLines(paths.conversationsEmbedded, EmbeddedConversation);

  let uniquePassing = 0;
  rows[6] = await scan(paths.conversationsDeduplicated, JudgedConversation, (row) => {
    if (row.judgment.overall_pass) uniquePassing++;
  });
  const reportFile = dedupReportPath(paths.conversationsDeduplicated);
  let similarities: number[] | undefined;
  if (existsSync(reportFile)) {
    similarities = [];
    await scan(reportFile, RemovedDuplicate, (row) => similarities!.push(row.similarity));
  }

  rows[7] = await scan(paths.conversationsFinal, FinalRow);
  const { conversations, ...review } = listing.finish(rows[4], rows[5]);

  const stages = await Promise.all(
    PIPELINE.map((spec, i) => stageData(spec, artifactOf(spec), rows[spec.n], manifests, i)),
  );
  const chunks = manifests[0]?.settings.chunks;
  const dedupSettings = manifests[5]?.settings ?? {};
  const threshold = dedupSettings.threshold ?? dedupSettings.similarity_threshold;
  return {
    label: RUNS.find((r) => r.prefix === prefix)?.label ?? `Run ${prefix}`,
    prefix,
    dir,
    stages,
    funnel: [
      { label: 'chunks', count: typeof chunks === 'number' ? chunks : undefined },
      { label: 'Q&A pairs', count: rows[1] },
      { label: 'validated Q&A', count: passedPairs },
      { label: 'conversations', count: rows[3] },
      { label: 'judged passing', count: rows[4] === undefined ? undefined : judge.passedOf('overall_pass') },
      { label: 'deduplicated passing', count: rows[6] === undefined ? undefined : uniquePassing },
      { label: 'final', count: rows[7] },
    ],
    criteria: [...(rows[2] === undefined ? [] : qa.criteria(2)), ...(rows[4] === undefined ? [] : judge.criteria(4))],
    distributions: rows[3]
      ? dimensions
          .map((dimension, d) => distribution(dimension.key, dimension.title, dimension.target, mix[d]!))
          .filter((x) => x.total > 0)
      : [],
    similarities,
    dedupThreshold: typeof threshold === 'number' ? threshold : undefined,
    conversations,
    review,
    conversationTotal: (judgedExists ? rows[4] : rows[3]) ?? 0,
    conversationSource: judgedExists ? 'judged' : rows[3] !== undefined ? 'raw' : undefined,
  };
}

async function stageData(
  spec: PipelineStage,
  artifact: string,
  rows: number | undefined,
  manifests: Array<Manifest | undefined>,
  i: number,
): Promise<StageData> {
  const manifest = manifests[i];
  const notes: string[] = [];
  let status: StageStatus = manifest
    ? rows === undefined
      ? 'artifact missing'
      : 'done'
    : rows === undefined
      ? 'not run'
      : 'no manifest';
  // Stage 4 writes the final file too (its top-K, as the original did) until stage 7 replaces it.
  if (spec.n === 7 && !manifest && rows !== undefined && manifests[3]?.outputs.includes(artifact)) {
    status = 'not run';
    notes.push(`${artifact} holds stage 4's top-K passing conversations until stage 7 runs`);
  }
  const written = manifest?.counts.written;
  if (written !== undefined && rows !== undefined && written !== rows)
    notes.push(
      `${artifact} has ${rows} rows but its manifest says ${written} were written: changed since the stage ran?`,
    );
  const checkpoint = checkpointPath(artifact);
  if (status === 'not run' && existsSync(checkpoint)) {
    const saved = await countLines(checkpoint);
    notes.push(`${saved} finished items saved in ${checkpoint}: interrupted or still running`);
  }
  const started = manifest?.started_at;
  if (started) {
    const newer = manifests.slice(0, i).findLastIndex((m) => m?.started_at !== undefined && m.started_at > started);
    if (newer >= 0) notes.push(`ran before the latest run of stage ${newer + 1}: its output may be out of date`);
  }
  return {
    n: spec.n,
    name: manifest?.stage ?? spec.name,
    script: spec.script,
    artifact,
    status,
    rows,
    manifest,
    notes,
  };
}

function distribution(
  key: string,
  title: string,
  configured: Record<string, number>,
  counts: Map<string, number>,
): DistributionData {
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  let target = configured;
  let note: string | undefined;
  // A run made with another domain file: its personas are not the ones we know, so compare with an equal share.
  if (total > 0 && ![...counts.keys()].some((k) => k in configured)) {
    target = Object.fromEntries([...counts.keys()].map((k) => [k, 1 / counts.size]));
    note = `target assumed to be an equal share of the ${counts.size} values seen (pass --domain with the run's domain file)`;
  }
  const ordered = [...Object.keys(target), ...[...counts.keys()].filter((k) => !(k in target)).sort()];
  return {
    key,
    title,
    counts: Object.fromEntries(ordered.map((k) => [k, counts.get(k) ?? 0])),
    target,
    total,
    ...(note ? { note } : {}),
  };
}

class CriterionTally {
  private readonly passed: Record<string, number> = {};
  private total = 0;

  constructor(private readonly names: string[]) {
    for (const name of names) this.passed[name] = 0;
  }

  add(row: object): void {
    this.total++;
    for (const name of this.names) if ((row as Record<string, unknown>)[name] === true) this.passed[name]!++;
  }

  passedOf(name: string): number {
    return this.passed[name] ?? 0;
  }

  criteria(stage: number): Criterion[] {
    return this.names.map((name) => ({ stage, name, passed: this.passed[name]!, total: this.total }));
  }
}
