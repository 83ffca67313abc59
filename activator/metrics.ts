// The activator's prom-client metrics: Knative's request gauges (queued, active, concurrency per
// revision) and knts's cold-start breakdown (Knative #13459): per-request phase histograms,
// queue length and oldest-queued-age gauges per revision, and shed counts. Also the
// `Server-Timing` value for a response.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export type Phase = 'queued' | 'capacity' | 'proxy';

/** Read at scrape time: each revision's waiting requests, the age of the oldest, and the requests being proxied. */
export interface QueueView {
  queues(nowMs: number): Iterable<{ readonly namespace: string; readonly name: string; readonly length: number; readonly oldestAgeMs: number; readonly active: number }>;
}

const LABELS = ['namespace_name', 'revision_name'] as const;

export class ActivatorMetrics {
  readonly registry = new Registry();
  readonly #phase: Histogram<'namespace_name' | 'revision_name' | 'phase'>;
  readonly #phaseSeries = new Map<string, Record<Phase, { observe(v: number): void }>>();
  readonly #concurrency: Gauge<'namespace_name' | 'revision_name'>;
  readonly #shed: Counter<'namespace_name' | 'revision_name' | 'reason'>;

  constructor(view: QueueView, now: () => number) {
    const registers = [this.registry];
    this.#phase = new Histogram({
      name: 'knts_activator_request_phase_seconds',
      help: 'Time a request spent in each activator phase: queued (no capacity: cold start), capacity (waiting for a free pod slot), proxy (to the end of the response)',
      labelNames: [...LABELS, 'phase'],
      buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers,
    });
    this.#concurrency = new Gauge({ name: 'kn_revision_request_concurrency', help: 'Concurrency reported to the autoscaler', labelNames: LABELS, registers });
    this.#shed = new Counter({ name: 'knts_activator_requests_shed_total', help: 'Requests shed at once because a buffering limit was reached', labelNames: [...LABELS, 'reason'], registers });
    // Computed at scrape time, so the hot path only touches the revision's queue.
    const fromView = (pick: (q: { length: number; oldestAgeMs: number; active: number }) => number) =>
      function (this: Gauge<'namespace_name' | 'revision_name'>): void {
        this.reset();
        for (const q of view.queues(now())) this.set({ namespace_name: q.namespace, revision_name: q.name }, pick(q));
      };
    new Gauge({ name: 'kn_revision_request_queued', help: 'Requests waiting in the activator for capacity', labelNames: LABELS, registers, collect: fromView((q) => q.length) });
    new Gauge({ name: 'kn_revision_request_active', help: 'Requests being proxied by the activator', labelNames: LABELS, registers, collect: fromView((q) => q.active) });
    new Gauge({ name: 'knts_activator_queue_oldest_age_seconds', help: 'Age of the oldest request waiting for capacity', labelNames: LABELS, registers, collect: fromView((q) => q.oldestAgeMs / 1000) });
  }

  /** One finished request's phases. The label-bound series are made once per revision: hashing the labels on every observation was a good part of the activator's CPU per request. */
  observePhases(namespace: string, name: string, queuedMs: number, capacityMs: number, proxyMs: number): void {
    const key = `${namespace}/${name}`;
    let series = this.#phaseSeries.get(key);
    if (series === undefined) {
      const at = (phase: Phase): { observe(v: number): void } => this.#phase.labels({ namespace_name: namespace, revision_name: name, phase });
      series = { queued: at('queued'), capacity: at('capacity'), proxy: at('proxy') };
      this.#phaseSeries.set(key, series);
    }
    series.queued.observe(queuedMs / 1000);
    series.capacity.observe(capacityMs / 1000);
    series.proxy.observe(proxyMs / 1000);
  }

  concurrency(namespace: string, name: string, value: number): void {
    this.#concurrency.set({ namespace_name: namespace, revision_name: name }, value);
  }

  shed(namespace: string, name: string, reason: string): void {
    this.#shed.inc({ namespace_name: namespace, revision_name: name, reason });
  }

  forget(namespace: string, name: string): void {
    const labels = { namespace_name: namespace, revision_name: name };
    this.#concurrency.remove(labels);
    for (const phase of ['queued', 'capacity', 'proxy']) this.#phase.remove({ ...labels, phase });
    this.#phaseSeries.delete(`${namespace}/${name}`);
  }
}

/** `Server-Timing` for a response: the phases so far, in milliseconds with 0.1 ms precision. */
export function serverTiming(queuedMs: number, capacityMs: number, proxyMs: number): string {
  const f = (ms: number): string => (Math.round(ms * 10) / 10).toString();
  return `activator-queued;dur=${f(queuedMs)}, activator-capacity;dur=${f(capacityMs)}, activator-proxy;dur=${f(proxyMs)}`;
}
