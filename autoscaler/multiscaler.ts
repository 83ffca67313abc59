// The MultiScaler (spec §3.1, Knative `pkg/autoscaler/scaling/multiscaler.go`): one decision loop
// per revision. Every tick (2 s) it reads the collector's stable and panic values, asks the
// revision's decider for a decision, logs it and hands it on. An activator stat for a revision
// whose latest desired scale is 0 "pokes" an immediate decision (scale from zero). Revisions
// come from a RevisionSource; timers and the clock are injected.
import type { Logger } from 'pino';
import type { RevisionAutoscaling } from '../config/revision-autoscaling.ts';
import type { Collector } from './collector.ts';
import { collectorSpecOf } from './collector.ts';
import type { Reachability } from './scaler.ts';
import type { ScrapePod, ScrapeService } from './scraper.ts';
import type { Stat } from './stat-proto.ts';

export const TICK_INTERVAL_MS = 2000;

export interface Decision {
  readonly desiredPodCount: number;
  readonly excessBurstCapacity: number;
  readonly panicking: boolean;
}

/** A revision's decider, as the loop sees it (the KPA algorithm of spec §3.5 behind it). */
export interface Decider {
  decide(stable: number, panic: number, readyPods: number, nowMs: number): Decision;
  /** The revision's settings changed; keep the state. */
  update?(spec: RevisionSpec): void;
}

/** One revision to autoscale: its settings and its ready pods. */
export interface RevisionSpec {
  /** `namespace/name`. */
  readonly key: string;
  readonly autoscaling: RevisionAutoscaling;
  readonly pods: readonly ScrapePod[];
  /** Where service scraping goes; absent → `<rev>-private.<ns>` on the metrics port. */
  readonly privateService?: ScrapeService;
  /** PA spec.reachability for the scaler; absent reads as Reachable. */
  readonly reachability?: Reachability;
  /** Nanoseconds: the progress deadline in force (see progressDeadlineOf); absent → config's. */
  readonly progressDeadline?: number;
}

/** Where revisions come from: static for tests and files, Kubernetes or the runtime later. */
export interface RevisionSource {
  list(): readonly RevisionSpec[];
  get(key: string): RevisionSpec | undefined;
  /** `listener(key)` after a revision is added, changed or removed. Returns an unsubscribe. */
  subscribe(listener: (key: string) => void): () => void;
}

export class StaticRevisionSource implements RevisionSource {
  readonly #revisions = new Map<string, RevisionSpec>();
  readonly #listeners = new Set<(key: string) => void>();

  constructor(revisions: readonly RevisionSpec[] = []) {
    for (const r of revisions) this.#revisions.set(r.key, r);
  }

