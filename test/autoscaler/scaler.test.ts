// The KPA scaler state machine (spec §3.6, §9 items 16-19) on a fake clock: each rule worked out
// by hand, then the driver taking a revision 0 → 1 → 0 against the in-memory scale target.
import test from 'ava';
import { autoscalerConfigMap } from '../../config/autoscaler.ts';
import { SECOND } from '../../config/duration.ts';
import { resolveRevisionAutoscaling } from '../../config/revision-autoscaling.ts';
import { InMemoryScaleTarget } from '../../autoscaler/scale-target.ts';
import {
  Scaler,
  computeNumActivators,
  initialPaStatus,
  progressDeadlineOf,
  reconcileScale,
  sksModeFor,
  type ActiveCondition,
  type PaStatus,
  type ScaleDecision,
  type ScalerInput,
  type ScalerSettings,
  type SksState,
} from '../../autoscaler/scaler.ts';

const S = SECOND;
const NOW = 1000 * S;

const defaultsResult = autoscalerConfigMap.parse({});
if (!defaultsResult.ok) throw new Error('bad default config');
/** Stock Knative settings: total 100, TBC 211, activator capacity 100, windows 60 s / grace 30 s. */
const DEFAULTS: ScalerSettings = resolveRevisionAutoscaling({}, defaultsResult.config, 0);

const active = (status: ActiveCondition['status'], sinceAgo: number, reason = ''): ActiveCondition => ({
  status,
  reason,
  message: '',
  lastTransitionTime: NOW - sinceAgo,
});

const PA: PaStatus = {
  active: active('Active', 600 * S),
  scaleTargetInitialized: true,
  desiredScale: 1,
  actualScale: 1,
  serviceName: 'rev',
  sksReady: true,
  ready: true,
};

const SKS: SksState = {
  mode: 'Proxy',
  numActivators: 4,
  privateServiceName: 'rev-private',
  serviceName: 'rev',
  ready: true,
  proxySince: undefined,
};

interface Over {
  readonly pa?: Partial<PaStatus>;
  readonly settings?: Partial<ScalerSettings>;
  readonly sks?: Partial<SksState> | null;
  readonly input?: Partial<ScalerInput>;
}

function input(o: Over = {}): ScalerInput {
  return {
    now: NOW,
    pa: { ...PA, ...o.pa },
    reachability: 'Reachable',
    settings: { ...DEFAULTS, ...o.settings },
    progressDeadline: 600 * S,
    desiredScale: 1,
    excessBurstCapacity: -111,
    readyPods: 1,
    currentReplicas: 1,
    sks: o.sks === null ? undefined : { ...SKS, ...o.sks },
    ...o.input,
  };
}

function decide(o: Over = {}): ScaleDecision {
  const out = reconcileScale(input(o));
  if (out.kind !== 'decided') throw new Error('unexpected probe request');
  return out;
}

type Expect = Partial<Pick<ScaleDecision, 'want' | 'replicas' | 'requeueAfter' | 'startAsyncProbe' | 'mode'>>;

