// Wall time of stages 3 and 4 against a slow imitation, as a ratio to the ideal (calls × latency / concurrency).
//
//   npx tsx bench/ramp_bench.ts [--n 600] [--latency-ms 500] [--concurrency 30]
//
// Two scenarios: stages 1-4 in one folder as `make full` runs them (stage 1 proves the key and quota of the model
// stages 3 and 4 use, so the run ramps once), and stage 3 alone in a new folder (nothing proven: it looks the model
// up, then ramps from one request). Each stage runs as a child process (`node --import tsx`, as `make` runs it), so
// start-up, reading and writing are in the wall time. Stage 4 runs at its default concurrency; its ideal uses the
// concurrency its manifest says it had as a ceiling (`settings.concurrency`). `in-stage s` is the manifest's duration:
// the wall time without the process start-up. Then the per-call CPU at zero latency against the bare SDK with p-limit
// sending the stage's own requests.
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { GoogleGenAI } from '@google/genai';
import pLimit from 'p-limit';
import { intFlag } from './int_flag.js';
import { paidRequests, startImitation, type Imitation } from '../tests/support/imitation_server.js';
import { ROOT, runStage, stageEnv, tempDir, removeTempDirs, writeQaPairs } from '../tests/support/run_stage.js';

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

/** Where the stage's limiter opened: the concurrency an earlier stage proved, or one request alone. */
function openedAt(stdout: string): string {
  const proof = /starting at concurrency (\d+), (?:twice the \d+ )?reached by (\S+)/.exec(stdout);
  return proof ? `${proof[1]} (${basename(proof[2]!)})` : '1 (nothing proven)';
}

/**
 * Per-call CPU at zero latency: one stage-3 run, then the bare SDK with p-limit replaying the very requests the stage
 * sent (same prompts, schema and config, each answer JSON-parsed) at the same concurrency, both against the same
 * in-process imitation. The stage's figure is its manifest duration (no process start-up), so the ratio compares
 * the work per call, not tsx's start.
 */
async function cpuPerCall(n: number, concurrency: number): Promise<void> {
  const im = await startImitation();
  const dir = tempDir('ramp-bench-cpu');
  const qa = join(dir, 'qa_pairs_validated_passed.jsonl');
  writeQaPairs(qa, 200);
  const raw = join(dir, 'conversations_raw.jsonl');
  const args = ['--input', qa, '--output', raw, '--num-conversations', String(n), '--concurrency', String(concurrency)];
  const result = await runStage('3_generate_conversations.ts', args, { env: stageEnv(im), cwd: dir });
  if (result.code !== 0) throw new Error(`stage 3 at zero latency failed: ${result.stderr.slice(-500)}`);
  const sent = paidRequests(im);
  const stageMs = (manifestOf(raw).durationS ?? result.ms / 1000) * 1000;
  const ai = new GoogleGenAI({ apiKey: 'test-google-key', httpOptions: { baseUrl: im.geminiBaseUrl } });
  const limit = pLimit(concurrency);
  const started = performance.now();
  await Promise.all(
    sent.map((request) =>
      limit(async () => {
        const model = /models\/([^/:]+):generateContent/.exec(request.path)![1]!;
        const body = request.body;
        const answer = await ai.models.generateContent({
          model,
          contents: body.contents,
          config: { ...body.generationConfig, systemInstruction: body.systemInstruction },
        });
        return JSON.parse(answer.text ?? 'null');
      }),
    ),
  );
  const bareMs = performance.now() - started;
  const calls = sent.length;
  console.log(
    `zero latency, ${calls} calls at concurrency ${concurrency}: stage 3 ${(stageMs / calls).toFixed(2)} ms/call ` +
      `(${((calls / stageMs) * 1000).toFixed(0)} req/s, reading and writing included), bare SDK + p-limit sending ` +
      `the same requests ${(bareMs / calls).toFixed(2)} ms/call (${((calls / bareMs) * 1000).toFixed(0)} req/s); ` +
      `stage/bare ${(stageMs / bareMs).toFixed(2)}× (target ≤ 1.5×)`,
  );
  await im.close();
}

interface BenchStage {
  name: string;
  script: string;
  args: string[];
  output: string;
  /** The ceiling the ideal uses; else the manifest's `settings.concurrency`. */
  concurrency?: number;
}

