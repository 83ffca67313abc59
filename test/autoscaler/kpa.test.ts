// The KPA adapter on fake timers with an InMemoryScaleTarget and a fake activator probe: scale
// from 0 and the Proxy→Serve flip, deactivation (Proxy, pods kept), scale to 0 after the probe and
// the grace period, the async prober on a failed probe, min/max scale, patches only on change;
// and one end-to-end run through runAutoscaler with a real websocket stat.
import test from 'ava';
import { WebSocket } from 'ws';
import { kpaDecider } from '../../autoscaler/autoscaler-process.ts';
import { Kpa, type DeciderStatusSource } from '../../autoscaler/kpa.ts';
import { StaticRevisionSource, type DecisionRecord, type RevisionSpec } from '../../autoscaler/multiscaler.ts';
import { InMemoryScaleTarget } from '../../autoscaler/scale-target.ts';
import type { ScrapePod } from '../../autoscaler/scraper.ts';
import { encodeWireStatMessages } from '../../autoscaler/stat-proto.ts';
import { autoscalerConfigMap } from '../../config/autoscaler.ts';
import { resolveRevisionAutoscaling } from '../../config/revision-autoscaling.ts';
import { startTestAutoscaler } from '../helpers/autoscaler.ts';
import { FakeTimers } from '../helpers/fake-timers.ts';

const KEY = 'default/hello-00001';
const T0 = 1_700_000_000_000;
const PROGRESS_DEADLINE = 600e9;


class FakeDeciders implements DeciderStatusSource {
  desired = -1;
  ebc = 0;
  latestScale(): number {
    return this.desired;
  }
  latestExcessBurstCapacity(): number {
    return this.ebc;
  }
}

function pods(n: number): ScrapePod[] {
  return Array.from({ length: n }, (_, i): ScrapePod => ({ ip: `10.0.0.${i + 1}`, startTimeMs: 0 }));
}

function setup(annotations: Record<string, string> = {}, replicas: number | undefined = 0) {
  const timers = new FakeTimers(T0);
  const autoscaling = resolveRevisionAutoscaling(annotations, autoscalerConfigMap.defaults(), 0);
  const spec = (n: number): RevisionSpec => ({ key: KEY, autoscaling, pods: pods(n) });
  const source = new StaticRevisionSource([spec(0)]);
  const target = new InMemoryScaleTarget(() => timers.now());
  if (replicas !== undefined) target.revision(KEY).replicas = replicas;
  const deciders = new FakeDeciders();
  const probe = { ok: true, calls: [] as [number, string, string][] };
  const kpa = new Kpa({
    source,
    deciders,
    target,
    timers,
    progressDeadline: PROGRESS_DEADLINE,
    probeActivator: (key, serviceName) => {
      probe.calls.push([timers.now() - T0, key, serviceName]);
      return Promise.resolve(probe.ok);
    },
  });
  /** Lets fake time pass, running reconciles to completion between timers. */
  const advance = async (ms: number): Promise<void> => {
    await kpa.settled();
    const end = timers.time + ms;
    while (timers.fireUntil(end)) await kpa.settled();
    timers.time = end;
  };
  /** What a MultiScaler decision does: new decider status, then the hook. */
  const decide = async (desired: number, ebc: number): Promise<void> => {
    deciders.desired = desired;
    deciders.ebc = ebc;
    const record: DecisionRecord = { key: KEY, metric: 'concurrency', stable: 0, panic: 0, target: 70, readyPods: 0, desiredPodCount: desired, excessBurstCapacity: ebc, panicking: false, poked: false };
    kpa.onDecision(record);
    await advance(0);
  };
  const setPods = async (n: number): Promise<void> => {
    source.set(spec(n));
    await advance(0);
  };
  const replicaCalls = () => target.calls.filter((c) => c.op === 'setReplicas').map((c) => (c.op === 'setReplicas' ? [c.at - T0, c.replicas] : []));
  const modeCalls = () => target.calls.filter((c) => c.op === 'setMode').map((c) => (c.op === 'setMode' ? [c.at - T0, c.mode, c.numActivators] : []));
  return { timers, source, target, deciders, probe, kpa, advance, decide, setPods, replicaCalls, modeCalls };
}

