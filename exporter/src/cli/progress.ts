/** A progress bar on stderr for long one-shot runs; silent unless stderr is a TTY and the input is large. */
export class Progress {
  private done_ = 0;
  private lastDraw = 0;
  private readonly started = performance.now();
  private readonly enabled: boolean;

  constructor(private readonly total: number, private readonly out: NodeJS.WriteStream, minBytes = 8 * 1_048_576) {
    this.enabled = Boolean(out.isTTY) && total >= minBytes && process.env.CI !== 'true';
  }

  advance(bytes: number): void {
    this.done_ += bytes;
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    this.draw(now);
  }

  private draw(now: number): void {
    const frac = Math.min(1, this.done_ / this.total);
    const width = 30;
    const filled = Math.round(frac * width);
    const secs = (now - this.started) / 1000;
    const mbps = this.done_ / 1_048_576 / Math.max(secs, 0.001);
    this.out.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0).padStart(3)}%  ${mbps.toFixed(1)} MB/s  ${secs.toFixed(1)}s`);
  }

  done(): void {
    if (!this.enabled) return;
    this.draw(performance.now());
    this.out.write('\n');
  }
}
