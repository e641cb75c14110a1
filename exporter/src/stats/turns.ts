// Long CPU-bound passes (a /metrics render, an assessment of every number) run on the one thread that also
// answers /healthz and handles SIGTERM. They give the event loop a turn every few milliseconds, so neither
// waits behind them (probe F1: /healthz timed out and SIGTERM was ignored for minutes).

/** How long a pass may hold the event loop before it gives a turn. */
export const DEFAULT_SLICE_MS = 20;

export class Turns {
  private last = performance.now();
  /** Turns given so far (tests check a long pass did yield). */
  given = 0;
  constructor(private readonly sliceMs = DEFAULT_SLICE_MS) {}

  /** True when the pass has held the event loop for a slice: `await turn()` next. */
  due(): boolean {
    return performance.now() - this.last >= this.sliceMs;
  }

  /**
   * Let pending I/O, timers and signals run. One setImmediate is not enough: queued from the poll phase (an
   * HTTP handler) it runs in the same loop iteration's check phase, before any timer or socket; the second
   * one, queued from the check phase, runs only after the next iteration's timers and poll.
   */
  async turn(): Promise<void> {
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.given++;
    this.last = performance.now();
  }

  /** A turn when one is due. */
  async maybe(): Promise<void> {
    if (this.due()) await this.turn();
  }
}
