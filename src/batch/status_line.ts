// Shows batch jobs waiting: a redrawn line on a terminal, a plain line on each change (or every few seconds) in logs.
import { envInt } from '../env.js';
import { formatDuration } from '../progress.js';

export interface StatusLineOptions {
  quiet?: boolean;
  /** Defaults to whether stderr is a terminal. */
  tty?: boolean;
  /** Longest gap between plain lines when nothing changes. */
  intervalMs?: number;
  write?: (text: string) => void;
}

export class BatchStatusLine {
  private readonly started = Date.now();
  private readonly tty: boolean;
  private readonly write: (text: string) => void;
  private readonly intervalMs: number;
  private last = '';
  private lastAt = 0;
  private drawn = false;
  private ticker: NodeJS.Timeout | undefined;

  constructor(private readonly options: StatusLineOptions = {}) {
    this.tty = options.tty ?? process.stderr.isTTY === true;
    this.write = options.write ?? ((text) => process.stderr.write(text));
    this.intervalMs = options.intervalMs ?? envInt('PROGRESS_INTERVAL_MS', 60_000, 1);
  }

  /** `text` says what the jobs are doing; the time waited so far is added. */
  update(text: string): void {
    if (this.options.quiet) return;
    const line = `${text} · waited ${formatDuration((Date.now() - this.started) / 1000)}`;
    if (this.tty) {
      this.last = text;
      this.write(`\r\x1b[2K${line}`);
      this.drawn = true;
      // Polls are far apart; the clock on the terminal keeps moving between them so the wait never looks stuck.
      this.ticker ??= setInterval(() => this.drawn && this.update(this.last), 1000).unref();
      return;
    }
    // A log gets a line when something changed, and otherwise now and then so a long wait does not look dead.
    if (text === this.last && Date.now() - this.lastAt < this.intervalMs) return;
    this.last = text;
    this.lastAt = Date.now();
    this.write(`${line}\n`);
  }

  /** Ends the redrawn line so the next message starts on its own. */
  stop(): void {
    clearInterval(this.ticker);
    this.ticker = undefined;
    if (this.tty && this.drawn) this.write('\n');
    this.drawn = false;
  }
}
