// Finds the concurrency an earlier stage reached on the same provider and model, so a run ramps up once, not per stage.
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { z } from '../zod.js';
import { readManifestFile } from '../io/manifest_file.js';
import { manifestPath } from '../io/sidecars.js';

/** What this module needs of a manifest (StageRun.finish writes it); anything else in it may change freely. */
const Manifest = z.object({
  started_at: z.string(),
  duration_s: z.number().default(0),
  inputs: z.array(z.string()).default([]),
  outputs: z.array(z.string()).default([]),
  settings: z.object({ provider: z.string().optional(), model: z.string().optional() }).loose().default({}),
  limiter: z
    .object({
      reached_concurrency: z.number().int().min(1),
      /** Absent in manifests written before it was recorded: then nobody knows, and nothing is doubled. */
      rate_limit_events: z.number().int().min(0).optional(),
    })
    .optional(),
});
type Manifest = z.infer<typeof Manifest>;

/**
 * A quota or a key can change; a stage that finished this long ago proves nothing about now, and the stage starts
 * with one request alone again.
 */
export const PROOF_MAX_AGE_MS = 6 * 3600_000;
/** Stages 1 → 7 are at most this deep; also stops a loop of manifests naming each other. */
const MAX_DEPTH = 8;

export interface Proof {
  /** Where this stage opens: see `openingConcurrency`. */
  concurrency: number;
  /** The concurrency the earlier stage's limiter had reached when it finished. */
  reached: number;
  manifest: string;
}

/**
 * The ramp doubles every round trip until a 429 says where the quota is. An earlier stage that finished without a
 * single 429 had its ramp still free to double (it was held by its own --concurrency or its item count), so this
 * stage takes the step that ramp would have taken next: twice what was reached. After a 429 the reached value is the
 * quota's edge as the limiter found it, and the stage opens there.
 */
export function openingConcurrency(reached: number, rateLimitEvents: number | undefined): number {
  return rateLimitEvents === 0 ? reached * 2 : reached;
}

/**
 * The nearest manifest up the chain of inputs (the input's own, or the one listing it among its outputs, then that
 * stage's inputs…) written by a stage that called the same provider and model recently, the concurrency its limiter
 * had reached when it finished, and where this stage therefore opens. Unreadable manifests are skipped: this only
 * saves a ramp.
 */
export function provenConcurrency(
  inputs: string[],
  provider: string,
  model: string,
  now = Date.now(),
): Proof | undefined {
  const seen = new Set<string>();
  let frontier = inputs;
  for (let depth = 0; depth < MAX_DEPTH && frontier.length; depth++) {
    const next: string[] = [];
    for (const file of frontier) {
      for (const [path, manifest] of manifestsOf(file)) {
        if (seen.has(path)) continue;
        seen.add(path);
        const finished = Date.parse(manifest.started_at) + manifest.duration_s * 1000;
        const fresh = now - finished <= PROOF_MAX_AGE_MS;
        if (fresh && manifest.limiter && manifest.settings.provider === provider && manifest.settings.model === model) {
          const { reached_concurrency: reached, rate_limit_events: limited } = manifest.limiter;
          return { concurrency: openingConcurrency(reached, limited), reached, manifest: path };
        }
        next.push(...manifest.inputs);
      }
    }
    frontier = next;
  }
  return undefined;
}

/** The manifest beside `file`, else those in its folder that list it among their outputs (stage 2's _passed file). */
function manifestsOf(file: string): Array<[string, Manifest]> {
  const own = manifestPath(file);
  const mine = own !== file ? readManifestFile(own, Manifest) : undefined;
  if (mine) return [[own, mine]];
  let names: string[];
  try {
    names = readdirSync(dirname(file)).filter((n) => n.endsWith('.meta.json'));
  } catch {
    return [];
  }
  return names.flatMap((name): Array<[string, Manifest]> => {
    const path = join(dirname(file), name);
    const manifest = readManifestFile(path, Manifest);
    return manifest?.outputs.includes(file) ? [[path, manifest]] : [];
  });
}