// [rule, overrides, expected decision fields]. Fields given as undefined must be undefined.
const cases: [string, Over, Expect][] = [
  // §3.6 step 3 bounds: below min → min, above max (≠ 0) → max, max 0 is unlimited.
  ['bounds: above max-scale is capped', { input: { desiredScale: 5 }, settings: { maxScale: 3 } }, { want: 3, replicas: 3 }],
  ['bounds: max-scale 0 is unlimited', { input: { desiredScale: 40 } }, { want: 40, replicas: 40 }],
  ['bounds: below min-scale is raised, so 0 never reaches the gate', { input: { desiredScale: 0 }, settings: { minScale: 2 } }, { want: 2, replicas: 2, requeueAfter: undefined }],
  // §3.6 step 3: min forced to 0 when Unreachable; inactive 100 s ≥ grace 30 s → apply 0.
  [
    'unreachable: min-scale ignored, scales to 0',
    { input: { desiredScale: 0, reachability: 'Unreachable', activatorProbe: true }, settings: { minScale: 2 }, pa: { active: active('Inactive', 100 * S, 'NoTraffic') } },
    { want: 0, replicas: 0 },
  ],
  // §3.6 step 3 + §9.17: last-pod retention forced to 0 when Unreachable: 40 s ≥ max(30 s, 0).
  [
    'unreachable: pod retention ignored',
    { input: { desiredScale: 0, reachability: 'Unreachable', activatorProbe: true }, settings: { scaleToZeroPodRetentionPeriod: 600 * S }, pa: { active: active('Inactive', 40 * S, 'NoTraffic') } },
    { want: 0, replicas: 0 },
  ],
  [
    'reachable: pod retention holds for the remaining 560 s',
    { input: { desiredScale: 0, activatorProbe: true }, settings: { scaleToZeroPodRetentionPeriod: 600 * S }, pa: { active: active('Inactive', 40 * S, 'NoTraffic') } },
    { want: 0, replicas: undefined, requeueAfter: 560 * S },
  ],
  // §3.6 step 3 initial scale: min = max(min, initial) while not initialized and reachable.
  ['initial scale: raises min before ScaleTargetInitialized', { settings: { initialScale: 3 }, pa: { scaleTargetInitialized: false } }, { want: 3, replicas: 3 }],
  ['initial scale: ignored once initialized', { settings: { initialScale: 3 } }, { want: 1, replicas: undefined }],
  ['initial scale: ignored when unreachable', { settings: { initialScale: 3 }, pa: { scaleTargetInitialized: false }, input: { reachability: 'Unreachable' } }, { want: 1 }],
  // −1 while Activating goes through the bounds: applyBounds(3, 0, −1) = 3.
  [
    'initial scale: −1 while activating becomes the initial scale',
    { settings: { initialScale: 3 }, pa: { scaleTargetInitialized: false, active: active('Activating', 10 * S, 'Queued') }, input: { desiredScale: -1, currentReplicas: undefined } },
    { want: 3, replicas: 3 },
  ],
  // Gate: enable-scale-to-zero false → desired 1, applied.
  ['scale to zero disabled: 0 becomes 1', { settings: { enableScaleToZero: false }, input: { desiredScale: 0, currentReplicas: 3 } }, { want: 1, replicas: 1, requeueAfter: undefined }],
  // Gate, Activating: timeout = 600 s + 30 s; exactly 630 s is not "longer than".
  [
    'activating: at exactly the timeout, wait another timeout',
    { pa: { active: active('Activating', 630 * S, 'Queued') }, input: { desiredScale: 0, readyPods: 0 } },
    { want: -1, replicas: undefined, requeueAfter: 630 * S, mode: 'Proxy' },
  ],
  ['activating: past the timeout, give up to 0', { pa: { active: active('Activating', 631 * S, 'Queued') }, input: { desiredScale: 0, readyPods: 0 } }, { want: 0, replicas: 0 }],
  // −1 while Activating: bounds make it 0 (min 0), then the Activating gate applies.
  ['activating: −1 also goes through the gate', { pa: { active: active('Activating', 5 * S) }, input: { desiredScale: -1, readyPods: 0 } }, { want: -1, replicas: undefined, requeueAfter: 630 * S }],
  // Gate, Active: active ≥ stable window → want 0 without patching; +3 s re-enqueue if SKS is Proxy.
  ['active for the stable window: want 0, no patch, re-check in 3 s (SKS Proxy)', { pa: { active: active('Active', 60 * S) }, input: { desiredScale: 0 } }, { want: 0, replicas: undefined, requeueAfter: 3 * S, mode: 'Proxy' }],
  ['active for the stable window: no re-enqueue when SKS is Serve', { pa: { active: active('Active', 60 * S) }, sks: { mode: 'Serve' }, input: { desiredScale: 0 } }, { want: 0, replicas: undefined, requeueAfter: undefined, mode: 'Proxy' }],
  ['active shorter than the stable window: hold 1 for the remaining 40 s', { pa: { active: active('Active', 20 * S) }, input: { desiredScale: 0, currentReplicas: 3 } }, { want: 1, replicas: 1, requeueAfter: 40 * S }],
  ['active window follows the annotation window', { pa: { active: active('Active', 20 * S) }, settings: { stableWindow: 10 * S }, input: { desiredScale: 0 } }, { want: 0, replicas: undefined }],
  // Gate, Inactive, probe failed: nothing now, the async prober re-enqueues.
  ['inactive, probe failed: no change, async probe', { pa: { active: active('Inactive', 100 * S, 'NoTraffic') }, input: { desiredScale: 0, activatorProbe: false } }, { want: 0, replicas: undefined, requeueAfter: undefined, startAsyncProbe: true }],
  // Gate, Inactive, probe OK: inactiveFor ≥ max(grace 30 s, retention 0) → 0.
  ['inactive for the grace period: scale to 0', { pa: { active: active('Inactive', 30 * S, 'NoTraffic') }, input: { desiredScale: 0, activatorProbe: true } }, { want: 0, replicas: 0, startAsyncProbe: false }],
  // Not yet: remaining = grace − ProxyFor; ProxyFor is 0 while ActivatorEndpointsPopulated is not True.
  ['inactive 10 s, not proxying: wait the whole grace', { pa: { active: active('Inactive', 10 * S, 'NoTraffic') }, sks: { proxySince: undefined }, input: { desiredScale: 0, activatorProbe: true } }, { replicas: undefined, requeueAfter: 30 * S }],
  ['inactive 10 s, proxying 25 s: wait 5 s', { pa: { active: active('Inactive', 10 * S, 'NoTraffic') }, sks: { proxySince: NOW - 25 * S }, input: { desiredScale: 0, activatorProbe: true } }, { replicas: undefined, requeueAfter: 5 * S }],
  ['inactive 10 s, proxying 30 s: fast path to 0', { pa: { active: active('Inactive', 10 * S, 'NoTraffic') }, sks: { proxySince: NOW - 30 * S }, input: { desiredScale: 0, activatorProbe: true } }, { want: 0, replicas: 0 }],
  // Retention > grace is a hard deadline: 40 s inactive of 120 s, even though proxying long.
  [
    'retention beats ProxyFor',
    { pa: { active: active('Inactive', 40 * S, 'NoTraffic') }, settings: { scaleToZeroPodRetentionPeriod: 120 * S }, sks: { proxySince: NOW - 500 * S }, input: { desiredScale: 0, activatorProbe: true } },
    { replicas: undefined, requeueAfter: 80 * S },
  ],
  ['retention reached: scale to 0', { pa: { active: active('Inactive', 120 * S, 'NoTraffic') }, settings: { scaleToZeroPodRetentionPeriod: 120 * S }, input: { desiredScale: 0, activatorProbe: true } }, { replicas: 0 }],
  // Retention shorter than grace and already past: fall through to grace − ProxyFor = 30 − 15.
  [
    'short retention passed: grace − ProxyFor decides',
    { pa: { active: active('Inactive', 15 * S, 'NoTraffic') }, settings: { scaleToZeroPodRetentionPeriod: 10 * S }, sks: { proxySince: NOW - 15 * S }, input: { desiredScale: 0, activatorProbe: true } },
    { replicas: undefined, requeueAfter: 15 * S },
  ],
  // TBC −1: activator always in path, no probe needed.
  ['TBC −1: no probe, grace decides', { pa: { active: active('Inactive', 40 * S, 'NoTraffic') }, settings: { targetBurstCapacity: -1 }, input: { desiredScale: 0 } }, { want: 0, replicas: 0 }],
  // −1 while not Activating: no action at all (§3.6 step 3, §9.18).
  ['−1 while active: no action, Proxy even with EBC ≥ 0', { input: { desiredScale: -1, excessBurstCapacity: 50, currentReplicas: 4 } }, { want: -1, replicas: undefined, requeueAfter: undefined, mode: 'Proxy' }],
  // Apply only when N differs; nil replicas count as 1.
  ['patch only on change: nil counts as 1', { input: { currentReplicas: undefined } }, { want: 1, replicas: undefined }],
  ['patch only on change: nil to 2 patches', { input: { desiredScale: 2, currentReplicas: undefined } }, { want: 2, replicas: 2 }],
  ['patch only on change: equal is not patched', { input: { desiredScale: 2, currentReplicas: 2 } }, { want: 2, replicas: undefined }],
  // §3.6 step 4: Serve iff want > 0 and EBC ≥ 0.
  ['mode: want 3, EBC 0 → Serve', { input: { desiredScale: 3, excessBurstCapacity: 0 } }, { mode: 'Serve' }],
  ['mode: want 3, EBC −1 → Proxy', { input: { desiredScale: 3, excessBurstCapacity: -1 } }, { mode: 'Proxy' }],
];

