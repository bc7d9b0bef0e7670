// Runs the real stage scripts as child processes against the imitation server, as a user's shell would.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chunkMarkdown } from '../../src/chunking.js';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { isModelLookup, startImitation, type Imitation, type ImitationOptions } from './imitation_server.js';

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

/** The first lines of the SWAP facts holding `chunks` chunkable lines, written to `file`. */
export function writeFacts(file: string, chunks: number): void {
  const lines = readFileSync(join(ROOT, 'data/swap_facts.md'), 'utf8').split('\n');
  const found = chunkMarkdown(lines.join('\n'));
  const last = found[chunks - 1]!.line;
  writeFileSync(file, `${lines.slice(0, last).join('\n')}\n`);
}

/** `n` distinct, schema-valid Q&A pairs (what stage 2 writes to its _passed file). */
export function writeQaPairs(file: string, n: number): void {
  const topics = [
    'returns',
    'duties',
    'shipping labels',
    'exchanges',
    'tax registration',
    'the analytics dashboard',
    'QR drop-off',
    'landed cost',
  ];
  const rows = Array.from({ length: n }, (_, i) => {
    const topic = topics[i % topics.length]!;
    return {
      question: `Question ${i + 1}: how does Swap handle ${topic}?`,
      answer: `Swap handles ${topic} through its merchant dashboard (fact ${i + 1}).`,
      source_text: `* Fact ${i + 1}: Swap handles ${topic} for merchants in more than ${10 + i} countries.`,
      context_before: '',
      context_after: '',
      difficulty: (['basic', 'intermediate', 'advanced'] as const)[i % 3],
      categories: [topic],
    };
  });
  writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
}

/** Judged conversations (what stage 4 writes): `n` short, distinct, schema-valid rows. */
export function writeJudged(file: string, n: number): void {
  const rows = Array.from({ length: n }, (_, i) => ({
    conversation: {
      messages: [
        { role: 'system', content: 'You are the support assistant of Swap.' },
        {
          role: 'user',
          content: `Conversation ${i + 1}: can I return order ${1000 + i} from ${['France', 'Japan', 'Canada', 'Brazil'][i % 4]}?`,
        },
        {
          role: 'assistant',
          content: `Yes: order ${1000 + i} can be returned with a prepaid label or a QR code (${i % 3} days left).`,
        },
      ],
      metadata: { num_turns: 1, style: 'casual', user_persona: 'shopper', difficulty: 'basic' },
    },
    judgment: {
      factually_accurate: true,
      natural_conversation: true,
      on_topic: true,
      adds_value: i % 5 !== 0,
      overall_pass: i % 5 !== 0,
      feedback: 'fine',
    },
  }));
  writeFileSync(file, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
}

/** Non-blank lines of a JSONL file (0 when it does not exist). */
export function lineCount(file: string): number {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.trim()).length;
  } catch {
    return 0;
  }
}

/** Entries of a checkpoint file that survived: a line cut short by kill -9 does not count. */
export function savedEntries(file: string): number {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return 0;
  }
  return text.split('\n').filter((line) => {
    try {
      return typeof JSON.parse(line)?.key === 'string';
    } catch {
      return false;
    }
  }).length;
}

export function readRows<T = any>(file: string): T[] {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as T);
}

/** Every file under `dir`, recursively. */
export function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** Polls until `check` is true (or throws after `timeoutMs`). */
export async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface DelayProxy extends Endpoints {
  /** Requests the stage sent (each counted on arrival, before the delay). */
  readonly received: number;
  close(): Promise<void>;
}

/**
 * A forwarding proxy that holds every request for `delayMs` before passing it on: makes the fast imitation slow
 * enough that a test can interrupt a stage mid-run.
 */
export async function startDelayProxy(target: string, delayMs: number): Promise<DelayProxy> {
  const upstream = new URL(target);
  let received = 0;
  const server = http.createServer((req, res) => {
    // The free model look-up before the first paid call is not an answer the stage must keep.
    if (!isModelLookup({ method: req.method, path: req.url ?? '/' })) received++;
    const body: Buffer[] = [];
    req.on('data', (d: Buffer) => body.push(d));
    req.on('end', () => {
      const timer = setTimeout(() => {
        const forward = http.request(
          { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        forward.on('error', () => res.destroy());
        res.on('close', () => forward.destroy());
        forward.end(Buffer.concat(body));
      }, delayMs);
      res.on('close', () => clearTimeout(timer));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    geminiBaseUrl: url,
    openaiBaseUrl: `${url}/v1`,
    get received() {
      return received;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
