// Runs the imitation server on its own so `make trial` can go offline: point the SDKs at the printed base URLs.
//
//   npx tsx tests/support/serve_imitation.ts [--port N] [--faults JSON] [--seed N] [--batch-polls N]
//
// Prints `GOOGLE_GEMINI_BASE_URL=…` and `OPENAI_BASE_URL=…/v1`, then one line per request, and serves until killed.
import { startImitation, type FaultPlan } from './imitation_server.js';

class UsageError extends Error {}

interface CliOptions {
  port: number;
  faults: FaultPlan;
  seed: number;
  batchPolls: number;
}

function parseArgs(argv: string[]): CliOptions {
  const out: CliOptions = { port: 0, faults: {}, seed: 1, batchPolls: 1 };
  const integer = (flag: string, value: string | undefined, min: number): number => {
    if (value === undefined || !/^\d+$/.test(value) || Number(value) < min) {
      throw new UsageError(`Expected \`${flag}\` to be an integer ≥ ${min}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`);
    }
    return Number(value);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    const value = argv[i + 1];
    i++;
    if (flag === '--port') out.port = integer(flag, value, 0);
    else if (flag === '--seed') out.seed = integer(flag, value, 0);
    else if (flag === '--batch-polls') out.batchPolls = integer(flag, value, 0);
    else if (flag === '--faults') {
      try {
        out.faults = JSON.parse(value ?? '');
      } catch {
        throw new UsageError(`Expected \`--faults\` to be a JSON fault plan such as '{"rate429":0.1}', got ${JSON.stringify(value ?? '')}`);
      }
      if (out.faults === null || typeof out.faults !== 'object' || Array.isArray(out.faults)) {
        throw new UsageError(`Expected \`--faults\` to be a JSON object, got ${value}`);
      }
    } else throw new UsageError(`Unknown flag ${JSON.stringify(flag)}; expected --port, --faults, --seed or --batch-polls`);
  }
  return out;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const imitation = await startImitation({
    port: options.port,
    faults: options.faults,
    seed: options.seed,
    batchPollsBeforeDone: options.batchPolls,
  });
  console.log(`GOOGLE_GEMINI_BASE_URL=${imitation.geminiBaseUrl}`);
  console.log(`OPENAI_BASE_URL=${imitation.openaiBaseUrl}`);
  // Log method, path and status only: headers carry the API keys.
  let logged = 0;
  const timer = setInterval(() => {
    for (; logged < imitation.requests.length; logged++) {
      const r = imitation.requests[logged];
      // Wait briefly for an answer so the status is real; a request unanswered after 2 s is a (scripted) hang.
      if (r.status === 0 && Date.now() - r.at < 2_000) break;
      console.log(`${new Date(r.at).toISOString()} ${r.method} ${r.path} ${r.status === 0 ? 'no answer (hang)' : r.status}`);
    }
  }, 200);
  const stop = () => {
    clearInterval(timer);
    imitation.close().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  if (e instanceof UsageError) {
    console.error(`serve_imitation: ${e.message}`);
    process.exit(2);
  }
  console.error(`serve_imitation: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