for (const [name, over, expected] of cases) {
  test(`scale: ${name}`, (t) => {
    const d = decide(over);
    for (const [key, value] of Object.entries(expected)) t.is(d[key as keyof Expect], value, key);
  });
}

test('inactive with TBC ≠ −1 asks for the activator probe first', (t) => {
  const out = reconcileScale(input({ pa: { active: active('Inactive', 100 * S, 'NoTraffic') }, input: { desiredScale: 0 } }));
  t.deepEqual(out, { kind: 'probe' });
});

test('inactive without a public service name: a failed probe, without asking', (t) => {
  const out = reconcileScale(input({ pa: { active: active('Inactive', 100 * S, 'NoTraffic'), serviceName: '' }, input: { desiredScale: 0 } }));
  t.like(out, { kind: 'decided', want: 0, replicas: undefined, startAsyncProbe: true });
});

test('the probe is only asked for on the Inactive scale-to-zero path', (t) => {
  // Active with desired 0, and Inactive with desired 2: neither reaches the probe.
  t.is(reconcileScale(input({ input: { desiredScale: 0 } })).kind, 'decided');
  t.is(reconcileScale(input({ pa: { active: active('Inactive', 100 * S, 'NoTraffic') }, input: { desiredScale: 2 } })).kind, 'decided');
});

