// Runs the imitation server on its own so `make trial` can go offline: point the SDKs at the printed base URLs.
//
//   npx tsx tests/support/serve_imitation.ts [--port N] [--faults JSON] [--seed N] [--batch-polls N] [--latency-ms N]
//     [--jitter-ms N] [--no-log]
//
// Prints `GOOGLE_GEMINI_BASE_URL=…` and `OPENAI_BASE_URL=…/v1`, then one line per request, and serves until killed.
import { startImitation, type FaultPlan } from './imitation_server.js';

class UsageError extends Error {}

interface CliOptions {
  port: number;
  faults: FaultPlan;
  seed: number;
  batchPolls: number;
  latencyMs: number;
  jitterMs: number;
  /** No line per request, and no request bodies kept: for benchmarks of 100,000 calls. */
  quietLog: boolean;
}

function parseArgs(argv: string[]): CliOptions {
  const out: CliOptions = { port: 0, faults: {}, seed: 1, batchPolls: 1, latencyMs: 0, jitterMs: 0, quietLog: false };
  const integer = (flag: string, value: string | undefined, min: number): number => {
    if (value === undefined || !/^\d+$/.test(value) || Number(value) < min) {
      throw new UsageError(
        `Expected \`${flag}\` to be an integer ≥ ${min}, got ${value === undefined ? 'nothing' : JSON.stringify(value)}`,
      );
    }
    return Number(value);
  };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === '--no-log') {
      out.quietLog = true;
      continue;
    }
    const value = argv[i + 1];
    i++;
    if (flag === '--latency-ms') out.latencyMs = integer(flag, value, 0);
    else if (flag === '--jitter-ms') out.jitterMs = integer(flag, value, 0);
    else if (flag === '--port') out.port = integer(flag, value, 0);
    else if (flag === '--seed') out.seed = integer(flag, value, 0);
    else if (flag === '--batch-polls') out.batchPolls = integer(flag, value, 0);
    else if (flag === '--faults') {
      try {
        out.faults = JSON.parse(value ?? '');
      } catch {
        throw new UsageError(
          `Expected \`--faults\` to be a JSON fault plan such as '{"rate429":0.1}', got ${JSON.stringify(value ?? '')}`,
        );
      }
      if (out.faults === null || typeof out.faults !== 'object' || Array.isArray(out.faults)) {
        throw new UsageError(`Expected \`--faults\` to be a JSON object, got ${value}`);
      }
    } else
      throw new UsageError(
        `Unknown flag ${JSON.stringify(flag)}; expected --port, --faults, --seed, --batch-polls, --latency-ms, --jitter-ms or --no-log`,
      );
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
    latencyMs: options.latencyMs,
    latencyJitterMs: options.jitterMs,
    recordBodies: !options.quietLog,
  });
  console.log(`GOOGLE_GEMINI_BASE_URL=${imitation.geminiBaseUrl}`);
  console.log(`OPENAI_BASE_URL=${imitation.openaiBaseUrl}`);
  // Log method, path and status only: headers carry the API keys.
  let logged = 0;
  const timer = setInterval(() => {
    if (options.quietLog) {
      // Only a count, and the records let go: a long benchmark must not grow the server's memory.
      imitation.requests.splice(0);
      return;
    }
    for (; logged < imitation.requests.length; logged++) {
      const r = imitation.requests[logged];
      // Wait briefly for an answer so the status is real; a request unanswered after 2 s is a (scripted) hang.
      if (r.status === 0 && Date.now() - r.at < 2_000) break;
      console.log(
        `${new Date(r.at).toISOString()} ${r.method} ${r.path} ${r.status === 0 ? 'no answer (hang)' : r.status}`,
      );
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
