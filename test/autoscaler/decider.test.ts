// The decider against spec §3.5, one table row per rule, each worked out by hand from the
// formulas; then the scale-down delay, the initial state and the DeciderSpec of §3.4.
import test from 'ava';
import { autoscalerConfigMap, type AutoscalerConfig } from '../../config/autoscaler.ts';
import { resolveRevisionAutoscaling } from '../../config/revision-autoscaling.ts';
import { createDeciderState, decide, deciderSpecFrom, KpaDecider, initialExcessBurstCapacity, recordDelay, type DeciderSpec, type DeciderState, type DelayWindow } from '../../autoscaler/decider.ts';

const G = 'autoscaling.knative.dev/';
const config = (data: Record<string, string> = {}): AutoscalerConfig => {
  const r = autoscalerConfigMap.parse(data);
  if (!r.ok) throw new Error('bad test config');
  return r.config;
};

/** Knative's defaults with cc = 0: total 100, target 70, TBC 211, threshold 2, window 60 s. */
const BASE = deciderSpecFrom(resolveRevisionAutoscaling({}, config(), 0), true);
const spec = (o: Partial<DeciderSpec> = {}): DeciderSpec => ({ ...BASE, ...o });

const NOW = 1_000_000;
const calm: DeciderState = { panicTimeMs: undefined, maxPanicPods: 0, delay: undefined };
const panicking = (sinceMs: number, maxPanicPods: number): DeciderState => ({ panicTimeMs: NOW - sinceMs, maxPanicPods, delay: undefined });

interface Row {
  readonly name: string;
  readonly spec?: Partial<DeciderSpec>;
  readonly state?: DeciderState;
  readonly stable: number;
  readonly panic: number;
  readonly ready: number;
  readonly desired: number;
  readonly ebc: number;
  readonly panicking: boolean;
  readonly maxPanicPods?: number;
}