/** Runs the stages in order as `make` does and prints a row each; returns the worst wall/ideal of `judged` ones. */
async function runScenario(
  im: Imitation,
  dir: string,
  latencyMs: number,
  stages: BenchStage[],
  judged: string[],
): Promise<number> {
  let worst = 0;
  for (const s of stages) {
    const before = paidRequests(im).length;
    const result = await runStage(s.script, s.args, { env: stageEnv(im), cwd: dir });
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
    if (judged.includes(s.name)) worst = Math.max(worst, ratio);
    console.log(
      `${s.name.padEnd(8)} ${String(calls).padStart(5)}  ${String(c).padStart(11)}  ${(result.ms / 1000).toFixed(2).padStart(6)}  ${(meta.durationS ?? Number.NaN).toFixed(2).padStart(10)}  ${ideal.toFixed(2).padStart(7)}  ${ratio.toFixed(2).padStart(9)}×  ${String(meta.reached ?? '?').padStart(7)}  ${openedAt(result.stdout)}`,
    );
  }
  return worst;
}

async function main(): Promise<void> {
  const n = intFlag('ramp_bench', 'n', 600);
  const latencyMs = intFlag('ramp_bench', 'latency-ms', 500);
  const concurrency = intFlag('ramp_bench', 'concurrency', 30);
  const im = await startImitation({ latencyMs, recordBodies: false });
  console.log(`ramp bench: ${n} conversations, imitation latency ${latencyMs} ms, ${new Date().toISOString()}`);
  const header = 'stage    calls  concurrency  wall s  in-stage s  ideal s  wall/ideal  reached  opened from';
  const generate = (input: string, raw: string): BenchStage => ({
    name: 'stage 3',
    script: '3_generate_conversations.ts',
    args: ['--input', input, '--output', raw, '--num-conversations', String(n), '--concurrency', String(concurrency)],
    output: raw,
    concurrency,
  });
  const judge = (dir: string, raw: string): BenchStage => ({
    name: 'stage 4',
    script: '4_judge_and_save.ts',
    args: ['--input', raw, '--output', join(dir, 'conversations_judged.jsonl'), '--final', join(dir, 'final.jsonl')],
    output: join(dir, 'conversations_judged.jsonl'),
  });

  // As `make full` runs them: stage 1 proves the key and the quota on the model stages 3 and 4 use, so the run
  // ramps once; stage 2 (another model) ramps on its own.
  const pipe = tempDir('ramp-bench-pipeline');
  const qa = join(pipe, 'qa_pairs.jsonl');
  const validated = join(pipe, 'qa_pairs_validated.jsonl');
  const pipeRaw = join(pipe, 'conversations_raw.jsonl');
  console.log(`\npipeline (stages 1-4 in one folder, ${join(ROOT, 'data/swap_facts.md')}):\n${header}`);
  const inPipeline = await runScenario(
    im,
    pipe,
    latencyMs,
    [
      {
        name: 'stage 1',
        script: '1_extract_qa.ts',
        args: ['--facts', join(ROOT, 'data/swap_facts.md'), '--output', qa],
        output: qa,
      },
      { name: 'stage 2', script: '2_validate_qa.ts', args: ['--input', qa, '--output', validated], output: validated },
      generate(join(pipe, 'qa_pairs_validated_passed.jsonl'), pipeRaw),
      judge(pipe, pipeRaw),
    ],
    ['stage 3', 'stage 4'],
  );

  // Stage 3 on its own in a new folder: no earlier stage proved anything, so it looks the model up and ramps from
  // one request.
  const cold = tempDir('ramp-bench-cold');
  const pairs = join(cold, 'qa_pairs_validated_passed.jsonl');
  writeQaPairs(pairs, 200);
  const coldRaw = join(cold, 'conversations_raw.jsonl');
  console.log(`\nstage 3 alone, nothing proven (a new folder, ${n} conversations):\n${header}`);
  const alone = await runScenario(im, cold, latencyMs, [generate(pairs, coldRaw), judge(cold, coldRaw)], ['stage 3']);
  console.log(
    `\nworst wall/ideal in the pipeline ${inPipeline.toFixed(2)}× (target ≤ 1.25×); stage 3 alone ${alone.toFixed(2)}×`,
  );
  await im.close();
  await cpuPerCall(n, concurrency);
  removeTempDirs();
}

main().catch((e: unknown) => {
  console.error(`ramp_bench: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
