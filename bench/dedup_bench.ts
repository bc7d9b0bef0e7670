// Stage-6 benchmark: seeded embedded-JSONL fixtures, the whole read → dedup → write path per size in a child process.
/*
 * What it measures, per size (default 2,000 / 10,000 / 100,000 rows of 1024 dims, ~20% planted near-duplicates,
 * half of them within ±0.002 of the 0.95 threshold):
 *   • the stage as the lead's script runs it — readEmbedded, dedupGreedy, kept rows written without embeddings —
 *     with wall time per step and the child's peak RSS (resourceUsage().maxRSS, taken right after the stage);
 *   • reading the same file with JSON.parse per line instead of the hand-rolled scan;
 *   • agreement with the brute-force reference (dedupExact) where it runs in reasonable time, else a sampled check;
 *   • the literal port of the Python loop where its predicted time is under --port-budget seconds;
 *   • MinHash on the conversations' text, with a brute-force Jaccard check at the smallest size.
 * Then prints a markdown table and saves it into BENCHMARKS.md between the dedup-bench markers.
 *
 *   npm run bench                          all sizes (~20 minutes on 2 cores)
 *   npm run bench -- --sizes 2000,10000    selected sizes
 *   options: --fixtures clustered,isotropic,text,cone (default all four) --dim N (default 1024)
 *            --exact-max N (default 10000) --sample N (default 150) --port-budget S (default 60) --no-numpy --keep
 *            --no-save
 * Where `python3 -c "import numpy"` works, bench/numpy_greedy.py (parse + exact greedy with BLAS products) runs on
 * each file too, and the ratios and the kept-set comparison go into the table.
 */
import { spawnSync } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dedupGreedy } from '../src/dedup/greedy.js';
import { minhashDedup } from '../src/dedup/minhash.js';
import { readEmbedded } from '../src/dedup/read_embedded.js';
import {
  dedupExact,
  dedupOriginalPort,
  normalizeInto,
  similarity,
  visitOrder,
  type DedupResult,
} from '../src/dedup/reference.js';
import { conversationText } from '../src/conversation_text.js';
import { Rng, writeEmbeddedJsonl, type Geometry } from './fixtures.js';
import { stringifyEscapes } from '../src/io/json_text.js';
import { UNIQUE_CONVERSATION_MEMBERS } from '../src/schemas.js';
import { compareKept, numpyAvailable, runNumpy, type NumpyRun } from './numpy_peer.js';

const THRESHOLD = 0.95;
const JACCARD = 0.8;
const SEED = 42;
const HERE = dirname(fileURLToPath(import.meta.url));
const MARK_START = '<!-- dedup-bench:start -->';
const MARK_END = '<!-- dedup-bench:end -->';

interface ChildTask {
  file: string;
  size: number;
  geometry: Geometry;
  exact: boolean;
  sample: number;
  port: boolean;
  bruteJaccard: boolean;
}

interface ChildReport {
  size: number;
  geometry: Geometry;
  numpy?: NumpyRun & { agreement: string };
  fileMB: number;
  readS: number;
  rereadScanS: number;
  readJsonS: number;
  dedupS: number;
  writeS: number;
  stageS: number;
  peakRssMB: number;
  kept: number;
  removed: number;
  detail: Record<string, number>;
  method: string;
  agreement: string;
  portS?: number;
  portAgreement?: string;
  minhashS: number;
  minhashRemoved: number;
  minhashAgreement?: string;
}

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

function parseArgs(argv: string[]): Record<string, string | boolean> {
  const out: Record<string, string | boolean> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`Unexpected argument ${a}`);
    const next = argv[i + 1];
    if (next !== undefined && !next.startsWith('--')) {
      out[a.slice(2)] = next;
      i++;
    } else out[a.slice(2)] = true;
  }
  return out;
}

function intFlag(args: Record<string, string | boolean>, name: string, fallback: number): number {
  const v = args[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`Expected \`--${name}\` to be an integer ≥ 0, got ${String(v)}`);
  return n;
}

// ---- child: one size, fresh process, so peak RSS is this stage's alone ----

