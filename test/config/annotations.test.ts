// Per-revision annotations: ranges and Knative's messages for every autoscaling key, the
// serving/queue-sidecar keys, and misplaced annotations.
import test from 'ava';
import { autoscalerConfigMap, type AutoscalerConfig } from '../../config/autoscaler.ts';
import { getAnnotation, misplacedAutoscalingAnnotations, validateAnnotations, validateServingAnnotations } from '../../config/annotations.ts';
import { formatIssue } from '../../config/schema.ts';

const defaults = autoscalerConfigMap.defaults();
const G = 'autoscaling.knative.dev/';
const with_ = (over: Partial<AutoscalerConfig>): AutoscalerConfig => ({ ...defaults, ...over });

test('aliases: the kebab-case key wins over the camelCase one', (t) => {
  t.deepEqual(getAnnotation({ [`${G}minScale`]: '2', [`${G}min-scale`]: '3' }, 'minScale'), { key: `${G}min-scale`, value: '3' });
  t.deepEqual(getAnnotation({ [`${G}minScale`]: '2' }, 'minScale'), { key: `${G}minScale`, value: '2' });
  t.is(getAnnotation({}, 'minScale'), undefined);
});

// [annotations, config overrides] that are valid
const valid: [Record<string, string>, Partial<AutoscalerConfig>][] = [
  [{}, {}],
  [{ [`${G}class`]: 'kpa.autoscaling.knative.dev' }, {}],
  [{ [`${G}class`]: 'hpa.autoscaling.knative.dev', [`${G}metric`]: 'cpu' }, {}],
  [{ [`${G}class`]: 'custom.example.com', [`${G}metric`]: 'anything' }, {}],
  [{ [`${G}metric`]: 'rps' }, {}],
  [{ [`${G}metric`]: 'concurrency' }, {}],
  [{ [`${G}target`]: '0.01' }, {}],
  [{ [`${G}target-utilization-percentage`]: '1' }, {}],
  [{ [`${G}targetUtilizationPercentage`]: '100' }, {}],
  [{ [`${G}target-burst-capacity`]: '-1' }, {}],
  [{ [`${G}target-burst-capacity`]: '0' }, {}],
  [{ [`${G}window`]: '6s' }, {}],
  [{ [`${G}window`]: '1h' }, {}],
  [{ [`${G}panic-window-percentage`]: '1' }, {}],
  [{ [`${G}panic-threshold-percentage`]: '110' }, {}],
  [{ [`${G}panicThresholdPercentage`]: '1000' }, {}],
  [{ [`${G}min-scale`]: '1', [`${G}max-scale`]: '1' }, {}],
  [{ [`${G}max-scale`]: '5' }, { maxScaleLimit: 5 }],
  [{ [`${G}initial-scale`]: '0' }, { allowZeroInitialScale: true }],
  [{ [`${G}initialScale`]: '5' }, {}],
  [{ [`${G}activation-scale`]: '2', [`${G}min-scale`]: '1', [`${G}max-scale`]: '3' }, {}],
  [{ [`${G}scale-down-delay`]: '0s' }, {}],
  [{ [`${G}scale-down-delay`]: '1h' }, {}],
  [{ [`${G}scale-to-zero-pod-retention-period`]: '1m30.5s' }, {}],
  [{ [`${G}metric-aggregation-algorithm`]: 'weightedExponential', [`${G}class`]: 'kpa.autoscaling.knative.dev' }, {}],
  // Only checked when the class annotation says KPA.
  [{ [`${G}metric-aggregation-algorithm`]: 'bogus' }, {}],
];

for (const [a, over] of valid) {
  test(`valid ${JSON.stringify(a)} ${JSON.stringify(over)}`, (t) => {
    t.deepEqual(validateAnnotations(a, with_(over)).map(formatIssue), []);
  });
}

