// Shows a long step moving: a redrawn bar on a terminal, a plain line every few seconds in logs and CI.
import { envInt } from './env.js';
import type { WaitState } from './limiter.js';
import { formatTokens, formatUsd, type UsageMeter } from './usage_meter.js';

export interface ProgressOptions {
  label: string;
  total: number;
  quiet?: boolean;
  meter?: UsageMeter;
  /** Defaults to whether stderr is a terminal. */
  tty?: boolean;
  /** Plain-line interval when not on a terminal (default PROGRESS_INTERVAL_MS, else 5 s). */
  intervalMs?: number;
  write?: (text: string) => void;
  /** Live count of retries so far, owned by the stage. */
  retries?: () => number;
  /** What holds the stage up right now (the limiter's wait state), shown with its countdown. */
  waiting?: () => WaitState | undefined;
  /** Requests per second the stage cannot exceed (--rpm / 60): the ETA is never shorter than that allows. */
  maxRate?: number;
}

const WAIT_TEXT: Record<WaitState['reason'], string> = {
  rpm: 'for the --rpm window',
  tpm: 'for the --tpm window',
  'server pause': 'as the server asked (429)',
  backoff: 'backing off after errors',
};

/** "waiting 42s for the --rpm window", "waiting 8s backing off after errors (3 requests)". */
export function waitText(state: WaitState, now = Date.now()): string {
  const items =
    state.reason === 'backoff' && state.items ? ` (${state.items} ${state.items === 1 ? 'request' : 'requests'})` : '';
  return `waiting ${formatDuration(Math.max(1, Math.ceil((state.until - now) / 1000)))} ${WAIT_TEXT[state.reason]}${items}`;
}

export class Progress {
  /** Items done, including those reused from a checkpoint (the stage adds those to `done` directly). */
  done = 0;
  failed = 0;
  private readonly started = Date.now();
  private readonly timer: NodeJS.Timeout | undefined;
  private readonly tty: boolean;
  private readonly write: (text: string) => void;
  private lastDraw = 0;
  /** Items finished by this run: the rate and ETA count only these, or resumed items would make a run look fast. */
  private ticks = 0;

  constructor(private readonly options: ProgressOptions) {
    this.tty = options.tty ?? process.stderr.isTTY === true;
    this.write = options.write ?? ((text) => process.stderr.write(text));
    if (options.quiet) return;
    const interval = this.tty ? 250 : (options.intervalMs ?? envInt('PROGRESS_INTERVAL_MS', 5000, 1));
    this.timer = setInterval(() => this.render(), interval);
    this.timer.unref();
  }

  tick(outcome: 'done' | 'failed' = 'done'): void {
    this.done++;
    this.ticks++;
    if (outcome === 'failed') this.failed++;
    // Redraw on the terminal at most 10 times a second; the plain line waits for its interval.
    if (this.tty && Date.now() - this.lastDraw > 100) this.render();
  }

  line(): string {
    const { total, label, meter } = this.options;
    const seconds = (Date.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.ticks / seconds : 0;
    const left = Math.max(0, total - this.done);
    // Under --rpm the first window's burst makes the measured rate look far faster than the limit allows.
    const cappedRate = this.options.maxRate ? Math.min(rate, this.options.maxRate) : rate;
    const eta = cappedRate > 0 ? left / cappedRate : this.options.maxRate ? left / this.options.maxRate : undefined;
    const pct = total > 0 ? Math.floor((100 * this.done) / total) : 100;
    const width = 24;
    const filled = Math.round((width * pct) / 100);
    const bar = this.tty ? `[${'█'.repeat(filled)}${'░'.repeat(width - filled)}] ` : '';
    const parts = [
      `${label} ${bar}${this.done}/${total} (${pct}%)`,
      `${rate.toFixed(1)}/s`,
      `ETA ${eta === undefined ? '?' : formatDuration(eta)}`,
      ...(() => {
        const state = this.options.waiting?.();
        return state ? [waitText(state)] : [];
      })(),
      `failed ${this.failed}`,
      `retries ${this.options.retries?.() ?? 0}`,
    ];
    if (meter) {
      const t = meter.totals;
      parts.push(`tokens ${formatTokens(t.inputTokens + t.outputTokens)}`, formatUsd(t.costUsd));
    }
    return parts.join(' · ');
  }

  private render(): void {
    if (this.options.quiet) return;
    this.lastDraw = Date.now();
    this.write(this.tty ? `\r\x1b[2K${this.line()}` : `${this.line()}\n`);
  }

  stop(): void {
    clearInterval(this.timer);
    if (this.options.quiet) return;
    this.write(this.tty ? `\r\x1b[2K${this.line()}\n` : `${this.line()}\n`);
  }
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const m = Math.floor(seconds / 60);
  return m < 60
    ? `${m}m${String(Math.round(seconds % 60)).padStart(2, '0')}s`
    : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}
