// Proof for issue 15: a stage-5 checkpoint grown past 600 MiB (its lines repeated) resumes with 0 requests.
//
//   npx tsx bench/checkpoint_bench.ts [--n 2000] [--mib 600]
//
// Runs stage 5 once on `n` judged rows against the in-process imitation, appends the checkpoint to itself until it
// passes `mib` MiB, runs the same command again and prints the paid requests of that second run (must be 0), its
// wall time and its peak RSS (`/usr/bin/time -v` when present). Past 512 MiB V8 cannot hold the file as one string,
// so a whole-file read would fail here. The finished artifact is removed before the second run, so every row must
// come from the checkpoint. tests/checkpoint_stream.test.ts checks the streaming read itself in a small file.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { intFlag } from './int_flag.js';
import { paidRequests, startImitation } from '../tests/support/imitation_server.js';
import { collectOutput, removeTempDirs, stageEnv, tempDir, writeJudged } from '../tests/support/run_stage.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TIME = '/usr/bin/time';

/** Runs stage 5 as a child (under /usr/bin/time -v when present): exit code, wall ms, peak RSS in MiB. */
async function stage5(
  args: string[],
  env: Record<string, string>,
  cwd: string,
): Promise<{ code: number | null; ms: number; rssMiB?: number; stderr: string }> {
  const node = [process.execPath, '--import', TSX_LOADER, join(ROOT, '5_embed_conversations.ts'), ...args];
  const timed = existsSync(TIME);
  const [cmd, ...rest] = timed ? [TIME, '-v', ...node] : node;
  const child = spawn(cmd!, rest, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  const result = await collectOutput(child).done;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  return {
    code: result.code,
    ms: result.ms,
    rssMiB: rss ? Number(rss[1]) / 1024 : undefined,
    stderr: result.stderr,
  };
}

async function main(): Promise<void> {
  const n = intFlag('checkpoint_bench', 'n', 2000);
  const mib = intFlag('checkpoint_bench', 'mib', 600);
  const im = await startImitation({ recordBodies: false });
  const dir = tempDir('checkpoint-bench');
  const env = stageEnv(im);
  writeJudged(join(dir, 'judged.jsonl'), n);
  const output = join(dir, 'embedded.jsonl');
  const checkpoint = `${output}.checkpoint.jsonl`;
  const args = ['--input', join(dir, 'judged.jsonl'), '--output', output, '--quiet'];
  console.log(`checkpoint bench: stage 5 on ${n} rows, checkpoint grown past ${mib} MiB, ${new Date().toISOString()}`);

  const first = await stage5(args, env, dir);
  if (first.code !== 0) throw new Error(`first run failed (exit ${first.code}): ${first.stderr.slice(-1000)}`);
  const firstCalls = paidRequests(im).length;
  const once = readFileSync(checkpoint);
  console.log(
    `first run: ${firstCalls} requests, ${(first.ms / 1000).toFixed(1)} s, peak RSS ${first.rssMiB?.toFixed(0) ?? '?'} MiB, checkpoint ${(once.length / 2 ** 20).toFixed(1)} MiB`,
  );
  while (statSync(checkpoint).size <= mib * 2 ** 20) appendFileSync(checkpoint, once);
  const grown = statSync(checkpoint).size / 2 ** 20;
  // Without the finished artifact the stage must take every answer from the checkpoint, not skip an up-to-date file.
  rmSync(output);

  const second = await stage5(args, env, dir);
  const secondCalls = paidRequests(im).length - firstCalls;
  const outputRows = readFileSync(output, 'utf8').split('\n').filter(Boolean).length;
  console.log(
    `second run (artifact removed) on a ${grown.toFixed(0)} MiB checkpoint: exit ${second.code}, ${secondCalls} requests, ` +
      `${(second.ms / 1000).toFixed(1)} s, peak RSS ${second.rssMiB?.toFixed(0) ?? '?'} MiB, ${outputRows} rows written`,
  );
  if (second.code !== 0) console.log(second.stderr.slice(-1000));
  const ok = second.code === 0 && secondCalls === 0 && outputRows === n;
  console.log(ok ? 'PASS: resumed with 0 requests' : 'FAIL');
  await im.close();
  removeTempDirs();
  process.exit(ok ? 0 : 1);
}

main().catch((e: unknown) => {
  console.error(`checkpoint_bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
