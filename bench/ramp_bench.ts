// Wall time of stages 3 and 4 against a slow imitation, as a ratio to the ideal (calls × latency / concurrency).
//
//   npx tsx bench/ramp_bench.ts [--n 600] [--latency-ms 500] [--concurrency 30]
//
// Each stage runs as a child process (`node --import tsx`, as `make` runs it), so start-up, reading and writing are
// in the wall time. Stage 4 runs at its default concurrency. The stage-4 ideal uses the concurrency its manifest
// says it had as a ceiling (`settings.concurrency`). `in-stage s` is the manifest's duration: the wall time without
// the process start-up. Then the per-call CPU at zero latency against the bare SDK with p-limit.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import pLimit from 'p-limit';
import { intFlag } from './int_flag.js';
import { paidRequests, startImitation } from '../tests/support/imitation_server.js';
import { runStage, stageEnv, tempDir, removeTempDirs, writeQaPairs } from '../tests/support/run_stage.js';

/** What the stage's manifest says of its run (StageRun writes the settings, the limiter and the duration). */
function manifestOf(file: string): { concurrency?: number; reached?: number; durationS?: number } {
  try {
    const meta = JSON.parse(readFileSync(file.replace(/\.jsonl$/, '.meta.json'), 'utf8'));
    return {
      concurrency: meta?.settings?.concurrency,
      reached: meta?.limiter?.reached_concurrency,
      durationS: meta?.duration_s,
    };
  } catch {
    return {};
  }
}

/**
 * Per-call CPU at zero latency: one stage-3 run against the bare SDK with p-limit sending the same number of calls at
 * the same concurrency, both against the same in-process imitation. The stage's figure is its manifest duration (no
 * process start-up), so the ratio compares the work per call, not tsx's start.
 */
async function cpuPerCall(n: number, concurrency: number): Promise<void> {
  const im = await startImitation({ recordBodies: false });
  const dir = tempDir('ramp-bench-cpu');
  const qa = join(dir, 'qa_pairs_validated_passed.jsonl');
  writeQaPairs(qa, 200);
  const raw = join(dir, 'conversations_raw.jsonl');
  const args = ['--input', qa, '--output', raw, '--num-conversations', String(n), '--concurrency', String(concurrency)];
  const result = await runStage('3_generate_conversations.ts', args, { env: stageEnv(im), cwd: dir });
  if (result.code !== 0) throw new Error(`stage 3 at zero latency failed: ${result.stderr.slice(-500)}`);
  const calls = paidRequests(im).length;
  const stageMs = (manifestOf(raw).durationS ?? result.ms / 1000) * 1000;
  const ai = new GoogleGenAI({ apiKey: 'test-google-key', httpOptions: { baseUrl: im.geminiBaseUrl } });
  const limit = pLimit(concurrency);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: calls }, (_, i) =>
      limit(() =>
        ai.models.generateContent({ model: 'gemini-flash-latest', contents: `Write conversation ${i} about returns.` }),
      ),
    ),
  );
  const bareMs = performance.now() - started;
  console.log(
    `zero latency, ${calls} calls at concurrency ${concurrency}: stage 3 ${(stageMs / calls).toFixed(2)} ms/call ` +
      `(${((calls / stageMs) * 1000).toFixed(0)} req/s), bare SDK + p-limit ${(bareMs / calls).toFixed(2)} ms/call ` +
      `(${((calls / bareMs) * 1000).toFixed(0)} req/s); stage/bare ${(stageMs / bareMs).toFixed(2)}× (target ≤ 1.5×)`,
  );
  await im.close();
}

async function main(): Promise<void> {
  const n = intFlag('ramp_bench', 'n', 600);
  const latencyMs = intFlag('ramp_bench', 'latency-ms', 500);
  const concurrency = intFlag('ramp_bench', 'concurrency', 30);
  const im = await startImitation({ latencyMs, recordBodies: false });
  const dir = tempDir('ramp-bench');
  const env = stageEnv(im);
  const qa = join(dir, 'qa_pairs_validated_passed.jsonl');
  writeQaPairs(qa, 200);
  const raw = join(dir, 'conversations_raw.jsonl');
  const judged = join(dir, 'conversations_judged.jsonl');
  const final = join(dir, 'conversations_final.jsonl');
  const stages: Array<{ name: string; script: string; args: string[]; output: string; concurrency?: number }> = [
    {
      name: 'stage 3',
      script: '3_generate_conversations.ts',
      args: ['--input', qa, '--output', raw, '--num-conversations', String(n), '--concurrency', String(concurrency)],
      output: raw,
      concurrency,
    },
    {
      name: 'stage 4',
      script: '4_judge_and_save.ts',
      args: ['--input', raw, '--output', judged, '--final', final],
      output: judged,
    },
  ];
  console.log(`ramp bench: ${n} conversations, imitation latency ${latencyMs} ms, ${new Date().toISOString()}`);
  console.log('stage    calls  concurrency  wall s  in-stage s  ideal s  wall/ideal  reached');
  let worst = 0;
  for (const s of stages) {
    const before = paidRequests(im).length;
    const result = await runStage(s.script, s.args, { env, cwd: dir });
    if (result.code !== 0) {
      console.error(`${s.name} failed (exit ${result.code}):\n${result.stderr.slice(-2000)}`);
      process.exit(1);
    }
    const calls = paidRequests(im).length - before;
    const meta = manifestOf(s.output);
    const c = s.concurrency ?? meta.concurrency ?? 50;
    // Calls go out in ceil(calls / c) full round trips at best.
    const ideal = (Math.ceil(calls / c) * latencyMs) / 1000;
    const ratio = result.ms / 1000 / ideal;
    worst = Math.max(worst, ratio);
    console.log(
      `${s.name.padEnd(8)} ${String(calls).padStart(5)}  ${String(c).padStart(11)}  ${(result.ms / 1000).toFixed(2).padStart(6)}  ${(meta.durationS ?? Number.NaN).toFixed(2).padStart(10)}  ${ideal.toFixed(2).padStart(7)}  ${ratio.toFixed(2).padStart(9)}×  ${String(meta.reached ?? '?').padStart(7)}`,
    );
  }
  console.log(`worst wall/ideal ${worst.toFixed(2)}× (target ≤ 1.25×)`);
  await im.close();
  await cpuPerCall(n, concurrency);
  removeTempDirs();
}

main().catch((e: unknown) => {
  console.error(`ramp_bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
