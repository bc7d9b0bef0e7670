// The files that live beside an artifact, each named in one place: a stage, the dry run, stats and the report all
// find a checkpoint, ledger, manifest or lock through these, so renaming one is a one-line change.

/** A file beside an artifact with its `.jsonl` replaced: `output/x.jsonl` + `.meta.json` → `output/x.meta.json`. */
export function sidecarPath(artifact: string, suffix: string): string {
  return artifact.replace(/\.jsonl$/, '') + suffix;
}

/** Finished items of an unfinished run: `x.jsonl` → `x.jsonl.checkpoint.jsonl` (the whole name, never read as x). */
export const checkpointPath = (artifact: string): string => `${artifact}.checkpoint.jsonl`;
/** Who is writing the artifact right now: `x.jsonl` → `x.jsonl.lock`. */
export const lockPath = (artifact: string): string => `${artifact}.lock`;

// The rest replace `.jsonl`: `x.jsonl` → `x.errors.jsonl` (one row per failed item), `x.meta.json` (the manifest a
// finished stage writes), stage 1's `qa_pairs.facts.jsonl` (every fact), stage 2's `…_passed.jsonl`, stage 6's
// `….report.jsonl` (removed duplicates), stage 7's `….selected.jsonl` (which deduplicated row each final row is).
export const errorsPath = (artifact: string): string => sidecarPath(artifact, '.errors.jsonl');
export const manifestPath = (artifact: string): string => sidecarPath(artifact, '.meta.json');
export const factsListPath = (qaPairsArtifact: string): string => sidecarPath(qaPairsArtifact, '.facts.jsonl');
export const passedPath = (validatedArtifact: string): string => sidecarPath(validatedArtifact, '_passed.jsonl');
export const dedupReportPath = (dedupArtifact: string): string => sidecarPath(dedupArtifact, '.report.jsonl');
export const selectedPath = (finalArtifact: string): string => sidecarPath(finalArtifact, '.selected.jsonl');
