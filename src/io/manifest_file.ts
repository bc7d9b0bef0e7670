// Reads a finished stage's manifest (`x.meta.json`) for a reader that needs only part of it.
import { existsSync, readFileSync } from 'node:fs';
import type { z } from 'zod';

/**
 * The manifest at `path` as `schema` reads it, or undefined when it is absent, not JSON or not of that shape: a
 * reader of manifests (provenance, proven concurrency) treats a missing or foreign one as "nothing known".
 */
export function readManifestFile<T extends z.ZodType>(path: string, schema: T): z.output<T> | undefined {
  if (!existsSync(path)) return undefined;
  try {
    const parsed = schema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
