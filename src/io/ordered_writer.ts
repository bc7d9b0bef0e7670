// Writes results in input order while they finish in any order, holding only the out-of-order ones in memory.
import type { AtomicJsonlWriter } from './jsonl.js';

export class OrderedWriter<R> {
  private next = 0;
  private readonly waiting = new Map<number, R | undefined>();

  constructor(
    private readonly writer: AtomicJsonlWriter,
    private readonly toRows: (index: number, result: R) => unknown[],
  ) {}

  /** `undefined` marks an index that will never come (a failed item). */
  async put(index: number, result: R | undefined): Promise<void> {
    this.waiting.set(index, result);
    while (this.waiting.has(this.next)) {
      const ready = this.waiting.get(this.next);
      this.waiting.delete(this.next);
      if (ready !== undefined) for (const row of this.toRows(this.next, ready)) await this.writer.write(row);
      this.next++;
    }
  }
}
