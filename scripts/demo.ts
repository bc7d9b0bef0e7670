/**
 * Demo — see the whole pipeline work in one command, with no key and no network: `make demo`.
 *
 * Starts the bundled imitation of the Gemini and OpenAI APIs inside this process on a free 127.0.0.1 port (so no
 * server process can outlive the demo, whether it ends, fails or is interrupted), points both SDKs at it with their
 * own base-URL variables and dummy keys, runs the trial into output/demo/ (never output/ itself: imitation answers
 * must not land in the checkpoint a real trial would reuse), then prints the stats, writes the report and says
 * where everything is. The models are whatever the stages default to; the imitation answers any of them.
 *
 *   npx tsx scripts/demo.ts [--output-dir output/demo] [--chunks N] [--num-conversations N] [--quiet]
 */
import { parseFlags, runIfMain, type Flags } from '../src/cli.js';
import { PARAMS } from '../src/config.js';
import { startImitation } from '../tests/support/imitation_server.js';
import { printStats } from './stats.js';
import { writeReports } from './report.js';

export const FLAGS = {
  'output-dir': {
    kind: 'string',
    help: 'folder of the demo artifacts (kept apart from a real run)',
    default: 'output/demo',
    value: 'DIR',
  },
  chunks: { kind: 'int', help: 'chunks of the facts to use', default: PARAMS.trialChunks, min: 1 },
  'num-conversations': { kind: 'int', help: 'conversations to generate', default: PARAMS.numConversations, min: 1 },
  quiet: { kind: 'boolean', help: 'no progress bars' },
} as const;

const SUMMARY =
  'Demo: the trial against a local imitation of Gemini and OpenAI, with no key and no network, then its stats and report';

/**
 * What the demo sets before anything reads `.env` (the environment wins over it): both SDKs go to the imitation
 * with dummy keys, and nothing of the user's setup can send a request elsewhere (tracing) or change the run.
 */
export function demoEnvironment(geminiBaseUrl: string, openaiBaseUrl: string): Record<string, string> {
  return {
    GOOGLE_GEMINI_BASE_URL: geminiBaseUrl,
    OPENAI_BASE_URL: openaiBaseUrl,
    GOOGLE_API_KEY: 'demo-offline',
    GEMINI_API_KEY: '',
    OPENAI_API_KEY: 'demo-offline',
    // An empty value counts as unset here, and dotenv does not override a variable that exists.
    LOGFIRE_TOKEN: '',
    LOGFIRE_BASE_URL: '',
    LLM_PROVIDER: '',
    OPENAI_JSON_MODE: '',
    PRICES_FILE: '',
  };
}

export async function demo(flags: Flags<typeof FLAGS>): Promise<number> {
  const dir = flags['output-dir'].replace(/\/+$/, '') || '.';
  const imitation = await startImitation({ seed: 1 });
  try {
    Object.assign(process.env, demoEnvironment(imitation.geminiBaseUrl, imitation.openaiBaseUrl));
    process.stdout.write(
      `Demo: a local imitation of the Gemini and OpenAI APIs is answering at ${imitation.url} (no key, no network).\n`,
    );
    process.stdout.write('Its answers are sized like real ones, but their text is filler and its judge is random.\n');
    // Imported only now, after the environment is set, and run in this process, so nothing is left running.
    const { trialRun, FLAGS: TRIAL } = await import('../trial_run.js');
    const trialFlags = parseFlags(
      [
        '--output-dir',
        dir,
        '--chunks',
        String(flags.chunks),
        '--num-conversations',
        String(flags['num-conversations']),
        ...(flags.quiet ? ['--quiet'] : []),
      ],
      TRIAL,
      '',
    )!;
    const code = await trialRun(trialFlags);
    if (code !== 0) {
      process.stdout.write(
        `\n✗ demo: the trial stopped (exit ${code}); see above. ${imitation.requests.length} requests reached the imitation.\n`,
      );
      return code;
    }
    process.stdout.write('\n');
    await printStats({ 'output-dir': dir });
    process.stdout.write('\n');
    await writeReports({ 'output-dir': dir, domain: undefined, limit: 2000 });
    process.stdout.write(
      [
        '',
        `✓ demo finished: ${imitation.requests.length} requests to the local imitation, none to the internet.`,
        `  artifacts:    ${dir}/trial_*.jsonl (each with a .meta.json manifest)`,
        `  training set: ${dir}/trial_conversations_final.jsonl`,
        `  stats:        printed above; again with  make stats ARGS="--output-dir ${dir}"`,
        `  report:       ${dir}/trial_report.html (open it in a browser)`,
        '  for real:     put your keys in .env (cp .env.example .env), then  make trial  (see README "Run it for real")',
        '',
      ].join('\n'),
    );
    return 0;
  } finally {
    await imitation.close();
  }
}

runIfMain(import.meta.url, 'scripts/demo.ts', SUMMARY, FLAGS, demo);
