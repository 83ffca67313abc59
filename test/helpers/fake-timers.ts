// A virtual clock for the autoscaler's `Timers`: intervals fire only when a test advances time,
// in due order (ties by creation), so timing tests never sleep.
import type { Timers } from '../../autoscaler/multiscaler.ts';

export class FakeTimers implements Timers {
  time: number;
  readonly #timers = new Map<number, { fn: () => void; ms: number; next: number }>();
  #id = 0;

  constructor(start: number) {
    this.time = start;
  }
  now(): number {
    return this.time;
  }
  setInterval(fn: () => void, ms: number): unknown {
    this.#timers.set(++this.#id, { fn, ms, next: this.time + ms });
    return this.#id;
  }
  clearInterval(handle: unknown): void {
    this.#timers.delete(handle as number);
  }
  get pending(): number {
    return this.#timers.size;
  }
  /** Fires the next timer due at or before `end`; false when none is. */
  fireUntil(end: number): boolean {
    const due = [...this.#timers.entries()].filter(([, t]) => t.next <= end).sort((a, b) => a[1].next - b[1].next || a[0] - b[0])[0];
    if (due === undefined) return false;
    this.time = Math.max(this.time, due[1].next);
    due[1].next += due[1].ms;
    due[1].fn();
    return true;
  }
  /** Fires everything due within `ms`, then sets the clock to the end. */
  advance(ms: number): void {
    const end = this.time + ms;
    while (this.fireUntil(end));
    this.time = end;
  }
}
