// The concurrency breaker (Knative pkg/queue/breaker.go, spec §1.5): `capacity` requests run at
// once, up to `queueDepth` more wait, and anything beyond is rejected at once. Pure: no timers
// and no I/O, so the activator's throttler reuses it and tests drive it directly. Waiters are
// served first in, first out (Knative's order is unspecified; FIFO is one of its outcomes).

export const ERR_QUEUE_FULL = 'pending request queue full';

export interface BreakerParams {
  /** Requests allowed to wait beyond the running ones. */
  readonly queueDepth: number;
  /** Upper bound for capacity. */
  readonly maxConcurrency: number;
  /** Running slots at creation; the activator changes it as pods come and go. */
  readonly initialCapacity: number;
}

/** A queued request; `cancel` takes it out of the queue (client gone, timeout). */
export interface Waiter {
  readonly grant: () => void;
  /** Set while queued; cleared when granted or cancelled. */
  queued: boolean;
}

export type Admission = 'acquired' | 'queued' | 'full';

export class Breaker {
  readonly totalSlots: number;
  readonly maxConcurrency: number;
  #capacity: number;
  #inFlight = 0; // running + waiting
  #running = 0;
  readonly #queue: Waiter[] = [];
  #head = 0;

  constructor(params: BreakerParams) {
    if (params.queueDepth < 0 || params.maxConcurrency < 0 || params.initialCapacity < 0) {
      throw new RangeError(`breaker: parameters must be non-negative: ${JSON.stringify(params)}`);
    }
    if (params.initialCapacity > params.maxConcurrency) {
      throw new RangeError(`breaker: initial capacity ${params.initialCapacity} exceeds max concurrency ${params.maxConcurrency}`);
    }
    this.totalSlots = params.queueDepth + params.maxConcurrency;
    this.#capacity = params.initialCapacity;
    this.maxConcurrency = params.maxConcurrency;
  }

  /** The queue-proxy's breaker for containerConcurrency cc: cc slots and 10 × cc waiting. */
  static forContainerConcurrency(cc: number): Breaker {
    return new Breaker({ queueDepth: 10 * cc, maxConcurrency: cc, initialCapacity: cc });
  }

  /**
   * Admits a request: runs it now (`acquired`), queues it (`queued`, `waiter.grant` is called
   * later unless cancelled), or rejects it (`full`). Each `acquired` or granted request must
   * call release() exactly once.
   */
  acquire(waiter: Waiter): Admission {
    if (this.#inFlight >= this.totalSlots) return 'full';
    // Nobody may overtake a queued request, so a free slot goes to a newcomer only if none waits.
    const runNow = this.#running < this.#capacity && this.pending === 0;
    this.#inFlight++;
    if (runNow) {
      this.#running++;
      return 'acquired';
    }
    waiter.queued = true;
    this.#queue.push(waiter);
    return 'queued';
  }

  /** Fast path for callers that only proceed when a slot is free right now. */
  tryAcquireNow(): boolean {
    if (this.#inFlight >= this.totalSlots || this.#running >= this.#capacity || this.pending > 0) return false;
    this.#inFlight++;
    this.#running++;
    return true;
  }

  /** Removes a queued waiter; false when it was already granted (then it must release()). */
  cancel(waiter: Waiter): boolean {
    if (!waiter.queued) return false;
    waiter.queued = false;
    this.#inFlight--;
    // Leave a hole; #dispatch skips cancelled waiters. Compact when the head is all holes.
    this.#compact();
    return true;
  }

  release(): void {
    if (this.#running === 0) throw new Error('breaker: release without a running request');
    this.#running--;
    this.#inFlight--;
    this.#dispatch();
  }

  /** Changes the running capacity (activator); queued requests are kept and served as it grows. */
  updateConcurrency(capacity: number): void {
    if (capacity < 0) throw new RangeError(`breaker: capacity must be non-negative, got ${capacity}`);
    this.#capacity = Math.min(capacity, this.maxConcurrency);
    this.#dispatch();
  }

  get capacity(): number {
    return this.#capacity;
  }

  /** Running plus waiting. */
  get inFlight(): number {
    return this.#inFlight;
  }

  get running(): number {
    return this.#running;
  }

  /** Waiting requests. */
  get pending(): number {
    return this.#inFlight - this.#running;
  }

  #dispatch(): void {
    while (this.#running < this.#capacity && this.#head < this.#queue.length) {
      const w = this.#queue[this.#head++] as Waiter;
      if (!w.queued) continue;
      w.queued = false;
      this.#running++;
      w.grant();
    }
    this.#compact();
  }

  #compact(): void {
    while (this.#head < this.#queue.length && !(this.#queue[this.#head] as Waiter).queued) this.#head++;
    if (this.#head === this.#queue.length) {
      this.#queue.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