test('mode rule: Serve iff want > 0 and EBC ≥ 0', (t) => {
  t.is(sksModeFor(1, 0), 'Serve');
  t.is(sksModeFor(1, -1), 'Proxy');
  t.is(sksModeFor(0, 10), 'Proxy');
  t.is(sksModeFor(-1, 10), 'Proxy');
});

// §3.6 step 5: max(2, ceil((ready × total + max(TBC, 0)) / capacity)); TBC 0 → 2.
const activators: [string, Partial<ScalerSettings>, number, number][] = [
  ['defaults, 0 pods: ceil(211/100)', {}, 0, 3],
  ['defaults, 1 pod: ceil(311/100)', {}, 1, 4],
  ['defaults, 10 pods: ceil(1211/100)', {}, 10, 13],
  ['TBC 200, 0 pods: ceil(200/100)', { targetBurstCapacity: 200 }, 0, 2],
  ['TBC 200, 1 pod: ceil(300/100)', { targetBurstCapacity: 200 }, 1, 3],
  ['TBC 200, 15 pods: ceil(1700/100)', { targetBurstCapacity: 200 }, 15, 17],
  ['TBC 0 is always 2', { targetBurstCapacity: 0 }, 50, 2],
  ['TBC −1, 5 pods: ceil(500/100)', { targetBurstCapacity: -1 }, 5, 5],
  ['TBC −1, 0 pods: floor of 2', { targetBurstCapacity: -1 }, 0, 2],
];
for (const [name, over, ready, want] of activators) {
  test(`numActivators: ${name} = ${want}`, (t) => {
    t.is(computeNumActivators(ready, { ...DEFAULTS, ...over }), want);
    t.is(decide({ settings: over, input: { readyPods: ready } }).numActivators, want);
  });
}

