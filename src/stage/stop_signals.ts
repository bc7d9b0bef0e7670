// Ctrl-C and SIGTERM counted as presses, not as signals: the first asks the stage to stop, a later one to stop now.
//
// A terminal's Ctrl-C reaches every process of the foreground group, and npm (npx) and the tsx CLI each relay it to
// their child as well, so one press can reach the stage two or three times, spaced by however long the relays take
// (tens of milliseconds idle, far more on a loaded machine). `make` relays a SIGTERM to the group the same way.
// Counting signals would take one press for two and drop the calls in flight; a signal within SAME_PRESS_MS of the
// first is the same press.

/** Signals this close to the first one are relays of the same press. */
export const SAME_PRESS_MS = 1000;

export interface PressHandlers {
  /** The first press: stop taking work. */
  first(): void;
  /** A press at least SAME_PRESS_MS after the first: stop now. */
  again(): void;
}

export class StopSignals {
  private firstAt: number | undefined;
  private readonly listener = () => this.received();

  constructor(
    private readonly handlers: PressHandlers,
    private readonly now: () => number = Date.now,
  ) {}

  /** True once the first press arrived. */
  get pressed(): boolean {
    return this.firstAt !== undefined;
  }

  listen(): void {
    process.on('SIGINT', this.listener);
    process.on('SIGTERM', this.listener);
  }

  stop(): void {
    process.off('SIGINT', this.listener);
    process.off('SIGTERM', this.listener);
  }

  /** One signal (or a programmatic interrupt): a new press, a relay of the last one, or a second press. */
  received(): void {
    const now = this.now();
    if (this.firstAt === undefined) {
      this.firstAt = now;
      this.handlers.first();
    } else if (now - this.firstAt >= SAME_PRESS_MS) this.handlers.again();
  }
}