const rows: Row[] = [
  // 4–5: dspc = ceil(140/70) = 2; R = 2, limits [floor(2/2)=1, 2000]; 2/2 < 2: calm.
  // 10: EBC = floor(2·100 − 211 − 140) = −151.
  { name: 'stable pods = ceil(stable / target)', stable: 140, panic: 140, ready: 2, desired: 2, ebc: -151, panicking: false },
  // ceil(141/70) = ceil(2.014…) = 3; dppc 3, 3/2 = 1.5 < 2. EBC = floor(200 − 211 − 141) = −152.
  { name: 'a fraction of a pod rounds up', stable: 141, panic: 141, ready: 2, desired: 3, ebc: -152, panicking: false },
  // 3: maxScaleDown = floor(5/2) = 2 although 0 pods are wanted. EBC = floor(500 − 211 − 0) = 289.
  { name: 'maxScaleDown = floor(R / rate)', stable: 0, panic: 0, ready: 5, desired: 2, ebc: 289, panicking: false },
  // 3: unreachable ⇒ maxScaleDown = 0, so straight to 0.
  { name: 'unreachable: no scale-down limit', spec: { reachable: false }, stable: 0, panic: 0, ready: 5, desired: 0, ebc: 289, panicking: false },
  // 3: maxScaleUp = ceil(1.1·2) = ceil(2.2) = 3 caps dspc = 10; dppc = 1 stays calm.
  // EBC = floor(200 − 211 − 70) = −81.
  { name: 'maxScaleUp = ceil(rate × R)', spec: { maxScaleUpRate: 1.1 }, stable: 700, panic: 70, ready: 2, desired: 3, ebc: -81, panicking: false },
  // 1: R = max(1, 0) = 1 for the limits; 10 uses the actual 0: floor(0 − 211 − 70) = −281.
  { name: 'zero ready pods count as one, except in EBC', stable: 70, panic: 70, ready: 0, desired: 1, ebc: -281, panicking: false },
  // 6: dspc = ceil(10/70) = 1 > 0 and A = 3 > 1 ⇒ 3.
  { name: 'activation scale lifts any demand to A', spec: { activationScale: 3 }, stable: 10, panic: 10, ready: 0, desired: 3, ebc: -221, panicking: false },
  // 6: dspc = 0: activation scale does not apply.
  { name: 'activation scale needs demand', spec: { activationScale: 3 }, stable: 0, panic: 0, ready: 0, desired: 0, ebc: -211, panicking: false },
  // 6: A = 1 is ignored (the rule is A > 1); ready 0 ⇒ 0.
  { name: 'activation scale 1 changes nothing', spec: { activationScale: 1 }, stable: 0, panic: 0, ready: 0, desired: 0, ebc: -211, panicking: false },
  // 7: dppc = ceil(210/70) = 3, 3/1 ≥ 2 ⇒ panic; 8: max(1, 3) = 3 = maxPanicPods.
  // EBC = floor(100 − 211 − 210) = −321.
  { name: 'panic entry', stable: 70, panic: 210, ready: 1, desired: 3, ebc: -321, panicking: true, maxPanicPods: 3 },
  // 7: dppc = 2, 2/1 = 2 ≥ 2: the threshold is inclusive.
  { name: 'panic entry at exactly the threshold', stable: 70, panic: 140, ready: 1, desired: 2, ebc: -251, panicking: true, maxPanicPods: 2 },
  // 7: maxScaleUp = ceil(1.1·2) = 3 clamps dppc = ceil(350/70) = 5 to 3, but 5/2 = 2.5 ≥ 2
  // panics (3/2 = 1.5 would not). 8: max(1, 3) = 3. EBC = floor(200 − 211 − 350) = −361.
  { name: 'the threshold uses the unclamped panic pods', spec: { maxScaleUpRate: 1.1 }, stable: 70, panic: 350, ready: 2, desired: 3, ebc: -361, panicking: true, maxPanicPods: 3 },
  // 8: wanted max(4, 4) (floor(8/2) = 4) < maxPanicPods 8 ⇒ stays 8. EBC = floor(800 − 211 − 70) = 519.
  { name: 'never scale down in panic', state: panicking(10_000, 8), stable: 70, panic: 70, ready: 8, desired: 8, ebc: 519, panicking: true, maxPanicPods: 8 },
  // 7: over again ⇒ panicTime = now; 8: 3 > 2 raises maxPanicPods.
  { name: 'panic extension raises the held count', state: panicking(50_000, 2), stable: 70, panic: 210, ready: 1, desired: 3, ebc: -321, panicking: true, maxPanicPods: 3 },
  // 7: panicTime + 60 s = now is not before now: still panicking.
  { name: 'panic holds for a full stable window', state: panicking(60_000, 8), stable: 70, panic: 70, ready: 8, desired: 8, ebc: 519, panicking: true, maxPanicPods: 8 },
  // 7: panicTime + 60 s < now and not over ⇒ calm, maxPanicPods = 0; result = stable pods 4.
  { name: 'panic exit after a stable window below the threshold', state: panicking(61_000, 8), stable: 70, panic: 70, ready: 8, desired: 4, ebc: 519, panicking: false, maxPanicPods: 0 },
  // 8: in panic the larger of stable (ceil(700/70) = 10) and panic (1) pods.
  { name: 'panic provisions for the stable window too', state: panicking(1000, 1), stable: 700, panic: 70, ready: 1, desired: 10, ebc: -181, panicking: true, maxPanicPods: 10 },
  // 10: TBC 0 ⇒ EBC 0.
  { name: 'TBC 0 ⇒ EBC 0', spec: { targetBurstCapacity: 0 }, stable: 140, panic: 140, ready: 2, desired: 2, ebc: 0, panicking: false },
  // 10: TBC −1 ⇒ EBC −1.
  { name: 'TBC −1 ⇒ EBC −1', spec: { targetBurstCapacity: -1 }, stable: 140, panic: 140, ready: 2, desired: 2, ebc: -1, panicking: false },
  // 10: floor(3·100 − 50 − 10.5) = floor(239.5) = 239.
  { name: 'EBC floors a fractional panic value', spec: { targetBurstCapacity: 50 }, stable: 10.5, panic: 10.5, ready: 3, desired: 1, ebc: 239, panicking: false },
  // 10: floor(1·100 − 211 − 0.5) = floor(−111.5) = −112 (floor, not truncation).
  { name: 'negative EBC rounds down', stable: 0.5, panic: 0.5, ready: 1, desired: 1, ebc: -112, panicking: false },
];

for (const r of rows) {
  test(`§3.5: ${r.name}`, (t) => {
    const d = decide(spec(r.spec), r.state ?? calm, r.stable, r.panic, r.ready, NOW);
    t.is(d.desiredPodCount, r.desired, 'desired');
    t.is(d.excessBurstCapacity, r.ebc, 'ebc');
    t.is(d.panicking, r.panicking, 'panicking');
    if (r.maxPanicPods !== undefined) t.is(d.state.maxPanicPods, r.maxPanicPods, 'maxPanicPods');
  });
}

test('§3.5 7: entering or extending panic stamps the time, calm leaves it', (t) => {
  t.is(decide(spec(), calm, 70, 210, 1, NOW).state.panicTimeMs, NOW);
  t.is(decide(spec(), panicking(50_000, 2), 70, 210, 1, NOW).state.panicTimeMs, NOW);
  t.is(decide(spec(), panicking(30_000, 2), 0, 0, 1, NOW).state.panicTimeMs, NOW - 30_000);
  t.is(decide(spec(), calm, 70, 70, 1, NOW).state.panicTimeMs, undefined);
});

test('§3.4: arithmetic in Knative order: cc = 3 gives the target 3 × 0.7 = 2.0999999999999996', (t) => {
  const s = deciderSpecFrom(resolveRevisionAutoscaling({}, config(), 3), true);
  t.is(s.targetValue, 3 * 0.7);
  // 2.1 / 2.0999999999999996 is just above 1, so ceil gives 2 pods, as in Knative.
  t.is(decide(s, calm, 2.1, 0, 1, NOW).desiredPodCount, 2);
});

