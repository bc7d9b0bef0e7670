// Runs a stage script's command line inside the test process: the real parseFlags and runCli (its one-line error,
// its exit code), with process.exit, stdout/stderr, the environment and the working folder swapped for the call.
// Costs milliseconds where a tsx child costs ~2 s; keep children for what only a process shows (signals, the real
// exit status, closed pipes, settings read once per process such as PRICES_FILE, anything that could block).
import { FLAGS as EXTRACT_FLAGS, extractQa } from '../../1_extract_qa.js';
import { FLAGS as VALIDATE_FLAGS, validateQa } from '../../2_validate_qa.js';
import { FLAGS as GENERATE_FLAGS, generateConversations } from '../../3_generate_conversations.js';
import { FLAGS as JUDGE_FLAGS, judgeConversations } from '../../4_judge_and_save.js';
import { FLAGS as EMBED_FLAGS, embedConversations } from '../../5_embed_conversations.js';
import { FLAGS as DEDUP_FLAGS, deduplicate } from '../../6_deduplicate.js';
import { FLAGS as SELECT_FLAGS, selectTop } from '../../7_select_top.js';
import { FLAGS as PROPOSE_FLAGS, proposeDomain } from '../../scripts/propose_domain.js';
import { parseFlags, runCli, usageText, type FlagSpecs, type Flags } from '../../src/cli.js';
import { FLAGS as TRIAL_FLAGS, trialRun } from '../../trial_run.js';

/** What a stage's `isMain` block runs: its flags parsed from argv, then its main function. */
function cli<S extends FlagSpecs>(script: string, specs: S, main: (flags: Flags<S>) => Promise<number>) {
  return (argv: string[]) => async () => {
    const flags = parseFlags(argv, specs, usageText(script, '', specs));
    return flags ? main(flags) : 0;
  };
}

const SCRIPTS: Record<string, (argv: string[]) => () => Promise<number>> = {
  '1_extract_qa.ts': cli('1_extract_qa.ts', EXTRACT_FLAGS, extractQa),
  '2_validate_qa.ts': cli('2_validate_qa.ts', VALIDATE_FLAGS, validateQa),
  '3_generate_conversations.ts': cli('3_generate_conversations.ts', GENERATE_FLAGS, generateConversations),
  '4_judge_and_save.ts': cli('4_judge_and_save.ts', JUDGE_FLAGS, judgeConversations),
  '5_embed_conversations.ts': cli('5_embed_conversations.ts', EMBED_FLAGS, embedConversations),
  '6_deduplicate.ts': cli('6_deduplicate.ts', DEDUP_FLAGS, deduplicate),
  '7_select_top.ts': cli('7_select_top.ts', SELECT_FLAGS, selectTop),
  'trial_run.ts': cli('trial_run.ts', TRIAL_FLAGS, trialRun),
  'scripts/propose_domain.ts': cli('scripts/propose_domain.ts', PROPOSE_FLAGS, proposeDomain),
};

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** Wall time of the run, as `runStage` reports it. */
  ms: number;
}

/** What a stage hangs on the process (its lock's release, its stop handlers) and a real exit takes away. */
const PROCESS_EVENTS = [
  'exit',
  'beforeExit',
  'SIGINT',
  'SIGTERM',
  'SIGHUP',
  'SIGPIPE',
  'uncaughtException',
  'unhandledRejection',
];
const events = process as NodeJS.EventEmitter;

/** Test runner variables that stay; everything else is replaced by `env`, as a child would see only its own. */
const KEPT = /^(VITEST|NODE_|TEST$)/;
let running = false;

/**
 * `runStage` without the child: the same arguments and result. Calls must not overlap (they swap process-wide
 * state), so a file that uses this runs its cases one after another, not with `it.concurrent`.
 */
export async function runStageInProcess(
  script: string,
  args: string[],
  options: { env: Record<string, string>; cwd: string },
): Promise<InProcessResult> {
  const main = SCRIPTS[script];
  if (!main) throw new Error(`runStageInProcess: unknown script ${script}`);
  if (running) throw new Error('runStageInProcess: calls overlap; run these cases one after another');
  running = true;
  const saved = {
    env: { ...process.env },
    cwd: process.cwd(),
    exit: process.exit,
    out: process.stdout.write,
    err: process.stderr.write,
  };
  const listening = new Map(PROCESS_EVENTS.map((event) => [event, new Set(events.listeners(event))]));
  const result: InProcessResult = { code: -1, stdout: '', stderr: '', ms: 0 };
  const started = Date.now();
  const capture = (key: 'stdout' | 'stderr') =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      result[key] += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
      const done = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      done?.();
      return true;
    }) as typeof process.stdout.write;
  try {
    for (const name of Object.keys(process.env)) if (!KEPT.test(name)) delete process.env[name];
    // Empty, not unset: a .env in the folder must not switch tracing (and the network) on in a test.
    Object.assign(process.env, { LOGFIRE_TOKEN: '' }, options.env);
    process.chdir(options.cwd);
    process.exit = ((code?: number) => {
      result.code = code ?? 0;
    }) as typeof process.exit;
    process.stdout.write = capture('stdout');
    process.stderr.write = capture('stderr');
    await runCli(main(args));
    result.ms = Date.now() - started;
  } finally {
    // As process.exit would: the 'exit' listeners the run added run (an artifact lock goes), and none stays behind.
    for (const event of PROCESS_EVENTS) {
      for (const listener of events.listeners(event)) {
        if (listening.get(event)!.has(listener)) continue;
        events.off(event, listener as (...args: unknown[]) => void);
        if (event === 'exit') (listener as (code: number) => void)(result.code);
      }
    }
    process.stdout.write = saved.out;
    process.stderr.write = saved.err;
    process.exit = saved.exit;
    process.chdir(saved.cwd);
    for (const name of Object.keys(process.env)) delete process.env[name];
    Object.assign(process.env, saved.env);
    running = false;
  }
  if (result.code === -1) throw new Error(`runStageInProcess: ${script} returned without calling process.exit`);
  return result;
}