// [annotations, config overrides, our message, Knative's message]
const invalid: [Record<string, string>, Partial<AutoscalerConfig>, string, string][] = [
  [{ [`${G}class`]: 'foo.knative.dev' }, {}, `annotations: ${G}class: "foo.knative.dev" must be kpa.autoscaling.knative.dev or hpa.autoscaling.knative.dev (or a class outside knative.dev)`, 'invalid value: foo.knative.dev'],
  [{ [`${G}min-scale`]: 'x' }, {}, `annotations: ${G}min-scale: "x" must be a whole number`, 'invalid value: x'],
  [{ [`${G}minScale`]: '-1' }, {}, `annotations: ${G}minScale: "-1" must be between 0 and 2147483647`, 'expected 0 <= -1 <= 2147483647'],
  [{ [`${G}max-scale`]: '3000000000' }, {}, `annotations: ${G}max-scale: "3000000000" must be between 0 and 2147483647`, 'expected 0 <= 3000000000 <= 2147483647'],
  [{ [`${G}min-scale`]: '5', [`${G}maxScale`]: '3' }, {}, `annotations: ${G}max-scale: "3" must not be less than min-scale (5)`, 'max-scale=3 is less than min-scale=5'],
  [{ [`${G}max-scale`]: '11' }, { maxScaleLimit: 10 }, `annotations: ${G}max-scale: "11" must be between 1 and max-scale-limit (10)`, 'expected 1 <= 11 <= 10'],
  [{ [`${G}max-scale`]: '0' }, { maxScaleLimit: 10 }, `annotations: ${G}max-scale: "0" must be between 1 and max-scale-limit (10); 0 (unlimited) is not allowed`, 'max-scale=0 (unlimited), must be less than 10'],
  [{ [`${G}activation-scale`]: 'two' }, {}, `annotations: ${G}activation-scale: "two" must be a whole number`, 'invalid value: two'],
  [{ [`${G}activation-scale`]: '2', [`${G}min-scale`]: '3' }, {}, `annotations: ${G}activation-scale: "2" must not be less than min-scale (3)`, 'min-scale=3 is greater than activation-scale=2'],
  [{ [`${G}activation-scale`]: '5', [`${G}max-scale`]: '4' }, {}, `annotations: ${G}activation-scale: "5" must not be greater than max-scale (4)`, 'max-scale=4 is less than activation-scale=5'],
  [{ [`${G}activation-scale`]: '1' }, {}, `annotations: ${G}activation-scale: "1" must be at least 2`, 'activation-scale=1 must be greater than 1'],
  [{ [`${G}panic-window-percentage`]: '0.5' }, {}, `annotations: ${G}panic-window-percentage: "0.5" must be between 1 and 100`, 'expected 1 <= 0.5 <= 100'],
  [{ [`${G}panicWindowPercentage`]: 'lots' }, {}, `annotations: ${G}panicWindowPercentage: "lots" must be a number`, 'invalid value: lots'],
  [{ [`${G}panic-threshold-percentage`]: '100' }, {}, `annotations: ${G}panic-threshold-percentage: "100" must be between 110 and 1000`, 'expected 110 <= 100 <= 1000'],
  [{ [`${G}target`]: '0.001' }, {}, `annotations: ${G}target: "0.001" must be at least 0.01`, 'target 0.001 should be at least 0.01'],
  [{ [`${G}target`]: 'ten' }, {}, `annotations: ${G}target: "ten" must be a number`, 'invalid value: ten'],
  [{ [`${G}target-utilization-percentage`]: '0.5' }, {}, `annotations: ${G}target-utilization-percentage: "0.5" must be between 1 and 100`, 'expected 1 <= 0.5 <= 100'],
  [{ [`${G}target-burst-capacity`]: '-2' }, {}, `annotations: ${G}target-burst-capacity: "-2" must be at least 0, or -1 for unlimited`, 'invalid value: -2'],
  [{ [`${G}window`]: '5s' }, {}, `annotations: ${G}window: "5s" must be between 6s and 1h0m0s`, 'expected 6s <= 5s <= 1h0m0s'],
  [{ [`${G}window`]: '61m' }, {}, `annotations: ${G}window: "61m" must be between 6s and 1h0m0s`, 'expected 6s <= 61m <= 1h0m0s'],
  [{ [`${G}window`]: '6500ms' }, {}, `annotations: ${G}window: "6500ms" must be a whole number of seconds`, 'must be specified with at most second precision'],
  [{ [`${G}window`]: '60' }, {}, `annotations: ${G}window: "60" must be a duration such as 30s, 1m30s or 500ms`, 'invalid value: 60'],
  [{ [`${G}scale-down-delay`]: '-1s' }, {}, `annotations: ${G}scale-down-delay: "-1s" must be between 0s and 1h0m0s`, 'expected 0s <= -1s <= 1h0m0s'],
  [{ [`${G}scaleDownDelay`]: '1.5s' }, {}, `annotations: ${G}scaleDownDelay: "1.5s" must be a whole number of seconds`, 'must be specified with at most second precision'],
  [{ [`${G}scale-to-zero-pod-retention-period`]: '2h' }, {}, `annotations: ${G}scale-to-zero-pod-retention-period: "2h" must be between 0s and 1h0m0s`, 'expected 0s <= 2h <= 1h0m0s'],
  [{ [`${G}metric`]: 'cpu' }, {}, `annotations: ${G}metric: "cpu" must be concurrency or rps for the KPA`, 'invalid value: cpu'],
  [{ [`${G}metric`]: '', [`${G}class`]: 'hpa.autoscaling.knative.dev' }, {}, `annotations: ${G}metric: "" must not be empty`, 'invalid value: '],
  [{ [`${G}metric`]: 'memory' }, { podAutoscalerClass: 'kpa.autoscaling.knative.dev' }, `annotations: ${G}metric: "memory" must be concurrency or rps for the KPA`, 'invalid value: memory'],
  [{ [`${G}class`]: 'kpa.autoscaling.knative.dev', [`${G}metric-aggregation-algorithm`]: 'max' }, {}, `annotations: ${G}metric-aggregation-algorithm: "max" must be one of linear, weighted-exponential, weightedExponential`, 'invalid value: max'],
  [{ [`${G}initial-scale`]: 'x' }, {}, `annotations: ${G}initial-scale: "x" must be a whole number`, 'invalid value: x'],
  [{ [`${G}initial-scale`]: '-1' }, {}, `annotations: ${G}initial-scale: "-1" must be at least 0`, 'invalid value: -1'],
  [{ [`${G}initialScale`]: '0' }, {}, `annotations: ${G}initialScale: "0" must be at least 1 unless config-autoscaler allow-zero-initial-scale is true`, 'invalid value: 0'],
];

