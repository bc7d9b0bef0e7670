// How a stage stops: the first Ctrl-C (or SIGTERM) stops taking work and lets calls in flight finish for a bounded
// time, a later press stops now; a fatal error stops everything. The two signals every call listens on live here.
import { setMaxListeners } from 'node:events';
import { envInt } from '../env.js';
import { InterruptedError } from '../errors.js';
import { StopSignals } from './stop_signals.js';

export class StageStop {
  /** Aborted when the stage must stop at once: in-flight calls are cancelled. */
  readonly signal: AbortSignal;
  /** Aborted when the stage stops taking new work (first Ctrl-C); in-flight calls may finish. */
  readonly admit: AbortSignal;
  private readonly hard = new AbortController();
  private readonly soft = new AbortController();
  private fatalError: Error | undefined;
  private readonly presses = new StopSignals({
    first: () => this.stopTakingWork(),
    again: () => this.hard.abort(new Error('interrupted')),
  });
  /** How long calls in flight may finish after the first Ctrl-C; read up front so a bad value fails at the start. */
  private readonly graceMs = envInt('STOP_GRACE_MS', 15_000);

  /** `noCalls`: a stage without calls (6, 7) has nothing to wait for, so the first press stops it before it writes. */
  constructor(
    private readonly artifact: string,
    private readonly noCalls = false,
  ) {
    this.signal = this.hard.signal;
    this.admit = this.soft.signal;
    // Every call in flight listens on these two signals (AbortSignal.any, the limiter's queue): no leak, just many.
    setMaxListeners(0, this.signal, this.admit);
  }

  listen(): void {
    this.presses.listen();
  }

  /** The stage is done: presses are the default handlers' again. */
  stopListening(): void {
    this.presses.stop();
  }

  /**
   * A Ctrl-C press (or SIGTERM): the first stops taking work and lets in-flight calls finish for a bounded time; a
   * press a second or more later stops now. Relays of the same press (npx, tsx, make) count once: see stop_signals.
   */
  interrupt(): void {
    this.presses.received();
  }

  get interrupted(): boolean {
    return this.presses.pressed;
  }

  /** The error that stopped the stage (a fatal error, the circuit breaker), if one did. */
  get fatal(): Error | undefined {
    return this.fatalError;
  }

  abortWith(error: Error): void {
    this.fatalError ??= error;
    this.soft.abort(error);
    this.hard.abort(error);
  }

  private stopTakingWork(): void {
    if (this.noCalls) {
      process.stderr.write(`\nStopping: nothing more is written; ${this.artifact} stays as it was…\n`);
      this.soft.abort(new Error('interrupted'));
      this.hard.abort(new Error('interrupted'));
      return;
    }
    process.stderr.write(
      '\nStopping: no new work is started; waiting for calls in flight (Ctrl-C again to stop now)…\n',
    );
    this.soft.abort(new Error('interrupted'));
    setTimeout(() => this.hard.abort(new Error('interrupted')), this.graceMs).unref();
  }

  /** What a stage without calls throws once stopped. */
  private interruption(): InterruptedError {
    return new InterruptedError(
      `interrupted: nothing was written; ${this.artifact} is as it was — run the same command again`,
    );
  }

  /**
   * For stages without calls, between steps: throws once Ctrl-C was pressed. Yields first, so a signal that arrived
   * during synchronous work (the dedup) is seen before anything is written.
   */
  async stopIfInterrupted(): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    this.throwIfInterrupted();
  }

  /** The same check without the yield, cheap enough for every row read. */
  throwIfInterrupted(): void {
    if (this.interrupted) throw this.interruption();
  }

  /** The rows, stopping (so the writer drops its temporary file) once Ctrl-C was pressed. */
  *untilInterrupted<T>(rows: Iterable<T>): Generator<T> {
    for (const row of rows) {
      if (this.interrupted) throw this.interruption();
      yield row;
    }
  }
}
