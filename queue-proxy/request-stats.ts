// Queue-proxy's request statistics (knative.dev/networking pkg/http/stats/request.go): the
// time-weighted average concurrency and the arrival counts over each report window, which the
// reporter turns into the protobuf Stat served on :9090. Pure: every call takes the time (in
// milliseconds) from the caller, so the simulator can drive it on a virtual clock.
//
// Semantics, as in request.go:
// - Integrals advance by concurrency × Δt since the last change, on every event and on report.
//   A non-positive Δt is ignored and does not move the "last change" time: events and reports
//   are timestamped by concurrent callers, so small reorderings are expected and benign. The
//   out-of-order event itself still changes the counts and the concurrency.
// - secondsInUse is the sum of those positive Δt, i.e. the time since the previous report (the
//   first window starts at construction time), not a fixed 1 s, so a late tick is not skewed.
// - A report with no elapsed time yields averages of 0; counts are arrivals in the window.
//   Report resets the integrals, counts and time in use but keeps the current concurrency.
// Go keeps seconds; this keeps milliseconds (the ratio is the same) so integer-ms clocks give
// exact sums.

/** What one report window saw; the reporter divides the counts by the period to get rates. */
export interface RequestStatsReport {
  /** ∫concurrency dt / time in use: 2 requests of 500 ms in a 1 s window give 1. */
  averageConcurrency: number;
  /** The same for requests that came through the activator. */
  averageProxiedConcurrency: number;
  /** Requests that arrived in the window. */
  requestCount: number;
  /** The part of requestCount that came through the activator. */
  proxiedRequestCount: number;
}

export class RequestStats {
  // Current state: survives reports.
  #concurrency = 0;
  #proxiedConcurrency = 0;
  #lastChangeMs: number;

  // Per-window accumulators: reset by report().
  #requestCount = 0;
  #proxiedCount = 0;
  #concurrencyMs = 0; // ∫concurrency dt, in request-milliseconds
  #proxiedConcurrencyMs = 0;
  #inUseMs = 0;

  constructor(startedAtMs: number) {
    this.#lastChangeMs = startedAtMs;
  }

  /** A request arrived; `proxied` when it came through the activator. */
  handleIn(nowMs: number, proxied: boolean): void {
    this.#advance(nowMs);
    this.#requestCount++;
    this.#concurrency++;
    if (proxied) {
      this.#proxiedCount++;
      this.#proxiedConcurrency++;
    }
  }

  /** A request finished; `proxied` must match its handleIn. */
  handleOut(nowMs: number, proxied: boolean): void {
    this.#advance(nowMs);
    this.#concurrency--;
    if (proxied) this.#proxiedConcurrency--;
  }

  /** Closes the window ending at `nowMs` and starts the next one. */
  report(nowMs: number): RequestStatsReport {
    this.#advance(nowMs);
    const inUse = this.#inUseMs;
    const report: RequestStatsReport = {
      averageConcurrency: inUse > 0 ? this.#concurrencyMs / inUse : 0,
      averageProxiedConcurrency: inUse > 0 ? this.#proxiedConcurrencyMs / inUse : 0,
      requestCount: this.#requestCount,
      proxiedRequestCount: this.#proxiedCount,
    };
    this.#requestCount = 0;
    this.#proxiedCount = 0;
    this.#concurrencyMs = 0;
    this.#proxiedConcurrencyMs = 0;
    this.#inUseMs = 0;
    return report;
  }

  #advance(nowMs: number): void {
    const dt = nowMs - this.#lastChangeMs;
    if (!(dt > 0)) return;
    this.#inUseMs += dt;
    this.#concurrencyMs += this.#concurrency * dt;
    this.#proxiedConcurrencyMs += this.#proxiedConcurrency * dt;
    this.#lastChangeMs = nowMs;
  }
}
