/**
 * Runs `pass` now and then: on every tick of an interval, and at once when told (`notify`).
 * Passes never overlap; a notify during a pass runs another right after. `pass` returns true
 * when there may be more to do at once.
 */
export class PollLoop {
  private readonly pass: () => Promise<boolean>;
  private readonly onError: (error: unknown) => void;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;

  constructor(pass: () => Promise<boolean>, onError: (error: unknown) => void) {
    this.pass = pass;
    this.onError = onError;
  }

  start(intervalMs: number): void {
    this.timer = setInterval(() => this.notify(), intervalMs);
    this.notify();
  }

  notify(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop().finally(() => (this.running = null));
  }

  /** No more passes; resolves when the one in progress is over. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        if (await this.pass()) this.again = true;
      } while (this.again && !this.stopped);
    } catch (error) {
      this.onError(error);
    }
  }
}