test('§3.4: DeciderSpec from annotations and config', (t) => {
  const r = resolveRevisionAutoscaling(
    { [`${G}metric`]: 'rps', [`${G}window`]: '2m', [`${G}scale-down-delay`]: '10s', [`${G}activation-scale`]: '2', [`${G}panic-threshold-percentage`]: '300' },
    config({ 'max-scale-up-rate': '10', 'target-burst-capacity': '-1' }),
    0,
  );
  t.deepEqual(deciderSpecFrom(r, false), {
    scalingMetric: 'rps',
    targetValue: 140, // 200 × 0.7
    totalValue: 200,
    targetBurstCapacity: -1,
    panicThreshold: 3,
    stableWindowMs: 120_000,
    maxScaleUpRate: 10,
    maxScaleDownRate: 2,
    activatorCapacity: 100,
    initialScale: 1,
    activationScale: 2,
    scaleDownDelayMs: 10_000,
    reachable: false,
  });
});

test('creation: more than one ready pod starts in panic holding them', (t) => {
  const s = createDeciderState(spec(), 2, NOW);
  t.is(s.panicTimeMs, NOW);
  t.is(s.maxPanicPods, 2);
  // No data yet reads 0, which would scale to floor(2/2) = 1; panic holds 2.
  t.is(decide(spec(), s, 0, 0, 2, NOW + 2000).desiredPodCount, 2);
  // A stable window later, still below the threshold: panic ends, 1 pod.
  const later = decide(spec(), s, 0, 0, 2, NOW + 60_001);
  t.false(later.panicking);
  t.is(later.desiredPodCount, 1);
});

test('creation: one ready pod starts calm', (t) => {
  const s = createDeciderState(spec(), 1, NOW);
  t.is(s.panicTimeMs, undefined);
  t.is(s.maxPanicPods, 1);
  t.is(s.delay, undefined);
});

test('initial EBC: −1, 0, or InitialScale × TotalValue − TBC truncated', (t) => {
  t.is(initialExcessBurstCapacity(spec()), -111); // 1 × 100 − 211
  t.is(initialExcessBurstCapacity(spec({ targetBurstCapacity: 0 })), 0);
  t.is(initialExcessBurstCapacity(spec({ targetBurstCapacity: -1 })), -1);
  t.is(initialExcessBurstCapacity(spec({ targetBurstCapacity: 210.5 })), -110); // Go's int32(−110.5)
  t.is(initialExcessBurstCapacity(spec({ initialScale: 3, totalValue: 10, targetBurstCapacity: 5.5 })), 24);
});

test('§3.5 9: scale-down delay holds the largest decision for the delay', (t) => {
  const s = spec({ scaleDownDelayMs: 10_000 }); // 5 buckets of 2 s
  let state = createDeciderState(s, 0, 0);
  t.is(state.delay?.size, 5);
  const run = (stable: number, ready: number, nowMs: number): number => {
    const d = decide(s, state, stable, 0, ready, nowMs);
    state = d.state;
    return d.desiredPodCount;
  };
  t.is(run(700, 10, 0), 10); // ceil(700/70) = 10
  t.is(run(0, 10, 2000), 10); // wants floor(10/2) = 5, held at 10
  t.is(run(0, 10, 8000), 10); // bucket 4: 4 − 0 < 5, 10 still in the window
  t.is(run(0, 10, 10_000), 5); // bucket 5: 5 − 0 ≥ 5, 10 drops out
});

test('§3.5 9: the delay is not applied when unreachable', (t) => {
  const s = spec({ scaleDownDelayMs: 10_000, reachable: false });
  const state = createDeciderState(s, 0, 0);
  const first = decide(s, state, 700, 0, 10, 0);
  t.is(decide(s, first.state, 0, 0, 10, 2000).desiredPodCount, 0);
});

test('§3.5 9: several records in one 2 s bucket keep the largest', (t) => {
  let w: DelayWindow = { size: 3, maxima: [] };
  w = recordDelay(w, 0, 3);
  w = recordDelay(w, 1999, 1); // same bucket 0
  t.deepEqual(w.maxima, [{ index: 0, value: 3 }]);
  w = recordDelay(w, 2000, 2);
  w = recordDelay(w, 4000, 1);
  t.is(w.maxima[0]?.value, 3);
  w = recordDelay(w, 6000, 1); // bucket 3: 3 − 0 ≥ 3 drops the 3; 2 is the max
  t.is(w.maxima[0]?.value, 2);
});

test('KpaDecider.update: new settings take effect on the next decision, the panic state stays', (t) => {
  // Two ready pods: created in panic. Stable 140 against 100 × 0.7 = 70: 2 pods; against the
  // annotation's 10 × 0.7 = 7: 20 pods.
  const d = new KpaDecider(resolveRevisionAutoscaling({}, config(), 0), 2, NOW);
  t.is(d.decide(140, 140, 2, NOW + 2000).desiredPodCount, 2);
  d.update(resolveRevisionAutoscaling({ [`${G}target`]: '10' }, config(), 0));
  const after = d.decide(140, 140, 2, NOW + 4000);
  t.is(after.desiredPodCount, 20);
  t.true(after.panicking, 'the state created with the decider is kept');
});