function runChild(task: ChildTask): ChildReport {
  const t0 = performance.now();
  const rows = readEmbedded(task.file, { keep: UNIQUE_CONVERSATION_MEMBERS });
  const readS = seconds(t0);

  const t1 = performance.now();
  const result = dedupGreedy(rows, { threshold: THRESHOLD });
  const dedupS = seconds(t1);

  // Written as the stage script does: each kept row's text as the reader cut it, with JSON.stringify's escapes, in
  // input order, then renamed.
  const t2 = performance.now();
  const out = `${task.file}.dedup.jsonl`;
  const fd = openSync(`${out}.tmp`, 'w');
  let chunk = '';
  for (const i of result.kept) {
    chunk += `${stringifyEscapes(rows.rows[i])}\n`;
    if (chunk.length > 1 << 22) {
      writeSync(fd, chunk);
      chunk = '';
    }
  }
  writeSync(fd, chunk);
  closeSync(fd);
  renameSync(`${out}.tmp`, out);
  const writeS = seconds(t2);
  const stageS = seconds(t0);
  const peakRssMB = process.resourceUsage().maxRSS / 1024;
  writeFileSync(`${task.file}.kept.txt`, `${result.kept.join('\n')}\n`);

  // Parser comparison, both warm (the stage's read above includes JIT warm-up of the scanner).
  const t3 = performance.now();
  let viaJson: ReturnType<typeof readEmbedded> | undefined = readEmbedded(task.file, { parser: 'json' });
  const readJsonS = seconds(t3);
  if (viaJson.vectors.some((v, k) => !Object.is(v, rows.vectors[k])))
    throw new Error('JSON.parse and scan readers disagree');
  viaJson = undefined; // so the second read does not run with two copies alive
  const t3b = performance.now();
  readEmbedded(task.file);
  const rereadScanS = seconds(t3b);

  let agreement: string;
  let exact: DedupResult | undefined;
  if (task.exact) {
    exact = dedupExact(rows, THRESHOLD);
    agreement = compare(result, exact, rows.count);
  } else {
    agreement = sampledCheck(rows, result, task.sample);
  }

  let portS: number | undefined;
  let portAgreement: string | undefined;
  if (task.port) {
    const embeddings = Array.from({ length: rows.count }, (_, i) =>
      Array.from(rows.vectors.subarray(i * rows.dim, (i + 1) * rows.dim)),
    );
    const passing = Array.from(rows.passing, Boolean);
    const t4 = performance.now();
    const port = dedupOriginalPort(embeddings, passing, THRESHOLD);
    portS = seconds(t4);
    portAgreement = compare(port, exact ?? result, rows.count);
  }

  // The text 6_deduplicate.ts feeds MinHash: `ROLE: content` blocks.
  const texts = rows.rows.map((r) =>
    conversationText(
      (JSON.parse(r) as { conversation: { messages: Array<{ role: string; content: string }> } }).conversation.messages,
    ),
  );
  const t5 = performance.now();
  const mh = minhashDedup(texts, rows.passing, { threshold: JACCARD });
  const minhashS = seconds(t5);
  const minhashAgreement = task.bruteJaccard
    ? compare(mh, bruteForceJaccard(texts, rows.passing), rows.count)
    : undefined;

  return {
    size: task.size,
    geometry: task.geometry,
    fileMB: statSync(task.file).size / 1e6,
    readS,
    rereadScanS,
    readJsonS,
    dedupS,
    writeS,
    stageS,
    peakRssMB,
    kept: result.kept.length,
    removed: result.removed.length,
    detail: result.stats.detail ?? {},
    method: result.stats.method,
    agreement,
    portS,
    portAgreement,
    minhashS,
    minhashRemoved: mh.removed.length,
    minhashAgreement,
  };
}

