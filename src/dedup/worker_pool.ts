// Worker threads for the dedup kernels: one shared memory, tasks posted per worker, the caller blocked until done.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import type { DedupKernels } from './simd_kernels.js';
import type { WasmMemory, WasmModule } from './wasm_asm.js';

// ---- the scan driver: one JS source, run on worker threads or, with workers: 0, on the calling thread ----

export interface ScanParams {
  counter: number;
  nBlocks: number;
  qb: number;
  tile: number;
  /** The query rows are [base, n); each is scanned against the rows before it. */
  base: number;
  n: number;
  out: number;
  stats: number;
}

export interface ScanPart {
  pairs: Int32Array;
  stage2: number;
  stage3: number;
}

/*
 * Query blocks are handed out through an atomic counter, heaviest (largest q, most columns) first, so two threads
 * finish together. Within a block the column tiles are the outer loop so a tile's int16 data stays in L2 while
 * every query of the block passes over it.
 */
const SCAN_DRIVER_SOURCE = `function scanBlocks(k, memory, p) {
  const i32 = new Int32Array(memory.buffer);
  let pairs = new Int32Array(4096);
  let len = 0;
  let stage2 = 0;
  let stage3 = 0;
  const st = p.stats >> 2;
  for (;;) {
    const b = Atomics.add(i32, p.counter >> 2, 1);
    if (b >= p.nBlocks) break;
    const blk = p.nBlocks - 1 - b;
    const q0 = p.base + blk * p.qb;
    const q1 = Math.min(p.n, q0 + p.qb);
    const gLast = (q1 + 2) >> 2;
    i32[st] = 0;
    i32[st + 1] = 0;
    for (let g0 = 0; g0 < gLast; g0 += p.tile) {
      const g1 = Math.min(g0 + p.tile, gLast);
      for (let q = q0; q < q1; q++) {
        const c = k.scan(q, g0, g1, p.out, p.stats);
        if (c > 0) {
          if (len + 2 * c > pairs.length) {
            const grown = new Int32Array(Math.max(pairs.length * 2, len + 2 * c));
            grown.set(pairs.subarray(0, len));
            pairs = grown;
          }
          pairs.set(i32.subarray(p.out >> 2, (p.out >> 2) + 2 * c), len);
          len += 2 * c;
        }
      }
      stage2 += i32[st];
      stage3 += i32[st + 1];
      i32[st] = 0;
      i32[st + 1] = 0;
    }
  }
  return { pairs: pairs.slice(0, len), stage2, stage3 };
}`;

export const scanBlocks = new Function(`return ${SCAN_DRIVER_SOURCE}`)() as (
  k: DedupKernels,
  memory: WasmMemory,
  p: ScanParams,
) => ScanPart;

export interface BruteParams {
  /** Byte address of the block's first candidate row, and the block's row count. */
  a: number;
  bn: number;
  /** Byte address of kept row 0; this lane takes kept rows [kFrom, kTo) in chunks of `chunk` rows. */
  b: number;
  kFrom: number;
  kTo: number;
  chunk: number;
  rowBytes: number;
  /** Scratch for one bruteTile call (4·(chunk+1) pairs) and the lowered limit: f32, or integer with int16 rows. */
  out: number;
  limit: number;
  /** The rows are int16 (bruteTile16), not f32. */
  int16: boolean;
}

/*
 * A block of candidates against a range of kept rows: the kept range is walked in chunks that stay in cache while
 * every 4-row tile of the block passes over them. Returns flagged (candidate, kept) pairs; padding rows are dropped.
 */
const BRUTE_DRIVER_SOURCE = `function bruteBlock(k, memory, p) {
  const i32 = new Int32Array(memory.buffer);
  const o = p.out >> 2;
  let pairs = new Int32Array(256);
  let len = 0;
  const tile = p.int16 ? k.bruteTile16 : k.bruteTile;
  for (let k0 = p.kFrom; k0 < p.kTo; k0 += p.chunk) {
    const kc = Math.min(p.chunk, p.kTo - k0);
    for (let t = 0; t < p.bn; t += 4) {
      const c = tile(p.a + t * p.rowBytes, p.b + k0 * p.rowBytes, kc + (kc & 1), p.out, p.limit);
      for (let e = 0; e < c; e++) {
        const i = t + i32[o + 2 * e];
        const j = i32[o + 2 * e + 1];
        if (i >= p.bn || j >= kc) continue;
        if (len + 2 > pairs.length) {
          const grown = new Int32Array(pairs.length * 2);
          grown.set(pairs);
          pairs = grown;
        }
        pairs[len++] = i;
        pairs[len++] = k0 + j;
      }
    }
  }
  return pairs.slice(0, len);
}`;

export const bruteBlock = new Function(`return ${BRUTE_DRIVER_SOURCE}`)() as (
  k: DedupKernels,
  memory: WasmMemory,
  p: BruteParams,
) => Int32Array;