test('no SKS yet: Proxy with 2 activators, want −1, nothing patched', (t) => {
  const d = decide({ sks: null, input: { desiredScale: 5, currentReplicas: 0 } });
  t.like(d, { want: -1, replicas: undefined, mode: 'Proxy', numActivators: 2, sksChanged: true });
  t.like(d.status, { sksReady: false, ready: false, desiredScale: 1 });
  // An SKS without its private service yet is treated the same.
  t.like(decide({ sks: { privateServiceName: '' } }), { want: -1, mode: 'Proxy', numActivators: 2 });
});

test('sksChanged only when mode or numActivators differ', (t) => {
  t.false(decide().sksChanged); // Proxy, 4 for 1 pod with defaults
  t.true(decide({ input: { readyPods: 2 } }).sksChanged); // 5 activators
  t.true(decide({ input: { excessBurstCapacity: 0 } }).sksChanged); // Serve
});

// §3.6 step 7: status.
test('status: −1 does not overwrite a known desiredScale, but is stored over none', (t) => {
  t.is(decide({ pa: { desiredScale: 4 }, input: { desiredScale: -1 } }).status.desiredScale, 4);
  t.is(decide({ pa: { desiredScale: undefined }, input: { desiredScale: -1 } }).status.desiredScale, -1);
  t.is(decide({ pa: { desiredScale: 4 }, input: { desiredScale: 2, currentReplicas: 2 } }).status.desiredScale, 2);
});

test('status: want 0 marks Inactive NoTraffic at now', (t) => {
  const s = decide({ pa: { active: active('Active', 60 * S) }, input: { desiredScale: 0 } }).status;
  t.deepEqual(s.active, { status: 'Inactive', reason: 'NoTraffic', message: 'The target is not receiving traffic.', lastTransitionTime: NOW });
  t.false(s.ready);
});

test('status: activation timeout marks Inactive TimedOut', (t) => {
  const s = decide({ pa: { active: active('Activating', 631 * S, 'Queued'), scaleTargetInitialized: false }, input: { desiredScale: 0, readyPods: 0 } }).status;
  t.like(s.active, { status: 'Inactive', reason: 'TimedOut', message: 'The target could not be activated.' });
});

test('status: wanted but not ready is Activating Queued; then Active once ready', (t) => {
  const inactive = { active: active('Inactive', 100 * S, 'NoTraffic') };
  const s1 = decide({ pa: inactive, input: { readyPods: 0, currentReplicas: 0 } }).status;
  t.like(s1.active, { status: 'Activating', reason: 'Queued', lastTransitionTime: NOW });
  t.is(s1.actualScale, 0);
  const s2 = decide({ pa: { active: active('Activating', 5 * S, 'Queued') } }).status;
  t.like(s2.active, { status: 'Active', reason: '', lastTransitionTime: NOW });
  t.true(s2.ready);
});

test('status: −1 keeps Inactive and Active as the table says', (t) => {
  // −1, ready ≥ minReady, inactive → stays inactive (same condition, same transition time).
  const inactive = active('Inactive', 100 * S, 'NoTraffic');
  t.is(decide({ pa: { active: inactive }, input: { desiredScale: -1 } }).status.active, inactive);
  // −1, ready < minReady, inactive → inactive.
  t.is(decide({ pa: { active: inactive }, input: { desiredScale: -1, readyPods: 0 } }).status.active.status, 'Inactive');
  // −1, ready < minReady, active → activating.
  t.is(decide({ input: { desiredScale: -1, readyPods: 0 } }).status.active.status, 'Activating');
  // −1, ready ≥ minReady, active → active, transition time kept.
  t.is(decide({ input: { desiredScale: -1 } }).status.active, PA.active);
});

