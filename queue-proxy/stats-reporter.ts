// Turns the request statistics into the protobuf Stat served on :9090 (spec §1.7, §1.8): one
// report per period, counts as per-second rates, the pod name and the process uptime. Holds
// the encoded bytes so a scrape costs no work; the clock is the caller's.
import { emptyStat, encodeStat, type Stat } from '../autoscaler/stat-proto.ts';
import type { RequestStats } from './request-stats.ts';

export const REPORTING_PERIOD_MS = 1000;

export class StatsReporter {
  readonly #stats: RequestStats;
  readonly #podName: string;
  readonly #startedAtMs: number;
  #latest: Buffer;
  #last: Stat;

  constructor(stats: RequestStats, podName: string, startedAtMs: number) {
    this.#stats = stats;
    this.#podName = podName;
    this.#startedAtMs = startedAtMs;
    // Before the first report the served Stat carries only the pod name.
    this.#last = { ...emptyStat(), podName };
    this.#latest = encodeStat(this.#last);
  }

  /** Closes the current window at `nowMs`. */
  report(nowMs: number): Stat {
    const r = this.#stats.report(nowMs);
    const periodSeconds = REPORTING_PERIOD_MS / 1000;
    this.#last = {
      podName: this.#podName,
      averageConcurrentRequests: r.averageConcurrency,
      averageProxiedConcurrentRequests: r.averageProxiedConcurrency,
      requestCount: r.requestCount / periodSeconds,
      proxiedRequestCount: r.proxiedRequestCount / periodSeconds,
      processUptime: (nowMs - this.#startedAtMs) / 1000,
      timestamp: 0,
    };
    this.#latest = encodeStat(this.#last);
    return this.#last;
  }

  get latest(): Buffer {
    return this.#latest;
  }

  get last(): Stat {
    return this.#last;
  }
}
