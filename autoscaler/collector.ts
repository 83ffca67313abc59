// The metric collector (spec §3.2, Knative `pkg/autoscaler/metrics/collector.go`): per revision
// (`ns/name`), four 1 s-bucket window averagers (stable and panic × concurrency and RPS) fed by
// scraped and activator stats, and the "no data" rule the decider reads them through. Pure:
// every call takes the time; scraping and the websocket live elsewhere.
import type { RevisionAutoscaling } from '../config/revision-autoscaling.ts';
import type { Stat } from './stat-proto.ts';
import { createWindow, type Algorithm, type WindowAverager } from './windows.ts';

export type Metric = 'concurrency' | 'rps';

/** What one revision's windows need. */
export interface CollectorSpec {
  readonly stableWindowMs: number;
  readonly panicWindowMs: number;
  readonly algorithm: Algorithm;
  /**
   * Whether the revision has a scrape target. Without one (target-burst-capacity −1), an empty
   * window is never "no data": it reads 0.
   */
  readonly hasScrapeTarget: boolean;
}

export type StableAndPanic =
  | { readonly ok: true; readonly stable: number; readonly panic: number }
  | { readonly ok: false; readonly reason: 'no-data' | 'not-collecting' };

const NS_PER_MS = 1e6;

/** The collector spec of a revision's resolved autoscaling settings. */
export function collectorSpecOf(a: RevisionAutoscaling): CollectorSpec {
  return {
    stableWindowMs: a.stableWindow / NS_PER_MS,
    panicWindowMs: a.panicWindow / NS_PER_MS,
    algorithm: a.metricAggregationAlgorithm,
    hasScrapeTarget: a.targetBurstCapacity !== -1,
  };
}

interface Collection {
  spec: CollectorSpec;
  readonly stableConcurrency: WindowAverager;
  readonly panicConcurrency: WindowAverager;
  readonly stableRps: WindowAverager;
  readonly panicRps: WindowAverager;
}

export class Collector {
  readonly #collections = new Map<string, Collection>();

  /**
   * Starts collecting for `key`, or updates its spec. As in Knative, an update resizes the
   * windows in place (keeping their data); the aggregation algorithm is fixed at creation.
   * `nowMs` lets a resize drop data that is already older than the old window, as Knative's
   * resize (which reads the wall clock) does.
   */
  upsert(key: string, spec: CollectorSpec, nowMs?: number): void {
    const c = this.#collections.get(key);
    if (c === undefined) {
      this.#collections.set(key, {
        spec,
        stableConcurrency: createWindow(spec.algorithm, spec.stableWindowMs),
        panicConcurrency: createWindow(spec.algorithm, spec.panicWindowMs),
        stableRps: createWindow(spec.algorithm, spec.stableWindowMs),
        panicRps: createWindow(spec.algorithm, spec.panicWindowMs),
      });
      return;
    }
    if (spec.stableWindowMs !== c.spec.stableWindowMs) {
      c.stableConcurrency.resize(spec.stableWindowMs, nowMs);
      c.stableRps.resize(spec.stableWindowMs, nowMs);
    }
    if (spec.panicWindowMs !== c.spec.panicWindowMs) {
      c.panicConcurrency.resize(spec.panicWindowMs, nowMs);
      c.panicRps.resize(spec.panicWindowMs, nowMs);
    }
    c.spec = { ...spec, algorithm: c.spec.algorithm };
  }

  delete(key: string): boolean {
    return this.#collections.delete(key);
  }

  has(key: string): boolean {
    return this.#collections.has(key);
  }

  get size(): number {
    return this.#collections.size;
  }

  /**
   * Records a stat at `timeMs` into all four windows; a stat for a revision that is not being
   * collected is dropped (Knative's Record). Returns whether it was recorded.
   */
  record(key: string, timeMs: number, stat: Readonly<Stat>): boolean {
    const c = this.#collections.get(key);
    if (c === undefined) return false;
    // Proxied requests were already counted by the activator that proxied them: subtract them
    // so they are not counted twice. Writes in the same second add up in the bucket.
    const concurrency = stat.averageConcurrentRequests - stat.averageProxiedConcurrentRequests;
    const rps = stat.requestCount - stat.proxiedRequestCount;
    c.stableConcurrency.record(timeMs, concurrency);
    c.panicConcurrency.record(timeMs, concurrency);
    c.stableRps.record(timeMs, rps);
    c.panicRps.record(timeMs, rps);
    return true;
  }

  /**
   * The stable and panic averages of `metric` at `nowMs`. "No data" when the stable window has
   * had no write for more than a window and the revision has a scrape target.
   */
  stableAndPanic(key: string, metric: Metric, nowMs: number): StableAndPanic {
    const c = this.#collections.get(key);
    if (c === undefined) return { ok: false, reason: 'not-collecting' };
    const [stable, panic] = metric === 'rps' ? [c.stableRps, c.panicRps] : [c.stableConcurrency, c.panicConcurrency];
    if (c.spec.hasScrapeTarget && stable.isEmpty(nowMs)) return { ok: false, reason: 'no-data' };
    return { ok: true, stable: stable.windowAverage(nowMs), panic: panic.windowAverage(nowMs) };
  }
}