  list(): readonly RevisionSpec[] {
    return [...this.#revisions.values()];
  }

  get(key: string): RevisionSpec | undefined {
    return this.#revisions.get(key);
  }

  set(spec: RevisionSpec): void {
    this.#revisions.set(spec.key, spec);
    this.#emit(spec.key);
  }

  delete(key: string): void {
    if (this.#revisions.delete(key)) this.#emit(key);
  }

  subscribe(listener: (key: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(key: string): void {
    for (const l of this.#listeners) l(key);
  }
}

export interface Timers {
  now(): number;
  setInterval(fn: () => void, ms: number): unknown;
  clearInterval(handle: unknown): void;
}

export const realTimers: Timers = {
  now: () => Date.now(),
  setInterval: (fn, ms) => setInterval(fn, ms),
  clearInterval: (h) => clearInterval(h as NodeJS.Timeout),
};

/** What one evaluation saw and decided: the log line and the gauges. */
export interface DecisionRecord extends Decision {
  readonly key: string;
  readonly metric: string;
  readonly stable: number;
  readonly panic: number;
  readonly target: number;
  readonly readyPods: number;
  readonly poked: boolean;
}

export interface MultiScalerOptions {
  readonly source: RevisionSource;
  readonly collector: Collector;
  readonly createDecider: (spec: RevisionSpec, nowMs: number) => Decider;
  readonly log: Logger;
  readonly timers?: Timers;
  readonly tickMs?: number;
  readonly onDecision?: (record: DecisionRecord) => void;
  readonly onRemove?: (key: string) => void;
}

/** Knative's initial EBC before any decision: TBC itself for −1 and 0, else initial scale × total − TBC. */
export function initialExcessBurstCapacity(a: Pick<RevisionAutoscaling, 'targetBurstCapacity' | 'initialScale' | 'totalValue'>): number {
  const tbc = a.targetBurstCapacity;
  return tbc === -1 || tbc === 0 ? tbc : Math.trunc(a.initialScale * a.totalValue - tbc);
}

/** Knative's "unknown" desired scale until the first decision: no poke before one. */
const SCALE_UNKNOWN = -1;

interface Runner {
  spec: RevisionSpec;
  readonly decider: Decider;
  readonly timer: unknown;
  latestScale: number;
  latestExcessBurstCapacity: number;
}

export class MultiScaler {
  readonly #o: MultiScalerOptions;
  readonly #timers: Timers;
  readonly #runners = new Map<string, Runner>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: MultiScalerOptions) {
    this.#o = options;
    this.#timers = options.timers ?? realTimers;
  }

  /** Starts a loop for every revision of the source, and follows its changes. */
  start(): void {
    if (this.#unsubscribe) return;
    this.#unsubscribe = this.#o.source.subscribe((key) => this.#sync(key));
    for (const spec of this.#o.source.list()) this.#sync(spec.key);
  }

  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const key of [...this.#runners.keys()]) this.#remove(key);
  }

  get size(): number {
    return this.#runners.size;
  }

  /** The latest desired scale (−1 before the first decision), or undefined if not scaled. */
  latestScale(key: string): number | undefined {
    return this.#runners.get(key)?.latestScale;
  }

  latestExcessBurstCapacity(key: string): number | undefined {
    return this.#runners.get(key)?.latestExcessBurstCapacity;
  }

  /**
   * Called after every accepted stat: a revision at zero that sees demand is decided at once
   * rather than at its next tick.
   */
  poke(key: string, stat: Readonly<Stat>): boolean {
    const r = this.#runners.get(key);
    if (r === undefined || r.latestScale !== 0 || stat.averageConcurrentRequests === 0) return false;
    this.#evaluate(key, true);
    return true;
  }

  /** One evaluation now; undefined when there is no data (no decision, as in Knative). */
  evaluate(key: string): DecisionRecord | undefined {
    return this.#evaluate(key, false);
  }

  #sync(key: string): void {
    const spec = this.#o.source.get(key);
    if (spec === undefined) {
      this.#remove(key);
      return;
    }
    this.#o.collector.upsert(key, collectorSpecOf(spec.autoscaling), this.#timers.now());
    const existing = this.#runners.get(key);
    if (existing) {
      const settings = (r: RevisionSpec): string => JSON.stringify([r.autoscaling, r.reachability ?? 'Reachable']);
      if (settings(existing.spec) !== settings(spec)) existing.decider.update?.(spec);
      existing.spec = spec;
      return;
    }
    const decider = this.#o.createDecider(spec, this.#timers.now());
    const timer = this.#timers.setInterval(() => this.#evaluate(key, false), this.#o.tickMs ?? TICK_INTERVAL_MS);
    const ebc = initialExcessBurstCapacity(spec.autoscaling);
    this.#runners.set(key, { spec, decider, timer, latestScale: SCALE_UNKNOWN, latestExcessBurstCapacity: ebc });
  }

  #remove(key: string): void {
    const r = this.#runners.get(key);
    if (r === undefined) return;
    this.#timers.clearInterval(r.timer);
    this.#runners.delete(key);
    this.#o.collector.delete(key);
    this.#o.onRemove?.(key);
  }

  #evaluate(key: string, poked: boolean): DecisionRecord | undefined {
    const r = this.#runners.get(key);
    if (r === undefined) return undefined;
    const now = this.#timers.now();
    const a = r.spec.autoscaling;
    const metric = a.metric === 'rps' ? 'rps' : 'concurrency';
    const values = this.#o.collector.stableAndPanic(key, metric, now);
    if (!values.ok) {
      this.#o.log.debug({ key, reason: values.reason }, 'no decision: no metric data');
      return undefined;
    }
    const readyPods = r.spec.pods.length;
    const d = r.decider.decide(values.stable, values.panic, readyPods, now);
    if (d.desiredPodCount < 0) {
      this.#o.log.error({ key, desiredPodCount: d.desiredPodCount }, 'cannot scale: desired scale < 0');
      return undefined;
    }
    r.latestScale = d.desiredPodCount;
    r.latestExcessBurstCapacity = d.excessBurstCapacity;
    const record: DecisionRecord = {
      key,
      metric,
      stable: values.stable,
      panic: values.panic,
      target: a.targetValue,
      readyPods,
      desiredPodCount: d.desiredPodCount,
      excessBurstCapacity: d.excessBurstCapacity,
      panicking: d.panicking,
      poked,
    };
    this.#o.log.info(record, 'decision');
    this.#o.onDecision?.(record);
    return record;
  }
}
