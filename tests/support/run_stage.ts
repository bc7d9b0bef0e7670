// Runs the real stage scripts as child processes against the imitation server, as a user's shell would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { startImitation, type Imitation, type ImitationOptions } from './imitation_server.js';

// The artifact fixtures and the delay proxy live in their own modules; re-exported for the tests that import them here.
export * from './stage_files.js';
export * from './delay_proxy.js';
import { startDelayProxy, type DelayProxy } from './delay_proxy.js';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
// `node --import tsx` run directly (not the tsx CLI, which forks a second process): a SIGKILL or SIGINT then reaches
// the stage itself.
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

export interface StageResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  ms: number;
}

export interface RunningStage {
  child: ChildProcess;
  /** Output so far, for tests that wait for a line. */
  readonly stdout: string;
  readonly stderr: string;
  done: Promise<StageResult>;
}

export interface Endpoints {
  geminiBaseUrl: string;
  openaiBaseUrl: string;
}

/**
 * The whole environment of a stage: nothing is inherited from the test runner but PATH, so a developer's real keys
 * or base URLs can never reach a test run. Undefined values are left out.
 */
export function stageEnv(
  endpoints: Endpoints | undefined,
  extra: Record<string, string | undefined> = {},
): Record<string, string> {
  const base: Record<string, string | undefined> = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GOOGLE_GEMINI_BASE_URL: endpoints?.geminiBaseUrl ?? 'http://127.0.0.1:9',
    OPENAI_BASE_URL: endpoints?.openaiBaseUrl ?? 'http://127.0.0.1:9/v1',
    GOOGLE_API_KEY: 'test-google-key',
    OPENAI_API_KEY: 'test-openai-key',
    LLM_BACKOFF_MS: '10',
    LLM_TIMEOUT_MS: '10000',
    PROGRESS_INTERVAL_MS: '60000',
    ...extra,
  };
  return Object.fromEntries(Object.entries(base).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Starts `node --import tsx <ROOT>/<script> …args` in `cwd`; resolves when it exits. */
export function spawnStage(
  script: string,
  args: string[],
  options: { env: Record<string, string>; cwd: string },
): RunningStage {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', TSX_LOADER, join(ROOT, script), ...args], {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return { child, ...collectOutput(child, started) };
}

/** A child's stdout and stderr as they arrive, and its result when it closes. */
export function collectOutput(
  child: ChildProcess,
  started = Date.now(),
): { readonly stdout: string; readonly stderr: string; done: Promise<StageResult> } {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const done = new Promise<StageResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr, ms: Date.now() - started }));
  });
  return {
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    done,
  };
}

export function runStage(
  script: string,
  args: string[],
  options: { env: Record<string, string>; cwd: string },
): Promise<StageResult> {
  return spawnStage(script, args, options).done;
}

const made: string[] = [];

/** A fresh folder under the system temp dir; `removeTempDirs` (in afterAll) takes them all away. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), `${prefix}-`));
  made.push(dir);
  return dir;
}

/** Removes every folder `tempDir` made in this test file, unless KEEP_TEST_DIRS=1 asks to keep them for a look. */
export function removeTempDirs(): void {
  if (process.env.KEEP_TEST_DIRS) return;
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * One imitation for the whole test file: started before its tests (handed to `started`), closed after them, with the
 * file's temporary folders removed.
 */
export function imitationPerFile(options: ImitationOptions, started: (imitation: Imitation) => void): void {
  let imitation: Imitation | undefined;
  beforeAll(async () => {
    imitation = await startImitation(options);
    started(imitation);
  });
  afterAll(async () => {
    await imitation?.close();
    removeTempDirs();
  });
}

/**
 * One imitation server for the file with a delay proxy of `delayMs` in front of it (for stages to be stopped
 * part-way), both closed and the temporary directories removed after the file.
 */
export function imitationBehindProxyPerFile(
  options: ImitationOptions,
  delayMs: number,
  started: (imitation: Imitation, proxy: DelayProxy) => void,
): void {
  let imitation: Imitation | undefined;
  let proxy: DelayProxy | undefined;
  beforeAll(async () => {
    imitation = await startImitation(options);
    proxy = await startDelayProxy(imitation.url, delayMs);
    started(imitation, proxy);
  });
  afterAll(async () => {
    await proxy?.close();
    await imitation?.close();
    removeTempDirs();
  });
}

/**
 * One imitation server per test, started by the returned function and closed after the test; the temporary
 * directories go after the file.
 */
export function imitationPerTest(): (options: ImitationOptions) => Promise<Imitation> {
  let imitation: Imitation | undefined;
  afterEach(async () => {
    await imitation?.close();
    imitation = undefined;
  });
  afterAll(removeTempDirs);
  return async (options) => {
    imitation = await startImitation(options);
    return imitation;
  };
}

/** Stage 3's command line: Q&A pairs from `input`, `conversations` conversations to `output`, then `extra`. */
export function generateArgs(input: string, output: string, conversations: number, ...extra: string[]): string[] {
  return ['--input', input, '--output', output, '--num-conversations', String(conversations), ...extra];
}

/** Stage 4's command line: conversations from `input`, judged.jsonl and final.jsonl written in `dir`, then `extra`. */
export function judgeArgs(input: string, dir: string, ...extra: string[]): string[] {
  return ['--input', input, '--output', join(dir, 'judged.jsonl'), '--final', join(dir, 'final.jsonl'), ...extra];
}
