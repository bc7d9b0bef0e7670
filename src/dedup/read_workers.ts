// Worker threads for the embedded-JSONL reader: each scans its share of a chunk's lines into shared Float32 memory.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { scanSource } from './embedded_scan.js';

/*
 * ~90% of a stage-5 file is embedding digits, and turning them into floats is most of the read's CPU, so the reader
 * hands each chunk's lines to these threads (the chunk, the vectors and the spans live in SharedArrayBuffers) and
 * meanwhile, on its own thread, does what must stay in order: the rest of each row of the previous chunk (its
 * JSON, validation, the kept text) and the next read. A worker only ever writes its own rows' vectors and spans.
 * Like the dedup pool, the caller blocks in Atomics.wait, so readEmbedded stays synchronous.
 */

export interface ScanTask {
  chunk: SharedArrayBuffer;
  spans: SharedArrayBuffer;
  from: number;
  to: number;
  dim: number;
  rowBase: number;
}

const WORKER_SOURCE = `
const { workerData } = require('node:worker_threads');
${scanSource()}
const { port, flags: flagBuffer } = workerData;
const flags = new Int32Array(flagBuffer);
Atomics.add(flags, 1, 1);
Atomics.notify(flags, 1);
let vectors = new Float32Array(0);
port.on('message', (task) => {
  if (task.type === 'exit') {
    port.close();
    return;
  }
  try {
    if (task.vectors) vectors = new Float32Array(task.vectors);
    const b = Buffer.from(task.chunk);
    scanRows(b, new Int32Array(task.spans), task.from, task.to, { vectors, dim: task.dim }, task.rowBase);
  } catch (err) {
    port.postMessage({ error: String((err && err.stack) || err) });
  }
  Atomics.add(flags, 0, 1);
  Atomics.notify(flags, 0);
});
`;

/** Scan threads; `start` posts one task per worker, `wait` blocks until all of them are done. */
export class ReadWorkers {
  private readonly flags = new Int32Array(new SharedArrayBuffer(8));
  private readonly workers: Worker[] = [];
  private readonly ports: MessagePort[] = [];
  private pending = 0;
  private booted = false;
  /** The vectors' buffer each worker last received; a grown one is sent with the next task. */
  private sent: Array<SharedArrayBuffer | undefined> = [];

  constructor(count: number) {
    for (let i = 0; i < count; i++) {
      const { port1, port2 } = new MessageChannel();
      const w = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { port: port2, flags: this.flags.buffer },
        transferList: [port2],
      });
      w.unref();
      // Failures are reported through the port; a late 'error' event must not crash the process afterwards.
      w.on('error', () => {});
      this.workers.push(w);
      this.ports.push(port1);
      this.sent.push(undefined);
    }
  }

  get size(): number {
    return this.workers.length;
  }

  start(vectors: SharedArrayBuffer, tasks: ScanTask[]): void {
    if (!this.booted) this.waitForBoot();
    Atomics.store(this.flags, 0, 0);
    this.pending = tasks.length;
    tasks.forEach((task, i) => {
      const fresh = this.sent[i] !== vectors;
      this.sent[i] = vectors;
      this.ports[i].postMessage(fresh ? { ...task, vectors } : task);
    });
  }

  wait(): void {
    for (;;) {
      const done = Atomics.load(this.flags, 0);
      if (done >= this.pending) break;
      Atomics.wait(this.flags, 0, done, 1000);
    }
    for (let i = 0; i < this.pending; i++) {
      const reply = receiveMessageOnPort(this.ports[i])?.message as { error?: string } | undefined;
      if (reply?.error) throw new Error(`embedded reader worker failed: ${reply.error}`);
    }
    this.pending = 0;
  }

  /** A worker that never boots (e.g. out of memory) would leave the caller blocked; after boot, every task ends. */
  private waitForBoot(): void {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const started = Atomics.load(this.flags, 1);
      if (started >= this.workers.length) break;
      if (Date.now() > deadline)
        throw new Error(`embedded reader: ${this.workers.length - started} worker thread(s) did not start within 30 s`);
      Atomics.wait(this.flags, 1, started, 100);
    }
    this.booted = true;
  }

  close(): void {
    for (const p of this.ports) {
      p.postMessage({ type: 'exit' });
      p.close();
    }
    for (const w of this.workers) void w.terminate();
  }
}