/** Share of rows with the same kept/removed status, and whether the removals match exactly (partner and similarity). */
function compare(got: DedupResult, want: DedupResult, n: number): string {
  const a = new Uint8Array(n);
  const b = new Uint8Array(n);
  for (const k of got.kept) a[k] = 1;
  for (const k of want.kept) b[k] = 1;
  let same = 0;
  for (let i = 0; i < n; i++) if (a[i] === b[i]) same++;
  const identical = JSON.stringify(got.removed) === JSON.stringify(want.removed);
  return same === n
    ? identical
      ? '100% (identical)'
      : '100% (kept set identical)'
    : `${((100 * same) / n).toFixed(3)}%`;
}

/**
 * Brute force at 100k would take hours, so this checks greedy consistency on a seeded sample: for a sampled row,
 * recompute in Float64 its similarity to every row kept before it in visit order and re-derive its decision. If
 * every row passes this check the result is exactly the greedy one (by induction over visit order).
 */
function sampledCheck(
  rows: { vectors: Float32Array; dim: number; count: number; passing: Uint8Array },
  result: DedupResult,
  sample: number,
): string {
  const { dim, count } = rows;
  const x = new Float32Array(count * dim);
  normalizeInto(rows.vectors, count, dim, x, dim);
  const order = visitOrder(rows.passing);
  const rank = new Int32Array(count);
  for (let r = 0; r < count; r++) rank[order[r]] = r;
  const isKept = new Uint8Array(count);
  for (const k of result.kept) isKept[k] = 1;
  const removedBy = new Map(result.removed.map((r) => [r.index, r]));
  const keptByRank = result.kept.slice().sort((a, b) => rank[a] - rank[b]);
  const rng = new Rng(SEED, 99);
  let ok = 0;
  for (let s = 0; s < sample; s++) {
    const i = rng.int(count);
    let best = -1;
    let bestSim = -Infinity;
    for (const k of keptByRank) {
      if (rank[k] >= rank[i]) break;
      const sim = similarity(x, i * dim, k * dim, dim);
      if (sim >= THRESHOLD && sim > bestSim) [best, bestSim] = [k, sim];
    }
    const r = removedBy.get(i);
    if (best < 0 ? isKept[i] === 1 : r?.duplicateOf === best && r.similarity === bestSim) ok++;
  }
  return `${ok}/${sample} sampled rows consistent`;
}

function bruteForceJaccard(texts: string[], passing: Uint8Array): DedupResult {
  const sets = texts.map((t) => {
    const w = t.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
    const s = new Set<string>();
    if (w.length > 0 && w.length < 3) s.add(w.join(' '));
    for (let i = 0; i + 3 <= w.length; i++) s.add(`${w[i]} ${w[i + 1]} ${w[i + 2]}`);
    return s;
  });
  const order = visitOrder(passing);
  const kept: number[] = [];
  const isKept = new Uint8Array(texts.length);
  const removed: DedupResult['removed'] = [];
  for (const i of order) {
    let best = -1;
    let bestSim = -Infinity;
    for (const k of kept) {
      let inter = 0;
      for (const v of sets[i]) if (sets[k].has(v)) inter++;
      const sim = sets[i].size && sets[k].size ? inter / (sets[i].size + sets[k].size - inter) : 0;
      if (sim >= JACCARD && sim > bestSim) [best, bestSim] = [k, sim];
    }
    if (best < 0) {
      kept.push(i);
      isKept[i] = 1;
    } else removed.push({ index: i, duplicateOf: best, similarity: bestSim });
  }
  return {
    kept: kept.sort((a, b) => a - b),
    removed: removed.sort((a, b) => a.index - b.index),
    stats: { comparisons: 0, method: 'brute-force Jaccard' },
  };
}

// ---- parent: fixtures, children, table ----

/** The vector extensions /proc/cpuinfo lists (what NumPy's BLAS can use; WebAssembly SIMD is 128-bit whatever they are). */
function simdFlags(): string {
  try {
    const flags = new Set(
      /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1].trim().split(/\s+/) ?? [],
    );
    const has = ['avx512f', 'avx2', 'fma'].filter((f) => flags.has(f));
    return has.length ? ` (${has.join(', ')})` : '';
  } catch {
    return '';
  }
}