test('traffic: 0 → N replicas, Proxy until the EBC is ≥ 0, then Serve and Active', async (t) => {
  const k = setup();
  k.kpa.start();
  await k.advance(0);
  // Created: no data yet, activating; the SKS is written in Proxy with 3 activators (TBC 211).
  t.deepEqual(k.modeCalls(), [[0, 'Proxy', 3]]);
  t.deepEqual(k.replicaCalls(), []);
  t.is(k.kpa.status(KEY)?.active.status, 'Activating');

  await k.advance(1000);
  await k.decide(3, -111);
  t.deepEqual(k.replicaCalls(), [[1000, 3]]);
  t.is(k.target.revision(KEY).mode, 'Proxy', 'EBC < 0 keeps the activator in the path');

  await k.advance(5000);
  await k.setPods(3);
  t.is(k.kpa.status(KEY)?.active.status, 'Active');
  t.is(k.target.revision(KEY).mode, 'Proxy');
  await k.decide(3, 89);
  t.is(k.target.revision(KEY).mode, 'Serve');
  t.deepEqual(k.replicaCalls(), [[1000, 3]], 'replicas patched once');
  t.like(k.kpa.status(KEY), { desiredScale: 3, actualScale: 3, ready: true, scaleTargetInitialized: true });
});

async function activeAt3(k: ReturnType<typeof setup>): Promise<number> {
  k.kpa.start();
  await k.decide(3, 89);
  await k.setPods(3);
  assertActive(k);
  return k.timers.now();
}

function assertActive(k: ReturnType<typeof setup>): void {
  if (k.kpa.status(KEY)?.active.status !== 'Active') throw new Error('expected Active');
}

test('load drops: Inactive and Proxy after the stable window, pods kept; 0 after the probe and the grace period', async (t) => {
  const k = setup();
  const activeSince = await activeAt3(k);
  t.is(k.target.revision(KEY).mode, 'Serve');

  // Within the stable window a desired 0 becomes 1 and a requeue for the rest of the window.
  await k.advance(10_000);
  await k.decide(0, 100);
  t.deepEqual(k.replicaCalls().at(-1), [10_000, 1]);
  await k.setPods(1);
  t.is(k.kpa.status(KEY)?.active.status, 'Active');
  t.is(k.probe.calls.length, 0);

  // The requeue at the end of the stable window deactivates: Proxy, replicas untouched.
  await k.advance(50_000);
  t.is(k.timers.now() - activeSince, 60_000);
  t.is(k.kpa.status(KEY)?.active.status, 'Inactive');
  t.is(k.kpa.status(KEY)?.active.reason, 'NoTraffic');
  t.is(k.target.revision(KEY).mode, 'Proxy');
  t.is(k.target.revision(KEY).replicas, 1);
  // The SKS change re-enqueues at once: the probe succeeds and the grace period starts counting.
  t.deepEqual(k.probe.calls.at(-1), [60_000, KEY, 'hello-00001']);

  await k.advance(29_000);
  t.is(k.target.revision(KEY).replicas, 1, 'still in the grace period');
  await k.advance(1_000);
  t.is(k.target.revision(KEY).replicas, 0);
  t.deepEqual(k.replicaCalls().at(-1), [90_000, 0]);
  t.is(k.target.revision(KEY).mode, 'Proxy');
});

test('a failed probe keeps the pods and retries every second until it succeeds', async (t) => {
  const k = setup();
  await activeAt3(k);
  await k.advance(60_000);
  k.probe.ok = false;
  await k.decide(0, 100);
  await k.advance(0);
  t.is(k.kpa.status(KEY)?.active.status, 'Inactive');
  t.true(k.kpa.probing(KEY));
  const start = k.probe.calls.length;
  await k.advance(5_000);
  t.is(k.target.revision(KEY).replicas, 3, 'pods kept while the activator is not proven');
  t.true(k.probe.calls.length - start >= 5, 'probes every second');
  k.probe.ok = true;
  const okAt = k.timers.now() + 1000;
  await k.advance(1_000);
  t.false(k.kpa.probing(KEY));
  // 1 s after the prober is done the PA is reconciled: the sync probe passes and the grace runs.
  await k.advance(1_000);
  t.is(k.probe.calls.at(-1)?.[0], okAt + 1000 - T0);
  await k.advance(30_000);
  t.is(k.target.revision(KEY).replicas, 0);
});

