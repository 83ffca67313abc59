// Bounded buffering (knts extension, Knative #13583 "activator OOM"): caps on requests waiting
// for capacity, per revision and in total, and on the request-body bytes those waiting requests
// may hold. Past a cap a request is shed at once (503 + Retry-After) instead of growing the heap
// until the process dies. Pure counters; the handler asks before queueing and reports when a
// request leaves the queue.

export interface BufferLimitsConfig {
  /** Waiting requests per revision; default Knative's breaker depth, 10,000. */
  readonly maxQueuedPerRevision: number;
  /** Waiting requests over all revisions. */
  readonly maxQueuedTotal: number;
  /**
   * Body bytes waiting requests may hold. A waiting request's body is not read (backpressure),
   * so it holds at most what Node buffers ahead of the reader: its stream high-water mark, or
   * its declared length if smaller. That bound is what is counted.
   */
  readonly maxBufferedBodyBytes: number;
}

export const DEFAULT_BUFFER_LIMITS: BufferLimitsConfig = {
  maxQueuedPerRevision: 10_000,
  maxQueuedTotal: 100_000,
  maxBufferedBodyBytes: 512 * 1024 * 1024,
};

export type ShedReason = 'revision-queue-full' | 'queue-full' | 'body-buffer-full';

export const SHED_MESSAGES: Readonly<Record<ShedReason, string>> = {
  'revision-queue-full': 'pending request queue full for this revision',
  'queue-full': 'pending request queue full',
  'body-buffer-full': 'pending request body buffer full',
};

export class BufferLimits {
  readonly config: BufferLimitsConfig;
  #queued = 0;
  #bodyBytes = 0;
  #shed = 0;

  constructor(config: BufferLimitsConfig = DEFAULT_BUFFER_LIMITS) {
    this.config = config;
  }

  get queued(): number {
    return this.#queued;
  }

  get bodyBytes(): number {
    return this.#bodyBytes;
  }

  /** Requests shed since start. */
  get shed(): number {
    return this.#shed;
  }

  /**
   * Takes a place for a request about to wait, given its revision's current waiters and the
   * body bytes it may hold; the reason when it must be shed instead.
   */
  enter(revisionQueued: number, bodyBytes: number): ShedReason | undefined {
    const c = this.config;
    let reason: ShedReason | undefined;
    if (revisionQueued >= c.maxQueuedPerRevision) reason = 'revision-queue-full';
    else if (this.#queued >= c.maxQueuedTotal) reason = 'queue-full';
    else if (bodyBytes > 0 && this.#bodyBytes + bodyBytes > c.maxBufferedBodyBytes) reason = 'body-buffer-full';
    if (reason !== undefined) {
      this.#shed++;
      return reason;
    }
    this.#queued++;
    this.#bodyBytes += bodyBytes;
    return undefined;
  }

  /** The request stopped waiting (granted, gone or timed out). */
  leave(bodyBytes: number): void {
    this.#queued--;
    this.#bodyBytes -= bodyBytes;
  }
}
