// The MultiScaler loop with a fake decider and fake timers: ticks every 2 s, "no data" skips a
// decision, and the poke path: an activator stat for a revision at 0 is decided at once.
import test from 'ava';
import { Writable } from 'node:stream';
import { Collector } from '../../autoscaler/collector.ts';
import { MultiScaler, StaticRevisionSource, type Decider, type DecisionRecord, type RevisionSpec } from '../../autoscaler/multiscaler.ts';
import type { Stat } from '../../autoscaler/stat-proto.ts';
import { autoscalerConfigMap } from '../../config/autoscaler.ts';
import { createLogger } from '../../config/logger.ts';
import { resolveRevisionAutoscaling } from '../../config/revision-autoscaling.ts';
import { FakeTimers } from '../helpers/fake-timers.ts';

const KEY = 'default/hello-00001';
const T0 = 1_700_000_000_000;


/** Decides whatever the test says, and remembers what it was asked. */
class FakeDecider implements Decider {
  desired = 0;
  readonly calls: [number, number, number, number][] = [];
  readonly updates: RevisionSpec[] = [];
  update(spec: RevisionSpec): void {
    this.updates.push(spec);
  }
  decide(stable: number, panic: number, readyPods: number, nowMs: number) {
    this.calls.push([stable, panic, readyPods, nowMs]);
    return { desiredPodCount: this.desired, excessBurstCapacity: 7, panicking: false };
  }
}

function stat(s: Partial<Stat>): Stat {
  return { podName: 'activator-1', averageConcurrentRequests: 0, averageProxiedConcurrentRequests: 0, requestCount: 0, proxiedRequestCount: 0, processUptime: 0, timestamp: 0, ...s };
}

function setup(annotations: Record<string, string> = {}) {
  const timers = new FakeTimers(T0);
  const collector = new Collector();
  const decider = new FakeDecider();
  const logs: string[] = [];
  const sink = new Writable({ write: (c: Buffer, _e, cb) => { logs.push(c.toString()); cb(); } });
  const spec: RevisionSpec = { key: KEY, autoscaling: resolveRevisionAutoscaling(annotations, autoscalerConfigMap.defaults(), 0), pods: [] };
  const source = new StaticRevisionSource([spec]);
  const decisions: DecisionRecord[] = [];
  const ms = new MultiScaler({ source, collector, timers, createDecider: () => decider, log: createLogger('autoscaler', 'debug', sink), onDecision: (r) => decisions.push(r) });
  ms.start();
  return { timers, collector, decider, logs, source, decisions, ms };
}

test('decides every 2 s from the collector; no data means no decision', (t) => {
  const { timers, collector, decider, decisions, ms } = setup();
  t.is(ms.latestScale(KEY), -1);
  timers.advance(2000);
  t.is(decider.calls.length, 0, 'no data yet');
  collector.record(KEY, timers.now(), stat({ averageConcurrentRequests: 4 }));
  timers.advance(2000);
  t.deepEqual(decider.calls, [[4, 4, 0, T0 + 4000]]);
  t.like(decisions[0], { key: KEY, metric: 'concurrency', stable: 4, panic: 4, target: 70, desiredPodCount: 0, excessBurstCapacity: 7, panicking: false, poked: false });
  t.is(ms.latestScale(KEY), 0);
  ms.stop();
  t.is(timers.pending, 0);
});

test('poke: an activator stat for a revision at 0 triggers an immediate decision', (t) => {
  const { timers, collector, decider, decisions, logs, ms } = setup();
  collector.record(KEY, timers.now(), stat({}));
  timers.advance(2000); // first decision: 0
  t.is(ms.latestScale(KEY), 0);
  timers.advance(500);
  decider.desired = 1;
  const s = stat({ averageConcurrentRequests: 1, requestCount: 1 });
  collector.record(KEY, timers.now(), s);
  t.true(ms.poke(KEY, s));
  t.is(decider.calls.length, 2);
  t.is(decider.calls[1]?.[3], T0 + 2500, 'decided at the time of the poke, not at the next tick');
  t.like(decisions[1], { desiredPodCount: 1, poked: true });
  t.true(logs.some((l) => l.includes('"poked":true') && l.includes('"msg":"decision"')));
  // Scale is now 1: stats no longer poke.
  t.false(ms.poke(KEY, s));
  t.is(decider.calls.length, 2);
  ms.stop();
});

test('no poke before the first decision, for a zero-concurrency stat, or for an unknown revision', (t) => {
  const { timers, collector, decider, ms } = setup();
  const s = stat({ averageConcurrentRequests: 1 });
  collector.record(KEY, timers.now(), s);
  t.false(ms.poke(KEY, s), 'desired scale is still unknown (−1)');
  timers.advance(2000);
  t.is(ms.latestScale(KEY), 0);
  t.false(ms.poke(KEY, stat({ requestCount: 5 })));
  t.false(ms.poke('default/other', s));
  t.is(decider.calls.length, 1);
  ms.stop();
});

test('revisions follow the source; the initial EBC is Knative\'s', (t) => {
  const { timers, source, collector, ms } = setup();
  // Defaults: TBC 211, total 100, initial scale 1 → 100 − 211.
  t.is(ms.latestExcessBurstCapacity(KEY), -111);
  source.set({ key: 'default/b', autoscaling: resolveRevisionAutoscaling({ 'autoscaling.knative.dev/target-burst-capacity': '-1' }, autoscalerConfigMap.defaults(), 0), pods: [] });
  t.is(ms.size, 2);
  t.is(ms.latestExcessBurstCapacity('default/b'), -1);
  t.true(collector.has('default/b'));
  source.delete('default/b');
  t.is(ms.size, 1);
  t.false(collector.has('default/b'));
  ms.stop();
  t.is(timers.pending, 0);
});

test('a changed revision updates its decider only when its settings change; pod changes do not', (t) => {
  const { decider, source, ms } = setup();
  const base = source.get(KEY)!;
  source.set({ ...base, pods: [{ ip: '10.0.0.1', startTimeMs: T0 }] });
  t.is(decider.updates.length, 0, 'new pods are not new settings');
  const target = resolveRevisionAutoscaling({ 'autoscaling.knative.dev/target': '5' }, autoscalerConfigMap.defaults(), 0);
  source.set({ ...base, autoscaling: target });
  t.is(decider.updates.length, 1);
  t.is(decider.updates[0]?.autoscaling.targetValue, target.targetValue);
  source.set({ ...base, autoscaling: target, reachability: 'Unreachable' });
  t.is(decider.updates.length, 2, 'reachability is a setting too');
  ms.stop();
});