test('status: minReady 0 (initial scale 0 allowed) is Inactive even with want −1', (t) => {
  const s = decide({ settings: { initialScale: 0 }, pa: { scaleTargetInitialized: false, active: active('Activating', 1 * S) }, input: { desiredScale: -1, readyPods: 0 } }).status;
  // Activating but minReady = 0 → NoTraffic, not TimedOut.
  t.like(s.active, { status: 'Inactive', reason: 'NoTraffic' });
});

test('status: ScaleTargetInitialized needs ready ≥ max(min, initial) and a service name', (t) => {
  const base = { settings: { initialScale: 3 }, pa: { scaleTargetInitialized: false, active: active('Activating', 5 * S) } };
  t.false(decide({ ...base, input: { readyPods: 2, desiredScale: 3, currentReplicas: 3 } }).status.scaleTargetInitialized);
  t.true(decide({ ...base, input: { readyPods: 3, desiredScale: 3, currentReplicas: 3 } }).status.scaleTargetInitialized);
  t.false(decide({ ...base, sks: { serviceName: '' }, input: { readyPods: 3, desiredScale: 3, currentReplicas: 3 } }).status.scaleTargetInitialized);
  // min-scale 4 above initial 3: minReady 4.
  t.false(decide({ ...base, settings: { initialScale: 3, minScale: 4 }, input: { readyPods: 3, desiredScale: 4, currentReplicas: 4 } }).status.scaleTargetInitialized);
});

test('status: Ready needs SKS ready', (t) => {
  t.false(decide({ sks: { ready: false } }).status.ready);
  t.true(decide().status.ready);
});

test('progress deadline: annotation over config-deployment; timeout adds 30 s', (t) => {
  t.is(progressDeadlineOf({}, { progressDeadline: 600 * S }), 600 * S);
  t.is(progressDeadlineOf({ 'serving.knative.dev/progress-deadline': '60s' }, { progressDeadline: 600 * S }), 60 * S);
  t.is(progressDeadlineOf({ 'serving.knative.dev/progress-deadline': 'soon' }, { progressDeadline: 600 * S }), 600 * S);
  // 60 s + 30 s: 90 s activating waits, 91 s gives up.
  const at = (ago: number) => decide({ pa: { active: active('Activating', ago) }, input: { desiredScale: 0, readyPods: 0, progressDeadline: 60 * S } });
  t.like(at(90 * S), { want: -1, requeueAfter: 90 * S });
  t.like(at(91 * S), { want: 0, replicas: 0 });
});

test('a new PA starts Activating with nothing known', (t) => {
  const pa = initialPaStatus(7);
  t.like(pa.active, { status: 'Activating', lastTransitionTime: 7 });
  t.is(pa.desiredScale, undefined);
  t.false(pa.scaleTargetInitialized);
});

// Driver: a fake clock in nanoseconds, the in-memory target, an always-successful probe.
function harness(settings: ScalerSettings) {
  let t = 0;
  const key = 'default/rev';
  const target = new InMemoryScaleTarget(() => t);
  let probes = 0;
  const scaler = new Scaler({
    target,
    now: () => t,
    probeActivator: () => {
      probes++;
      return Promise.resolve(true);
    },
  });
  // A revision already at zero: Inactive since 0, initialized, replicas 0.
  target.revision(key).replicas = 0;
  scaler.setStatus(key, {
    active: { status: 'Inactive', reason: 'NoTraffic', message: '', lastTransitionTime: 0 },
    scaleTargetInitialized: true,
    desiredScale: 0,
    actualScale: 0,
    serviceName: 'rev',
    sksReady: true,
    ready: false,
  });
  const step = (at: number, desiredScale: number, readyPods: number, ebc: number) => {
    t = at;
    const r = target.revision(key);
    return scaler.reconcile(key, {
      settings,
      progressDeadline: 600 * S,
      reachability: 'Reachable',
      desiredScale,
      excessBurstCapacity: ebc,
      readyPods,
      // ActivatorEndpointsPopulated is True while the SKS is in Proxy mode.
      sks: { privateServiceName: 'rev-private', serviceName: 'rev', ready: true, proxySince: r.mode === 'Proxy' ? r.modeSince : undefined },
    });
  };
  return { target, scaler, key, step, probes: () => probes };
}