for (const [a, over, ours, knative] of invalid) {
  test(`invalid ${JSON.stringify(a)} ${JSON.stringify(over)}`, (t) => {
    const issues = validateAnnotations(a, with_(over));
    t.deepEqual(issues.map(formatIssue), [ours]);
    t.is(issues[0]?.knative, knative);
  });
}

test('every annotation problem is reported at once', (t) => {
  const issues = validateAnnotations({ [`${G}window`]: '1s', [`${G}target`]: '0', [`${G}min-scale`]: '-3', [`${G}initial-scale`]: 'x' }, defaults);
  t.deepEqual(issues.map((i) => i.key), [`${G}min-scale`, `${G}target`, `${G}window`, `${G}initial-scale`]);
});

test('annotation spellings Knative does not read are not validated', (t) => {
  // Knative has no window alias: autoscaling.knative.dev/stableWindow is just an unread key.
  t.deepEqual(validateAnnotations({ [`${G}stableWindow`]: '1s' }, defaults), []);
});

test('serving annotations: progress deadline, queue resources, deprecated percentage', (t) => {
  const ok = validateServingAnnotations({
    'serving.knative.dev/progress-deadline': '120s',
    'queue.sidecar.serving.knative.dev/cpu-resource-request': '100m',
    'queue.sidecar.serving.knative.dev/memory-resource-limit': '256Mi',
  });
  t.deepEqual(ok, { errors: [], warnings: [] });
  const bad = validateServingAnnotations({
    'serving.knative.dev/progress-deadline': '1.5s',
    'queue.sidecar.serving.knative.dev/cpu-resource-request': 'lots',
    'queue.sidecar.serving.knative.dev/resource-percentage': '200',
  });
  t.deepEqual(bad.errors.map(formatIssue), [
    'annotations: serving.knative.dev/progress-deadline: "1.5s" must be a whole number of seconds',
    'annotations: queue.sidecar.serving.knative.dev/cpu-resource-request: "lots" must be a Kubernetes quantity such as 100m or 128Mi',
    'annotations: queue.sidecar.serving.knative.dev/resource-percentage: "200" must be between 0.1 and 100',
  ]);
  const deprecated = validateServingAnnotations({ 'queue.sidecar.serving.knative.dev/resourcePercentage': '20' });
  t.deepEqual(deprecated.errors, []);
  t.is(deprecated.warnings.length, 1);
  t.regex(formatIssue(deprecated.warnings[0]!), /is deprecated/);
  t.deepEqual(validateServingAnnotations({ 'serving.knative.dev/progress-deadline': 'soon' }).errors.map((e) => e.knative), ['invalid value: soon']);
});

test('autoscaling annotations outside the template are rejected with Knative\'s message', (t) => {
  const issues = misplacedAutoscalingAnnotations({ [`${G}min-scale`]: '1', 'example.com/x': 'y', [`${G}class`]: 'kpa.autoscaling.knative.dev' });
  t.deepEqual(issues.map((i) => i.key), [`${G}class`, `${G}min-scale`]);
  t.is(issues[0]?.knative, 'autoscaling annotations must be put under "spec.template.metadata.annotations" to work');
});
