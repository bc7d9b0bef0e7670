// Reads the `<artifact>.meta.json` a stage writes when it finishes (see StageRun.finish), leniently: a manifest
// from an older or newer version of a stage still loads, and only a broken one stops stats and the report.
import { existsSync, readFileSync } from 'node:fs';
import { z } from '../zod.js';
import { InputError } from '../errors.js';
import { formatZodIssue } from '../format.js';
import { manifestPath } from '../io/sidecars.js';

const Usage = z.object({
  calls: z.number().default(0),
  inputTokens: z.number().default(0),
  outputTokens: z.number().default(0),
  cachedInputTokens: z.number().default(0),
  costUsd: z.number().default(0),
  unpriced_models: z.array(z.string()).default([]),
});

export const Manifest = z.object({
  stage: z.string(),
  started_at: z.string().optional(),
  duration_s: z.number().optional(),
  outputs: z.array(z.string()).default([]),
  settings: z.record(z.string(), z.unknown()).default({}),
  /** Requested model → concrete version → calls (manifests from before it existed have none). */
  models_used: z.record(z.string(), z.record(z.string(), z.number())).optional(),
  counts: z
    .object({
      read: z.number().optional(),
      written: z.number().optional(),
      failed: z.number().default(0),
      filtered: z.record(z.string(), z.number()).default({}),
      reused: z.number().default(0),
    })
    .prefault({}),
  usage: Usage.optional(),
  errors_file: z.string().nullable().optional(),
});
export type Manifest = z.infer<typeof Manifest>;

/** The manifest next to `artifact`, or undefined when the stage never finished there. */
export function readManifest(artifact: string): Manifest | undefined {
  const file = manifestPath(artifact);
  if (!existsSync(file)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new InputError(`${file}: not valid JSON (${(error as Error).message}); delete it or run the stage again`, {
      cause: error,
    });
  }
  const parsed = Manifest.safeParse(raw);
  if (!parsed.success) throw new InputError(`${file}: ${formatZodIssue(parsed.error.issues[0]!)}`);
  return parsed.data;
}
