// The collector (spec §3.2): proxied subtraction, summing within a second, the "no data" rule
// and target-burst-capacity −1 (no scrape target: an empty window reads 0).
import test from 'ava';
import { Collector, collectorSpecOf, type CollectorSpec } from '../../autoscaler/collector.ts';
import { emptyStat, type Stat } from '../../autoscaler/stat-proto.ts';
import { autoscalerConfigMap } from '../../config/autoscaler.ts';
import { resolveRevisionAutoscaling } from '../../config/revision-autoscaling.ts';

const KEY = 'default/hello-00001';
const T0 = 1_700_000_000_000; // a whole second, in ms
const SPEC: CollectorSpec = { stableWindowMs: 60_000, panicWindowMs: 6_000, algorithm: 'linear', hasScrapeTarget: true };

const stat = (s: Partial<Stat>): Stat => ({ ...emptyStat(), podName: 'p', ...s });

test('proxied concurrency and requests are subtracted before recording', (t) => {
  const c = new Collector();
  c.upsert(KEY, SPEC);
  t.true(c.record(KEY, T0, stat({ averageConcurrentRequests: 10, averageProxiedConcurrentRequests: 4, requestCount: 20, proxiedRequestCount: 5 })));
  t.deepEqual(c.stableAndPanic(KEY, 'concurrency', T0), { ok: true, stable: 6, panic: 6 });
  t.deepEqual(c.stableAndPanic(KEY, 'rps', T0), { ok: true, stable: 15, panic: 15 });
});

test('stats within one second add up (the scraper total plus each activator report)', (t) => {
  const c = new Collector();
  c.upsert(KEY, SPEC);
  c.record(KEY, T0, stat({ averageConcurrentRequests: 3, requestCount: 2 }));
  c.record(KEY, T0 + 400, stat({ averageConcurrentRequests: 1, requestCount: 1 }));
  c.record(KEY, T0 + 999, stat({ averageConcurrentRequests: 0.5 }));
  t.deepEqual(c.stableAndPanic(KEY, 'concurrency', T0 + 999), { ok: true, stable: 4.5, panic: 4.5 });
  t.deepEqual(c.stableAndPanic(KEY, 'rps', T0 + 999), { ok: true, stable: 3, panic: 3 });
});

test('no data: nothing recorded yet, or nothing for more than a stable window', (t) => {
  const c = new Collector();
  c.upsert(KEY, SPEC);
  t.deepEqual(c.stableAndPanic(KEY, 'concurrency', T0), { ok: false, reason: 'no-data' });
  t.deepEqual(c.stableAndPanic(KEY, 'rps', T0), { ok: false, reason: 'no-data' });
  c.record(KEY, T0, stat({ averageConcurrentRequests: 2 }));
  const later = c.stableAndPanic(KEY, 'concurrency', T0 + 30_000);
  t.true(later.ok);
  t.deepEqual(c.stableAndPanic(KEY, 'concurrency', T0 + 120_000), { ok: false, reason: 'no-data' });
});

test('target-burst-capacity −1: no scrape target, so an empty window reads 0', (t) => {
  const ra = resolveRevisionAutoscaling({ 'autoscaling.knative.dev/target-burst-capacity': '-1' }, autoscalerConfigMap.defaults(), 0);
  const spec = collectorSpecOf(ra);
  t.false(spec.hasScrapeTarget);
  t.is(spec.stableWindowMs, 60_000);
  t.is(spec.panicWindowMs, 6_000);
  const c = new Collector();
  c.upsert(KEY, spec);
  t.deepEqual(c.stableAndPanic(KEY, 'concurrency', T0), { ok: true, stable: 0, panic: 0 });
  c.record(KEY, T0, stat({ averageConcurrentRequests: 2 }));
  t.deepEqual(c.stableAndPanic(KEY, 'concurrency', T0 + 600_000), { ok: true, stable: 0, panic: 0 });
});

test('stats for revisions that are not collected are dropped', (t) => {
  const c = new Collector();
  t.false(c.record(KEY, T0, stat({ averageConcurrentRequests: 1 })));
  t.deepEqual(c.stableAndPanic(KEY, 'concurrency', T0), { ok: false, reason: 'not-collecting' });
  c.upsert(KEY, SPEC);
  t.true(c.delete(KEY));
  t.false(c.has(KEY));
});

test('the panic window forgets sooner than the stable window', (t) => {
  const c = new Collector();
  c.upsert(KEY, SPEC);
  c.record(KEY, T0, stat({ averageConcurrentRequests: 10 }));
  const r = c.stableAndPanic(KEY, 'concurrency', T0 + 10_000);
  t.true(r.ok);
  if (r.ok) {
    t.true(r.stable > 0);
    t.is(r.panic, 0);
  }
});