test('driver: 0 → 1 → 0 with stock settings (activator stays in path)', async (t) => {
  const h = harness(DEFAULTS);
  // t=100: at zero, inactive 100 s ≥ 30 s, replicas already 0: only the SKS spec is written.
  t.like(await h.step(100 * S, 0, 0, -211), { want: 0, replicas: undefined, mode: 'Proxy', numActivators: 3 });
  // t=101: the poke, desired 1: patch 0 → 1; EBC < 0 keeps Proxy; Activating.
  t.like(await h.step(101 * S, 1, 0, -211), { want: 1, replicas: 1, mode: 'Proxy' });
  t.is(h.scaler.status(h.key)?.active.status, 'Activating');
  // t=105: the pod is ready: Active; 1 pod needs 4 activators.
  t.like(await h.step(105 * S, 1, 1, -111), { want: 1, replicas: undefined, numActivators: 4 });
  t.like(h.scaler.status(h.key)?.active, { status: 'Active', lastTransitionTime: 105 * S });
  // t=135: traffic gone, active 30 s of 60: hold 1, come back in 30 s.
  t.like(await h.step(135 * S, 0, 1, -111), { want: 1, replicas: undefined, requeueAfter: 30 * S });
  // t=165: active 60 s: want 0, no patch, Inactive; SKS already Proxy → re-check in 3 s.
  t.like(await h.step(165 * S, 0, 1, -111), { want: 0, replicas: undefined, requeueAfter: 3 * S });
  t.like(h.scaler.status(h.key)?.active, { status: 'Inactive', reason: 'NoTraffic', lastTransitionTime: 165 * S });
  // t=168: probe OK; inactive 3 s but proxying since 100 s (68 s ≥ 30 s): patch to 0.
  t.like(await h.step(168 * S, 0, 1, -111), { want: 0, replicas: 0 });

  const patches = h.target.calls.filter((c) => c.op === 'setReplicas').map((c) => [c.at / S, c.op === 'setReplicas' ? c.replicas : -1]);
  t.deepEqual(patches, [[101, 1], [168, 0]]);
  const modes = h.target.calls.filter((c) => c.op === 'setMode').map((c) => [c.at / S, c.op === 'setMode' ? `${c.mode}/${c.numActivators}` : '']);
  t.deepEqual(modes, [[100, 'Proxy/3'], [105, 'Proxy/4']]);
  t.is(h.probes(), 2);
  t.is(h.target.revision(h.key).replicas, 0);
});

test('driver: with TBC 0 the SKS serves, then waits the grace period after flipping to Proxy', async (t) => {
  const h = harness({ ...DEFAULTS, targetBurstCapacity: 0 });
  await h.step(100 * S, 0, 0, 0);
  t.like(await h.step(101 * S, 1, 0, 0), { replicas: 1, mode: 'Serve', numActivators: 2 });
  await h.step(105 * S, 1, 1, 0);
  // t=165: active 60 s; SKS was Serve, so no 3 s re-enqueue; it flips to Proxy now.
  t.like(await h.step(165 * S, 0, 1, 0), { want: 0, replicas: undefined, requeueAfter: undefined, mode: 'Proxy' });
  // t=168: inactive 3 s, proxying 3 s: wait grace − 3 s = 27 s.
  t.like(await h.step(168 * S, 0, 1, 0), { replicas: undefined, requeueAfter: 27 * S });
  // t=195: inactive 30 s ≥ grace: patch to 0.
  t.like(await h.step(195 * S, 0, 1, 0), { want: 0, replicas: 0 });
  const modes = h.target.calls.filter((c) => c.op === 'setMode').map((c) => (c.op === 'setMode' ? `${c.at / S}:${c.mode}` : ''));
  t.deepEqual(modes, ['100:Proxy', '101:Serve', '165:Proxy']);
});
