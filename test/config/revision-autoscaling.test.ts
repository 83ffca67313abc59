// Precedence of a revision's annotations over config-autoscaler, and the derived targets and
// panic window, worked out by hand from spec §3.4.
import test from 'ava';
import { autoscalerConfigMap, type AutoscalerConfig } from '../../config/autoscaler.ts';
import { SECOND } from '../../config/duration.ts';
import { panicWindowOf, resolveRevisionAutoscaling } from '../../config/revision-autoscaling.ts';

const G = 'autoscaling.knative.dev/';
const config = (data: Record<string, string> = {}): AutoscalerConfig => {
  const r = autoscalerConfigMap.parse(data);
  if (!r.ok) throw new Error('bad test config');
  return r.config;
};

// [name, annotations, config data, containerConcurrency, expected totalValue, expected targetValue]
const targets: [string, Record<string, string>, Record<string, string>, number, number, number][] = [
  ['cc=0 uses the config default', {}, {}, 0, 100, 70],
  ['cc=10 caps the total', {}, {}, 10, 10, 7],
  ['cc=10 and target=5', { [`${G}target`]: '5' }, {}, 10, 5, 3.5],
  ['target above cc is capped at cc', { [`${G}target`]: '50' }, {}, 10, 10, 7],
  ['target with cc=0 is used as is', { [`${G}target`]: '50' }, {}, 0, 50, 35],
  ['rps default', { [`${G}metric`]: 'rps' }, {}, 0, 200, 140],
  ['rps ignores the config percentage', { [`${G}metric`]: 'rps' }, { 'container-concurrency-target-percentage': '50' }, 0, 200, 140],
  ['rps target is not capped by cc', { [`${G}metric`]: 'rps', [`${G}target`]: '30' }, {}, 10, 30, 21],
  ['config percentage 1 means 100 %', {}, { 'container-concurrency-target-percentage': '1' }, 0, 100, 100],
  ['annotation utilization 1 means 1 %', { [`${G}target-utilization-percentage`]: '1' }, {}, 0, 100, 1],
  ['annotation utilization overrides config', { [`${G}target-utilization-percentage`]: '50' }, { 'container-concurrency-target-percentage': '90' }, 4, 4, 2],
  ['targets never drop below 0.01', { [`${G}target`]: '0.01', [`${G}target-utilization-percentage`]: '1' }, {}, 0, 0.01, 0.01],
  ['3 × 0.7 keeps float64 digits', {}, {}, 3, 3, 3 * 0.7],
];

for (const [name, ann, data, cc, total, target] of targets) {
  test(`target: ${name}`, (t) => {
    const r = resolveRevisionAutoscaling(ann, config(data), cc);
    t.is(r.totalValue, total);
    t.is(r.targetValue, target);
  });
}

test('annotations win over config; config applies when absent', (t) => {
  const cfg = config({
    'stable-window': '2m',
    'panic-window-percentage': '20',
    'panic-threshold-percentage': '300',
    'target-burst-capacity': '100',
    'min-scale': '1',
    'max-scale': '8',
    'initial-scale': '2',
    'scale-down-delay': '10s',
    'scale-to-zero-pod-retention-period': '5s',
  });
  const fromConfig = resolveRevisionAutoscaling({}, cfg, 0);
  t.like(fromConfig, {
    stableWindow: 120 * SECOND,
    panicWindowPercentage: 20,
    panicWindow: 24 * SECOND,
    panicThreshold: 3,
    targetBurstCapacity: 100,
    minScale: 1,
    maxScale: 8,
    initialScale: 2,
    activationScale: 0,
    scaleDownDelay: 10 * SECOND,
    scaleToZeroPodRetentionPeriod: 5 * SECOND,
    metricAggregationAlgorithm: 'linear',
    class: 'kpa.autoscaling.knative.dev',
    metric: 'concurrency',
  });
  const fromAnnotations = resolveRevisionAutoscaling(
    {
      [`${G}window`]: '30s',
      [`${G}panicWindowPercentage`]: '50',
      [`${G}panic-threshold-percentage`]: '150',
      [`${G}targetBurstCapacity`]: '-1',
      [`${G}min-scale`]: '2',
      [`${G}maxScale`]: '4',
      [`${G}initial-scale`]: '3',
      [`${G}activation-scale`]: '3',
      [`${G}scale-down-delay`]: '0s',
      [`${G}scale-to-zero-pod-retention-period`]: '1m',
      [`${G}metric-aggregation-algorithm`]: 'weightedExponential',
    },
    cfg,
    0,
  );
  t.like(fromAnnotations, {
    stableWindow: 30 * SECOND,
    panicWindowPercentage: 50,
    panicWindow: 15 * SECOND,
    panicThreshold: 1.5,
    targetBurstCapacity: -1,
    minScale: 2,
    maxScale: 4,
    initialScale: 3,
    activationScale: 3,
    scaleDownDelay: 0,
    scaleToZeroPodRetentionPeriod: 60 * SECOND,
    metricAggregationAlgorithm: 'weighted-exponential',
  });
});

test('kebab-case annotation wins over its camelCase alias', (t) => {
  const r = resolveRevisionAutoscaling({ [`${G}minScale`]: '1', [`${G}min-scale`]: '5' }, config(), 0);
  t.is(r.minScale, 5);
});

test('initial-scale 0 from an annotation needs allow-zero-initial-scale', (t) => {
  t.is(resolveRevisionAutoscaling({ [`${G}initial-scale`]: '0' }, config(), 0).initialScale, 1);
  t.is(resolveRevisionAutoscaling({ [`${G}initial-scale`]: '0' }, config({ 'allow-zero-initial-scale': 'true' }), 0).initialScale, 0);
});

test('HPA class defaults the metric to cpu', (t) => {
  t.is(resolveRevisionAutoscaling({ [`${G}class`]: 'hpa.autoscaling.knative.dev' }, config(), 0).metric, 'cpu');
  t.is(resolveRevisionAutoscaling({}, config({ 'pod-autoscaler-class': 'hpa.autoscaling.knative.dev' }), 0).metric, 'cpu');
});

test('panic window: round to the second, at least 1 s', (t) => {
  t.is(panicWindowOf(60 * SECOND, 10), 6 * SECOND);
  t.is(panicWindowOf(45 * SECOND, 10), 5 * SECOND); // 4.5 s rounds up
  t.is(panicWindowOf(44 * SECOND, 10), 4 * SECOND); // 4.4 s rounds down
  t.is(panicWindowOf(6 * SECOND, 10), SECOND); // 0.6 s → 1 s
  t.is(panicWindowOf(6 * SECOND, 1), SECOND); // 0.06 s → 0 → at least 1 s
  t.is(panicWindowOf(3600 * SECOND, 100), 3600 * SECOND);
});

test('cluster-wide settings pass through', (t) => {
  const r = resolveRevisionAutoscaling({}, config({ 'max-scale-up-rate': '10', 'max-scale-down-rate': '4', 'activator-capacity': '50', 'enable-scale-to-zero': 'false', 'scale-to-zero-grace-period': '45s' }), 0);
  t.like(r, { maxScaleUpRate: 10, maxScaleDownRate: 4, activatorCapacity: 50, enableScaleToZero: false, scaleToZeroGracePeriod: 45 * SECOND });
});
