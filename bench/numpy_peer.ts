// The bench's NumPy peer: runs bench/numpy_greedy.py on a fixture when python3 with NumPy is here, and compares kept sets.
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'numpy_greedy.py');

export interface NumpyRun {
  parser: string;
  numpy: string;
  parseS: number;
  dedupS: number;
  kept: number[];
}

/** Whether `python3 -c "import numpy"` works; the bench skips the peer otherwise. */
export function numpyAvailable(): boolean {
  return spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
}

/** Parse + exact greedy in NumPy on one embedded JSONL file, in a fresh process. */
export function runNumpy(file: string, threshold: number): NumpyRun {
  const keptFile = `${file}.numpy-kept.txt`;
  const child = spawnSync('python3', [SCRIPT, file, String(threshold), keptFile], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.status !== 0) throw new Error(`numpy_greedy.py exited with ${child.status}`);
  const report = JSON.parse(child.stdout.trim().split('\n').pop()!) as Omit<NumpyRun, 'kept'>;
  const kept = readFileSync(keptFile, 'utf8').split('\n').filter(Boolean).map(Number);
  rmSync(keptFile, { force: true });
  return { ...report, kept };
}

/** 'identical' or how many rows the two kept sets differ by. */
export function compareKept(ours: number[], theirs: number[]): string {
  const a = new Set(ours);
  const b = new Set(theirs);
  let differ = 0;
  for (const k of a) if (!b.has(k)) differ++;
  for (const k of b) if (!a.has(k)) differ++;
  return differ === 0 ? 'identical' : `${differ} rows differ`;
}