function machine(): string[] {
  const cpu = cpus();
  return [
    `- CPU: ${cpu[0]?.model ?? 'unknown'}${simdFlags()}, ${cpu.length} cores visible; RAM ${(totalmem() / 2 ** 30).toFixed(0)} GiB`,
    `- Node ${process.version}, Linux ${release()}; WebAssembly SIMD kernels, ${Math.min(2, cpu.length)} worker threads`,
    `- Load average when the run started: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' / ')} (1 / 5 / 15 min; other jobs on the machine inflate times)`,
  ];
}

function table(reports: ChildReport[], portEstimate: Map<number, number>): string[] {
  const f = (v: number | undefined, d = 2): string => (v === undefined ? '—' : v.toFixed(d));
  const n = (v: number): string => v.toLocaleString('en-US');
  const label = (r: ChildReport): string => `${n(r.size)} ${r.geometry}`;
  const duration = (sec: number): string =>
    sec < 120 ? `${sec.toFixed(0)} s` : sec < 7200 ? `${(sec / 60).toFixed(0)} min` : `${(sec / 3600).toFixed(1)} h`;
  const lines = [
    '| rows | file | read | dedup | write kept | **whole stage** | peak RSS | removed | agreement with exact greedy | Python loop ported (JS) | dedup speed-up |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|',
  ];
  for (const r of reports) {
    const est = portEstimate.get(r.size);
    const port =
      r.portS !== undefined ? `${f(r.portS, 1)} s` : est !== undefined ? `~${duration(est)} (est.)` : 'not run';
    const ratio =
      r.portS !== undefined
        ? `${(r.portS / r.dedupS).toFixed(0)}×`
        : est !== undefined
          ? `~${(est / r.dedupS).toFixed(0)}× (est.)`
          : '—';
    lines.push(
      `| ${label(r)} | ${f(r.fileMB, 0)} MB | ${f(r.readS)} s | ${f(r.dedupS)} s | ${f(r.writeS)} s | **${f(r.stageS)} s** | ${f(r.peakRssMB, 0)} MB | ${n(r.removed)} | ${r.agreement} | ${port} | ${ratio} |`,
    );
  }
  lines.push(
    '',
    '| rows | read: hand-rolled scan (warm) | read: JSON.parse per line (warm) | scan speed-up |',
    '|---:|---:|---:|---:|',
  );
  for (const r of reports) {
    lines.push(
      `| ${label(r)} | ${f(r.rereadScanS)} s | ${f(r.readJsonS)} s | ${(r.readJsonS / r.rereadScanS).toFixed(2)}× |`,
    );
  }
  lines.push(
    '',
    '| rows | pairs | pruned at stage 1 | stage-3 full dots | brute-force dots | canonical checks | near pairs | normalise | basis | project | scan | brute force | rest |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  );
  // A phase the chosen path did not run has no timing.
  const ms = (v: number | undefined): string => (v === undefined ? '—' : `${v} ms`);
  for (const r of reports) {
    const d = r.detail;
    const pairs = d.pairs ?? 0;
    // A stage-1 pass is counted per group of 4 columns, so this is a lower bound on the pruned share.
    const stage1Pass = (d.stage2Groups ?? 0) * 4;
    const rest = (d.ms_choose ?? 0) + (d.ms_quantize ?? 0) + (d.ms_verify ?? 0) + (d.ms_resolve ?? 0);
    const pruned = pairs ? `≥ ${(100 * (1 - Math.min(stage1Pass, pairs) / pairs)).toFixed(3)}%` : '—';
    lines.push(
      `| ${label(r)} | ${pairs ? pairs.toExponential(2) : '—'} | ${pruned} | ${pairs ? n(d.stage3Dots ?? 0) : '—'} | ${d.dots === undefined ? '—' : n(d.dots)} | ${n(d.candidates ?? 0)} | ${pairs ? n(d.nearPairs ?? 0) : '—'} | ${ms(d.ms_normalize)} | ${ms(d.ms_basis)} | ${ms(d.ms_project)} | ${ms(d.ms_scan)} | ${ms(d.ms_brute)} | ${rest} ms |`,
    );
  }
  lines.push(
    '',
    '| rows | MinHash (128 perms, 3-word shingles, Jaccard ≥ 0.8) | removed | agreement with brute-force Jaccard greedy |',
    '|---:|---:|---:|---|',
  );
  for (const r of reports) {
    lines.push(
      `| ${label(r)} | ${f(r.minhashS)} s | ${n(r.minhashRemoved)} | ${r.minhashAgreement ?? 'not run (brute force too slow)'} |`,
    );
  }
  const peers = reports.filter((r) => r.numpy);
  if (peers.length) {
    const p = peers[0].numpy!;
    lines.push(
      '',
      `NumPy ${p.numpy} peer (\`bench/numpy_greedy.py\`: ${p.parser} per line, exact greedy by blocked sgemm), run on the same file right after the stage; ratio = NumPy time / ours (> 1: ours is faster):`,
      '',
      '| rows | path chosen | ours: read + dedup | ours: whole stage | NumPy: parse | NumPy: dedup | NumPy: parse + dedup | **ratio (whole stage)** | ratio (dedup only) | kept sets |',
      '|---|---|---:|---:|---:|---:|---:|---:|---:|---|',
    );
    for (const r of peers) {
      const np = r.numpy!;
      const npTotal = np.parseS + np.dedupS;
      const path = r.method.replace(/^(\S+) exact \(([^,;]*).*$/, '$1 ($2)');
      lines.push(
        `| ${label(r)} | ${path} | ${f(r.readS + r.dedupS)} s | ${f(r.stageS)} s | ${f(np.parseS)} s | ${f(np.dedupS)} s | ${f(npTotal)} s | **${(npTotal / r.stageS).toFixed(2)}×** | ${(np.dedupS / r.dedupS).toFixed(2)}× | ${np.agreement} |`,
      );
    }
  }
  return lines;
}

function save(section: string): string {
  const path = join(HERE, '..', 'BENCHMARKS.md');
  const block = `${MARK_START}\n${section}\n${MARK_END}`;
  const text = existsSync(path) ? readFileSync(path, 'utf8') : `# Benchmarks\n\n${MARK_START}\n${MARK_END}\n`;
  const a = text.indexOf(MARK_START);
  const b = text.indexOf(MARK_END);
  const next =
    a >= 0 && b > a ? text.slice(0, a) + block + text.slice(b + MARK_END.length) : `${text.trimEnd()}\n\n${block}\n`;
  writeFileSync(`${path}.tmp`, next);
  renameSync(`${path}.tmp`, path);
  return path;
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args.child === 'string') {
    process.stdout.write(`${JSON.stringify(runChild(JSON.parse(args.child) as ChildTask))}\n`);
    return;
  }
  const sizes = String(args.sizes ?? '2000,10000,100000')
    .split(',')
    .map((s) => {
      const n = Number(s);
      if (!Number.isInteger(n) || n < 2)
        throw new Error(`Expected \`--sizes\` to be integers ≥ 2 separated by commas, got ${String(args.sizes)}`);
      return n;
    })
    .sort((a, b) => a - b);
  const geometries = String(args.fixtures ?? 'clustered,isotropic,text,cone').split(',') as Geometry[];
  for (const g of geometries)
    if (g !== 'clustered' && g !== 'isotropic' && g !== 'text' && g !== 'cone')
      throw new Error(
        `Expected \`--fixtures\` to list clustered, isotropic, text and/or cone, got ${String(args.fixtures)}`,
      );
  const withNumpy = !args['no-numpy'] && numpyAvailable();
  const exactMax = intFlag(args, 'exact-max', 10_000);
  const sample = intFlag(args, 'sample', 150);
  const portBudget = intFlag(args, 'port-budget', 60);
  // Embedding models answer in 768 to 3072 dimensions; the rows' width moves the parse/dedup balance against NumPy.
  const dim = intFlag(args, 'dim', 1024);
  const facts = machine();
  console.log(['Stage-6 dedup benchmark', ...facts].join('\n'));

  const dir = mkdtempSync(join(tmpdir(), 'dedup-bench-'));
  const reports: ChildReport[] = [];
  // The port's cost per (row × row) unit, learned from the first size that ran it; it compares each row with all
  // kept rows, ~0.42·n² comparisons at this fixture's duplicate rate.
  let portRate: number | undefined;
  const portEstimate = new Map<number, number>();
  const started = performance.now();
  try {
    for (const geometry of geometries)
      for (const size of sizes) {
        const file = join(dir, `embedded_${geometry}_${size}.jsonl`);
        const tg = performance.now();
        const { bytes } = writeEmbeddedJsonl(file, { count: size, dim, seed: SEED, threshold: THRESHOLD, geometry });
        console.log(
          `\n${size} rows, ${geometry}: fixture ${(bytes / 1e6).toFixed(0)} MB written in ${seconds(tg).toFixed(1)} s`,
        );
        const predictedPort = portRate === undefined ? (size <= 2000 ? 0 : Infinity) : portRate * 0.42 * size * size;
        const task: ChildTask = {
          file,
          size,
          geometry,
          exact: size <= exactMax,
          sample,
          port: predictedPort <= portBudget,
          bruteJaccard: size <= 2000,
        };
        const child = spawnSync(
          process.execPath,
          [...process.execArgv, fileURLToPath(import.meta.url), '--child', JSON.stringify(task)],
          {
            encoding: 'utf8',
            maxBuffer: 1 << 26,
            stdio: ['ignore', 'pipe', 'inherit'],
          },
        );
        if (child.status !== 0) throw new Error(`child for ${size} rows exited with ${child.status}`);
        const report = JSON.parse(child.stdout.trim().split('\n').pop()!) as ChildReport;
        reports.push(report);
        if (report.portS !== undefined) portRate = report.portS / (0.42 * size * size);
        else if (portRate !== undefined) portEstimate.set(size, predictedPort);
        console.log(
          `  stage ${report.stageS.toFixed(2)} s (read ${report.readS.toFixed(2)}, dedup ${report.dedupS.toFixed(2)}, write ${report.writeS.toFixed(2)}), ` +
            `peak RSS ${report.peakRssMB.toFixed(0)} MB, removed ${report.removed}, ${report.agreement}` +
            (report.portS === undefined
              ? ''
              : `; original port ${report.portS.toFixed(1)} s (${report.portAgreement})`),
        );
        if (withNumpy) {
          const ours = readFileSync(`${file}.kept.txt`, 'utf8').split('\n').filter(Boolean).map(Number);
          const np = runNumpy(file, THRESHOLD);
          report.numpy = { ...np, kept: [], agreement: compareKept(ours, np.kept) };
          console.log(
            `  NumPy parse ${np.parseS.toFixed(2)} s + dedup ${np.dedupS.toFixed(2)} s; kept sets ${report.numpy.agreement}`,
          );
        }
        if (!args.keep) rmSync(file, { force: true });
        rmSync(`${file}.dedup.jsonl`, { force: true });
        rmSync(`${file}.kept.txt`, { force: true });
      }
  } finally {
    if (!args.keep) rmSync(dir, { recursive: true, force: true });
    else console.log(`fixtures kept in ${dir}`);
  }
  const section = [
    `Generated by \`npm run bench\` (sizes ${sizes.join(', ')}; ${seconds(started).toFixed(0)} s in total).`,
    '',
    ...facts,
    `- Fixtures: \`bench/fixtures.ts\`, seed ${SEED}, ${dim} dims, ~20% planted near-duplicates, 85% passing; clustered: half at cosine 0.96–0.995, half within ±0.002 of ${THRESHOLD}; isotropic: standard-normal directions, copies half at 0.985–0.995, half at 0.93–0.97; text: each conversation embedded as the tests' imitation embeds text (hashed words), copies as close as their perturbed words make them; cone: every row at cosine ~0.9 to every other (one shared direction, isotropic residual), the isotropic fixture's copies — no prefix bound prunes, brute force runs`,
    '',
    ...table(reports, portEstimate),
  ].join('\n');
  console.log(`\n${section}`);
  if (!args['no-save']) console.log(`\nsaved to ${save(section)}`);
}

main();
