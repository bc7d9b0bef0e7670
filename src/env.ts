// Environment in one place, read lazily: `.env` fills what the shell did not set (the environment wins).
import { existsSync } from 'node:fs';
import { config } from 'dotenv';
import { FatalError, UsageError } from './errors.js';
import { keyProblem, type KeyName } from './key_check.js';

let loaded = false;

function load(): void {
  if (loaded) return;
  loaded = true;
  // quiet: dotenv 18 otherwise prints an "injected env" banner on every run.
  if (existsSync('.env')) config({ quiet: true, override: false });
}

export function env(name: string): string | undefined {
  load();
  const value = process.env[name];
  return value === undefined || value === '' ? undefined : value;
}

export type { KeyName };

/** The key a stage needs, or one line that names the variable and where to set it (or why it cannot be a key). */
export function requireKey(name: KeyName, why: string): string {
  const fromGemini = name === 'GOOGLE_API_KEY' && env(name) === undefined && env('GEMINI_API_KEY') !== undefined;
  const value = env(name) ?? (name === 'GOOGLE_API_KEY' ? env('GEMINI_API_KEY') : undefined);
  if (!value)
    throw new FatalError(`${name} is not set (${why}): add it to .env (see .env.example) or export it in your shell`);
  const problem = keyProblem(name, value, env);
  if (problem) throw new FatalError(fromGemini ? problem.replace(/^GOOGLE_API_KEY/, 'GEMINI_API_KEY') : problem);
  return value;
}

/**
 * A number from the environment: `fallback` when unset, else a decimal `pattern` accepts that is ≥ `min`, or a
 * UsageError (the CLI's exit 2, as for a bad flag) naming the variable and what was expected. The one loader of
 * numbers from the environment, after vercel/ai's provider-utils load-setting.ts.
 */
function loadNumber(name: string, fallback: number, min: number, kind: string, pattern: RegExp): number {
  const raw = env(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!pattern.test(raw.trim()) || !(value >= min))
    throw new UsageError(`Expected ${name} to be ${kind} ≥ ${min}, got ${raw}`);
  return value;
}

/** A whole number ≥ `min` (milliseconds, counts, bytes) from the environment, or `fallback` when unset. */
export function envInt(name: string, fallback: number, min = 0): number {
  return loadNumber(name, fallback, min, 'an integer', /^[+-]?\d+$/);
}

export function timeoutMs(fallback: number): number {
  return envInt('LLM_TIMEOUT_MS', fallback, 1);
}
