// The one shared WebAssembly memory a dedup call works in: a bump allocator with 64-byte aligned blocks.
import { wasm, type WasmMemory } from './wasm_asm.js';

export function roundUp(v: number, m: number): number {
  return Math.ceil(v / m) * m;
}

/** WebAssembly's 32-bit memories end at 4 GiB. */
export const MAX_PAGES = 65536;

/** Bump allocator for the one shared memory a dedup call uses; every block is 64-byte aligned. */
export class Allocator {
  private top = 64;
  /** Bytes taken so far. */
  get size(): number {
    return this.top;
  }
  take(bytes: number): number {
    const at = this.top;
    this.top = roundUp(this.top + Math.max(bytes, 0), 64);
    return at;
  }
  memory(): WasmMemory {
    const pages = Math.ceil(this.top / 65536) + 1;
    if (pages > MAX_PAGES) {
      throw new RangeError(`dedup needs ${(this.top / 2 ** 30).toFixed(1)} GiB of working memory; the limit is 4 GiB`);
    }
    return new wasm.Memory({ initial: pages, maximum: pages, shared: true });
  }
}
