// What the earlier stages of a run recorded in their manifests (models, pass rates, dedup settings), for the card.
import { basename, dirname } from 'node:path';
import { z } from '../zod.js';
import { readManifestFile } from '../io/manifest_file.js';
import { manifestPath } from '../io/sidecars.js';
import { artifactPaths } from '../pipeline.js';

// Only the fields the card shows; anything else in a manifest is ignored, and a manifest that does not parse is
// treated as absent (the card says "not recorded") rather than stopping an export whose rows are fine.
const StageManifest = z.object({
  stage: z.string(),
  settings: z.record(z.string(), z.unknown()).optional(),
  models_used: z.record(z.string(), z.record(z.string(), z.number())).optional(),
  pass_rates: z.record(z.string(), z.object({ passed: z.number(), total: z.number() })).optional(),
});

export interface ModelUse {
  stage: string;
  requested: string;
  version: string;
  calls: number;
}
export interface PassRate {
  stage: string;
  criterion: string;
  passed: number;
  total: number;
}
export interface Provenance {
  /** Stages whose manifest was found, in pipeline order. */
  stages: string[];
  models: ModelUse[];
  passRates: PassRate[];
  settings: Record<string, Record<string, unknown>>;
}

const DEDUPLICATED = 'conversations_deduplicated.jsonl';

/**
 * Reads the manifests of stages 1–6 next to stage 7's input. The run's other artifacts are found by the names the
 * stages write (`output/trial_conversations_deduplicated.jsonl` → prefix `trial_`); an input named otherwise has
 * only its own manifest to go by.
 */
export function readProvenance(input: string): Provenance {
  const name = basename(input);
  let files = [input];
  if (name.endsWith(DEDUPLICATED)) {
    const p = artifactPaths(name.slice(0, -DEDUPLICATED.length), dirname(input));
    files = [
      p.qaPairs,
      p.qaValidated,
      p.conversationsRaw,
      p.conversationsJudged,
      p.conversationsEmbedded,
      p.conversationsDeduplicated,
    ];
  }
  const provenance: Provenance = { stages: [], models: [], passRates: [], settings: {} };
  for (const artifact of files) {
    const manifest = readManifestFile(manifestPath(artifact), StageManifest);
    if (!manifest) continue;
    provenance.stages.push(manifest.stage);
    provenance.settings[manifest.stage] = manifest.settings ?? {};
    for (const [requested, versions] of Object.entries(manifest.models_used ?? {})) {
      for (const [version, calls] of Object.entries(versions))
        provenance.models.push({ stage: manifest.stage, requested, version, calls });
    }
    for (const [criterion, { passed, total }] of Object.entries(manifest.pass_rates ?? {}))
      provenance.passRates.push({ stage: manifest.stage, criterion, passed, total });
  }
  return provenance;
}
