// Issue 15's end-to-end table: stages 3–7, `make stats` and `make report` on N conversations against the imitation.
//
//   npx tsx bench/e2e_100k.ts [--n 100000] [--steps 7] [--heap-mib 150]
//
// --steps runs only the first N steps (2: stages 3 and 4); --heap-mib caps each child's V8 heap
// (--max-old-space-size), which shows the live set apart from garbage V8 had no reason to collect yet.
// Each step runs as a child in a temporary folder holding `output/` (the scripts' default paths), under
// `/usr/bin/time -v` when present, and the bench prints its wall time and peak RSS.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { intFlag } from './int_flag.js';
import { paidRequests, startImitation } from '../tests/support/imitation_server.js';
import { collectOutput, removeTempDirs, stageEnv, tempDir, writeQaPairs } from '../tests/support/run_stage.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const TIME = '/usr/bin/time';

/** Newlines in a file, read in 16 MiB chunks: stage 5's artifact at 100k (~1.5 GB) is past a string's limit. */
function rowsIn(file: string): number {
  if (!existsSync(file)) return 0;
  const fd = openSync(file, 'r');
  const chunk = Buffer.alloc(16 << 20);
  let rows = 0;
  try {
    for (let read = readSync(fd, chunk); read > 0; read = readSync(fd, chunk)) {
      for (let at = chunk.indexOf(10); at >= 0 && at < read; at = chunk.indexOf(10, at + 1)) rows++;
    }
  } finally {
    closeSync(fd);
  }
  return rows;
}

async function step(script: string, args: string[], env: Record<string, string>, cwd: string, heapMib?: number) {
  const heap = heapMib ? [`--max-old-space-size=${heapMib}`] : [];
  const node = [process.execPath, ...heap, '--import', TSX_LOADER, join(ROOT, script), ...args];
  const [cmd, ...rest] = existsSync(TIME) ? [TIME, '-v', ...node] : node;
  const result = await collectOutput(spawn(cmd!, rest, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })).done;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr);
  return { ...result, rssMiB: rss ? Number(rss[1]) / 1024 : undefined };
}

async function main(): Promise<void> {
  const n = intFlag('e2e_100k', 'n', 100_000);
  const heapMib = process.argv.includes('--heap-mib') ? intFlag('e2e_100k', 'heap-mib', 0) : undefined;
  const im = await startImitation({ recordBodies: false });
  const dir = tempDir('e2e-bench');
  mkdirSync(join(dir, 'output'));
  // Stage 3 makes at most a few conversations per Q&A pair (conversationTarget): one pair per conversation asked.
  writeQaPairs(join(dir, 'output', 'qa_pairs_validated_passed.jsonl'), n);
  // The product's per-request timeout, not the tests' 10 s: the in-process imitation computes each 100-text
  // embeddings request on this process's one thread, and stage 5's 20 in flight can queue past 10 s there.
  const { LLM_TIMEOUT_MS: _testTimeout, ...env } = stageEnv(im);
  // The artifact each step writes, whose rows the table counts (the report and stats write none).
  const steps: Array<[string, string, string[], string?]> = [
    ['stage 3', '3_generate_conversations.ts', ['--num-conversations', String(n), '--quiet'], 'conversations_raw'],
    ['stage 4', '4_judge_and_save.ts', ['--quiet'], 'conversations_judged'],
    ['stage 5', '5_embed_conversations.ts', ['--quiet'], 'conversations_embedded'],
    ['stage 6', '6_deduplicate.ts', ['--quiet'], 'conversations_deduplicated'],
    ['stage 7', '7_select_top.ts', ['--quiet'], 'conversations_final'],
    ['make stats', 'scripts/stats.ts', []],
    ['make report', 'scripts/report.ts', []],
  ];
  const count = intFlag('e2e_100k', 'steps', steps.length);
  console.log(
    `e2e bench: ${n} conversations against the imitation${heapMib ? `, heap capped at ${heapMib} MiB` : ''}, ${new Date().toISOString()}`,
  );
  console.log('step          requests   wall s  peak RSS MiB  rows written');
  for (const [name, script, args, artifact] of steps.slice(0, count)) {
    const before = paidRequests(im).length;
    const r = await step(script, args, env, dir, heapMib);
    if (r.code !== 0) {
      console.error(`${name} failed (exit ${r.code}):\n${r.stderr.slice(-1500)}`);
      process.exit(1);
    }
    const calls = paidRequests(im).length - before;
    console.log(
      `${name.padEnd(12)} ${String(calls).padStart(9)}  ${(r.ms / 1000).toFixed(1).padStart(7)}  ${(r.rssMiB?.toFixed(0) ?? '?').padStart(12)}  ${artifact ? rowsIn(join(dir, 'output', `${artifact}.jsonl`)).toLocaleString('en') : '-'}`,
    );
  }
  await im.close();
  removeTempDirs();
}

main().catch((e: unknown) => {
  console.error(`e2e_100k: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