test('the async prober gives up after 45 s and re-reconciles, which probes again', async (t) => {
  const k = setup();
  await activeAt3(k);
  await k.advance(60_000);
  k.probe.ok = false;
  await k.decide(0, 100);
  const first = k.timers.now();
  await k.advance(45_000);
  t.false(k.kpa.probing(KEY), 'gave up');
  await k.advance(1_000);
  t.true(k.kpa.probing(KEY), 'the requeued reconcile failed its probe and started another prober');
  t.is(k.target.revision(KEY).replicas, 3);
  t.true(k.timers.now() - first >= 46_000);
});

test('min-scale holds the floor, max-scale caps, and replicas are only patched on change', async (t) => {
  const k = setup({ 'autoscaling.knative.dev/min-scale': '2', 'autoscaling.knative.dev/max-scale': '5' });
  k.kpa.start();
  await k.advance(0);
  t.deepEqual(k.replicaCalls(), [[0, 2]], 'no data yet while activating: min-scale applies');
  await k.decide(10, 0);
  t.is(k.target.revision(KEY).replicas, 5);
  await k.setPods(5);
  for (let i = 0; i < 3; i++) await k.kpa.reconcile(KEY);
  await k.decide(7, 0);
  t.deepEqual(k.replicaCalls(), [[0, 2], [0, 5]], 'same value: no patch');
  await k.advance(120_000);
  await k.decide(0, 300);
  t.is(k.target.revision(KEY).replicas, 2);
  await k.advance(120_000);
  t.is(k.target.revision(KEY).replicas, 2, 'never below min-scale');
  t.is(k.probe.calls.length, 0, 'no scale-to-zero gate above 0');
});

test('an Unreachable revision ignores min-scale', async (t) => {
  const k = setup({ 'autoscaling.knative.dev/min-scale': '2' }, 1);
  const autoscaling = resolveRevisionAutoscaling({ 'autoscaling.knative.dev/min-scale': '2' }, autoscalerConfigMap.defaults(), 0);
  k.source.set({ key: KEY, autoscaling, pods: [], reachability: 'Unreachable' });
  k.kpa.start();
  await k.decide(0, 0);
  t.is(k.target.revision(KEY).replicas, 1, 'activating: no change until the activation timeout');
  t.deepEqual(k.replicaCalls(), []);
});

test('removal clears the requeue timer and the status; close drops everything', async (t) => {
  const k = setup();
  k.kpa.start();
  await k.advance(0);
  t.is(k.timers.pending, 1, 'the activation-timeout requeue');
  k.source.delete(KEY);
  t.is(k.timers.pending, 0);
  t.is(k.kpa.status(KEY), undefined);
  k.source.set({ key: KEY, autoscaling: resolveRevisionAutoscaling({}, autoscalerConfigMap.defaults(), 0), pods: [] });
  await k.advance(0);
  t.is(k.timers.pending, 1);
  k.kpa.close();
  t.is(k.timers.pending, 0);
});

test('runAutoscaler with a scaleTarget: a websocket stat for a revision at 0 sets its replicas', async (t) => {
  const key = 'default/cold-00001';
  const target = new InMemoryScaleTarget();
  target.revision(key).replicas = 0;
  const as = await startTestAutoscaler(key, { 'autoscaling.knative.dev/target-burst-capacity': '-1' }, {
    createDecider: kpaDecider,
    scaleTarget: target,
    probeActivator: () => Promise.resolve(true),
  });
  try {
    t.like(as.multiScaler.evaluate(key), { desiredPodCount: 0 });
    const ws = new WebSocket(`ws://127.0.0.1:${as.ports.stats}/`);
    await new Promise((resolve) => ws.once('open', resolve));
    const stat = { podName: 'activator', averageConcurrentRequests: 1, averageProxiedConcurrentRequests: 0, requestCount: 1, proxiedRequestCount: 0, processUptime: 0, timestamp: 0 };
    ws.send(encodeWireStatMessages([{ namespace: 'default', name: 'cold-00001', stat }]));
    for (let i = 0; i < 100 && target.revision(key).replicas === 0; i++) await new Promise((r) => setTimeout(r, 10));
    t.is(target.revision(key).replicas, 1);
    t.like(target.calls.find((c) => c.op === 'setReplicas'), { revisionKey: key, replicas: 1 });
    t.is(target.revision(key).mode, 'Proxy', 'TBC −1 keeps the activator in the path');
    t.is(as.kpa?.status(key)?.desiredScale, 1);
    ws.close();
  } finally {
    await as.close();
  }
});