/*
 * Workers report back through a MessagePort read with receiveMessageOnPort while the caller blocks in Atomics.wait
 * on a shared counter, so dedupGreedy stays synchronous. Each worker posts its reply before bumping the counter.
 */
const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
${SCAN_DRIVER_SOURCE}
${BRUTE_DRIVER_SOURCE}
const { port, memory, sync } = workerData;
const flags = new Int32Array(memory.buffer, sync, 4);
Atomics.add(flags, 1, 1);
Atomics.notify(flags, 1);
port.on('message', (msg) => {
  if (msg.type === 'exit') {
    port.close();
    return;
  }
  try {
    const k = new WebAssembly.Instance(msg.module, { env: { mem: memory } }).exports;
    if (msg.type === 'project') {
      const { x, rows, basis, k2, dp, out } = msg;
      k.gemmNT(x, rows, basis, k2, dp, out);
      port.postMessage({ ok: true });
    } else if (msg.type === 'scan') {
      const part = scanBlocks(k, memory, msg.params);
      port.postMessage({ ok: true, part }, [part.pairs.buffer]);
    } else if (msg.type === 'brute') {
      const pairs = bruteBlock(k, memory, msg.params);
      port.postMessage({ ok: true, pairs }, [pairs.buffer]);
    }
  } catch (err) {
    port.postMessage({ ok: false, error: String((err && err.stack) || err) });
  }
  Atomics.add(flags, 0, 1);
  Atomics.notify(flags, 0);
});
`;

/** Worker threads sharing the kernel memory; `run` posts one task per worker and blocks until all replied. */
export class WorkerPool {
  private constructor(
    private readonly workers: Worker[],
    private readonly ports: MessagePort[],
    private readonly flags: Int32Array,
  ) {}

  static start(count: number, memory: WasmMemory, sync: number): WorkerPool {
    const workers: Worker[] = [];
    const ports: MessagePort[] = [];
    for (let i = 0; i < count; i++) {
      const { port1, port2 } = new MessageChannel();
      const w = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { port: port2, memory, sync },
        transferList: [port2],
      });
      w.unref();
      // Failures are reported through the port; a late 'error' event must not crash the process afterwards.
      w.on('error', () => {});
      workers.push(w);
      ports.push(port1);
    }
    return new WorkerPool(workers, ports, new Int32Array(memory.buffer, sync, 4));
  }

  private run<T>(tasks: object[]): T[] {
    // A worker that never boots (e.g. out of memory) would leave the caller blocked; after boot, every task replies.
    const deadline = Date.now() + 30_000;
    for (;;) {
      const started = Atomics.load(this.flags, 1);
      if (started >= this.workers.length) break;
      if (Date.now() > deadline)
        throw new Error(`dedup: ${this.workers.length - started} worker thread(s) did not start within 30 s`);
      Atomics.wait(this.flags, 1, started, 100);
    }
    Atomics.store(this.flags, 0, 0);
    tasks.forEach((t, i) => {
      this.ports[i].postMessage(t);
    });
    for (;;) {
      const done = Atomics.load(this.flags, 0);
      if (done >= tasks.length) break;
      Atomics.wait(this.flags, 0, done, 1000);
    }
    return this.ports.slice(0, tasks.length).map((port) => {
      const reply = receiveMessageOnPort(port)?.message as ({ ok: boolean; error?: string } & T) | undefined;
      if (!reply?.ok) throw new Error(`dedup worker failed: ${reply?.error ?? 'no reply'}`);
      return reply;
    });
  }

  project(module: WasmModule, x: number, n: number, basis: number, k2: number, dp: number, out: number): void {
    const per = Math.ceil(n / this.workers.length);
    this.run(
      this.workers.map((_, i) => {
        const r0 = Math.min(n, i * per);
        const rows = Math.min(n, r0 + per) - r0;
        return { type: 'project', module, x: x + r0 * dp * 4, rows, basis, k2, dp, out: out + r0 * k2 * 4 };
      }),
    );
  }

  scan(module: WasmModule, params: (lane: number) => ScanParams): ScanPart[] {
    return this.run<{ part: ScanPart }>(this.workers.map((_, i) => ({ type: 'scan', module, params: params(i) }))).map(
      (r) => r.part,
    );
  }

  /** One block against the kept rows, the kept range split evenly between the workers. */
  brute(module: WasmModule, params: (lane: number, lanes: number) => BruteParams): Int32Array[] {
    const lanes = this.workers.length;
    return this.run<{ pairs: Int32Array }>(
      this.workers.map((_, i) => ({ type: 'brute', module, params: params(i, lanes) })),
    ).map((r) => r.pairs);
  }

  get size(): number {
    return this.workers.length;
  }

  close(): void {
    for (const p of this.ports) {
      p.postMessage({ type: 'exit' });
      p.close();
    }
    for (const w of this.workers) void w.terminate();
  }
}
