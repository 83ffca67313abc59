// Drain state (knative.dev/pkg network/handlers/drain.go, spec §1.3 step 3 and §1.10): once a
// drain starts, probes fail and drain() resolves after a quiet period with no real request;
// every request restarts the quiet period. A reset (liveness restart, not SIGTERM) ends it.
// Timers are injected so tests and the simulator can drive it on a virtual clock.

export interface TimerApi {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realTimers: TimerApi = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export class Drainer {
  readonly quietPeriodMs: number;
  readonly #timers: TimerApi;
  #draining = false;
  #timer: unknown;
  #waiters: (() => void)[] = [];

  constructor(quietPeriodMs: number, timers: TimerApi = realTimers) {
    this.quietPeriodMs = quietPeriodMs;
    this.#timers = timers;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Starts a drain (or joins the running one); resolves after the quiet period. */
  drain(): Promise<void> {
    if (this.#draining && this.#timer === undefined) return Promise.resolve(); // already drained
    const done = new Promise<void>((resolve) => this.#waiters.push(resolve));
    if (!this.#draining) {
      this.#draining = true;
      this.#arm();
    }
    return done;
  }

  /** A real request arrived: while draining, the quiet period starts over. */
  onRequest(): void {
    if (this.#draining && this.#timer !== undefined) this.#arm();
  }

  /** Leaves draining mode and releases every waiter at once. */
  reset(): void {
    if (!this.#draining) return;
    this.#draining = false;
    this.#timers.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#release();
  }

  #arm(): void {
    if (this.#timer !== undefined) this.#timers.clearTimeout(this.#timer);
    this.#timer = this.#timers.setTimeout(() => {
      this.#timer = undefined;
      // Draining stays on: a finished drain keeps failing probes until the process exits.
      this.#release();
    }, this.quietPeriodMs);
  }

  #release(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
