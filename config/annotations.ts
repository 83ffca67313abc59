// Per-revision annotations (spec §4.9): the `autoscaling.knative.dev/*` keys with their
// camelCase aliases, and the serving, features and queue-sidecar keys Knative reads from a
// revision template. Validation collects every problem, each with our wording and with the
// message Knative's webhook gives (for the webhook's field-path style).
import { formatDuration, HOUR, isWholeSeconds, parseDuration } from './duration.ts';
import { HPA_CLASS, KPA_CLASS, PANIC_THRESHOLD_PERCENTAGE_MAX, PANIC_THRESHOLD_PERCENTAGE_MIN, PANIC_WINDOW_PERCENTAGE_MAX, PANIC_WINDOW_PERCENTAGE_MIN, TARGET_MIN, WINDOW_MAX, WINDOW_MIN, type AutoscalerConfig } from './autoscaler.ts';
import type { ConfigIssue } from './schema.ts';
import { parseFloat64, parseInt64, parseQuantity } from './values.ts';

export const AUTOSCALING_GROUP = 'autoscaling.knative.dev';
const G = `${AUTOSCALING_GROUP}/`;

/** Each annotation with its aliases, canonical (kebab-case) first: the first present wins. */
export const ANNOTATION_KEYS = {
  class: [`${G}class`],
  metric: [`${G}metric`],
  target: [`${G}target`],
  window: [`${G}window`],
  activationScale: [`${G}activation-scale`],
  minScale: [`${G}min-scale`, `${G}minScale`],
  maxScale: [`${G}max-scale`, `${G}maxScale`],
  initialScale: [`${G}initial-scale`, `${G}initialScale`],
  metricAggregationAlgorithm: [`${G}metric-aggregation-algorithm`, `${G}metricAggregationAlgorithm`],
  panicThresholdPercentage: [`${G}panic-threshold-percentage`, `${G}panicThresholdPercentage`],
  panicWindowPercentage: [`${G}panic-window-percentage`, `${G}panicWindowPercentage`],
  scaleDownDelay: [`${G}scale-down-delay`, `${G}scaleDownDelay`],
  scaleToZeroPodRetentionPeriod: [`${G}scale-to-zero-pod-retention-period`, `${G}scaleToZeroPodRetentionPeriod`],
  targetBurstCapacity: [`${G}target-burst-capacity`, `${G}targetBurstCapacity`],
  targetUtilizationPercentage: [`${G}target-utilization-percentage`, `${G}targetUtilizationPercentage`],
} as const;

export type AnnotationName = keyof typeof ANNOTATION_KEYS;

export const PROGRESS_DEADLINE_ANNOTATION = 'serving.knative.dev/progress-deadline';
export const HTTP_FULL_DUPLEX_ANNOTATION = 'features.knative.dev/http-full-duplex';
export const QUEUE_PROXY_PODINFO_ANNOTATION = 'features.knative.dev/queueproxy-podinfo';
export const QUEUE_RESOURCE_PERCENTAGE_ANNOTATIONS = [
  'queue.sidecar.serving.knative.dev/resource-percentage',
  'queue.sidecar.serving.knative.dev/resourcePercentage',
] as const;
export const QUEUE_RESOURCE_ANNOTATIONS = ['cpu', 'memory', 'ephemeral-storage'].flatMap((r) =>
  ['request', 'limit'].map((k) => `queue.sidecar.serving.knative.dev/${r}-resource-${k}`),
);

export const METRIC_CONCURRENCY = 'concurrency';
export const METRIC_RPS = 'rps';
export const AGGREGATION_ALGORITHMS = ['linear', 'weighted-exponential', 'weightedExponential'] as const;

export type Annotations = Readonly<Record<string, string>>;

const INT32_MAX = 2 ** 31 - 1;

/** The first present key of an annotation's priority list. */
export function getAnnotation(annotations: Annotations, name: AnnotationName): { key: string; value: string } | undefined {
  for (const key of ANNOTATION_KEYS[name]) {
    const value = annotations[key];
    if (value !== undefined) return { key, value };
  }
  return undefined;
}

const SOURCE = 'annotations';

class Collector {
  readonly issues: ConfigIssue[] = [];
  add(key: string, value: string | undefined, rule: string, knative: string): void {
    this.issues.push({ source: SOURCE, key, value, rule, knative });
  }
}

/** An int32 ≥ 0 (min/max scale); undefined when absent or broken, which counts as 0 after. */
function int32AtLeast0(c: Collector, a: Annotations, name: AnnotationName): number | undefined {
  const found = getAnnotation(a, name);
  if (!found) return undefined;
  const p = parseInt64(found.value);
  if (!p.ok) {
    c.add(found.key, found.value, 'must be a whole number', `invalid value: ${found.value}`);
    return undefined;
  }
  if (p.value < 0 || p.value > INT32_MAX) {
    c.add(found.key, found.value, `must be between 0 and ${INT32_MAX}`, `expected 0 <= ${found.value} <= ${INT32_MAX}`);
    return undefined;
  }
  return p.value;
}

function floatIn(c: Collector, a: Annotations, name: AnnotationName, min: number, max: number): void {
  const found = getAnnotation(a, name);
  if (!found) return;
  const p = parseFloat64(found.value);
  if (!p.ok) c.add(found.key, found.value, p.rule, `invalid value: ${found.value}`);
  else if (p.value < min || p.value > max) c.add(found.key, found.value, `must be between ${min} and ${max}`, `expected ${min} <= ${found.value} <= ${max}`);
}

function durationIn(c: Collector, a: Annotations, name: AnnotationName, min: number, max: number, wholeSeconds: boolean): void {
  const found = getAnnotation(a, name);
  if (!found) return;
  // Knative reports the window under its canonical key whatever spelling was used.
  const key = name === 'window' ? ANNOTATION_KEYS.window[0] : found.key;
  const d = parseDuration(found.value);
  if (!d.ok) {
    c.add(key, found.value, 'must be a duration such as 30s, 1m30s or 500ms', `invalid value: ${found.value}`);
  } else if (d.ns < min || d.ns > max) {
    c.add(key, found.value, `must be between ${formatDuration(min)} and ${formatDuration(max)}`, `expected ${formatDuration(min)} <= ${found.value} <= ${formatDuration(max)}`);
  } else if (wholeSeconds && !isWholeSeconds(d.ns)) {
    c.add(key, found.value, 'must be a whole number of seconds', 'must be specified with at most second precision');
  }
}

/**
 * Validates the annotations of a revision template against config-autoscaler, in Knative's
 * order, collecting every problem.
 */
export function validateAnnotations(a: Annotations, config: AutoscalerConfig): ConfigIssue[] {
  const c = new Collector();

  const cls = getAnnotation(a, 'class');
  if (cls && cls.value.endsWith('.knative.dev') && cls.value !== KPA_CLASS && cls.value !== HPA_CLASS) {
    c.add(cls.key, cls.value, `must be ${KPA_CLASS} or ${HPA_CLASS} (or a class outside knative.dev)`, `invalid value: ${cls.value}`);
  }

  // Scale bounds.
  const min = int32AtLeast0(c, a, 'minScale') ?? 0;
  const maxFound = getAnnotation(a, 'maxScale');
  const max = int32AtLeast0(c, a, 'maxScale') ?? 0;
  if (max !== 0 && max < min) {
    c.add(ANNOTATION_KEYS.maxScale[0], maxFound?.value, `must not be less than min-scale (${min})`, `max-scale=${max} is less than min-scale=${min}`);
  }
  if (maxFound && config.maxScaleLimit > 0) {
    if (max > config.maxScaleLimit) {
      c.add(maxFound.key, maxFound.value, `must be between 1 and max-scale-limit (${config.maxScaleLimit})`, `expected 1 <= ${max} <= ${config.maxScaleLimit}`);
    } else if (max === 0) {
      c.add(maxFound.key, maxFound.value, `must be between 1 and max-scale-limit (${config.maxScaleLimit}); 0 (unlimited) is not allowed`, `max-scale=0 (unlimited), must be less than ${config.maxScaleLimit}`);
    }
  }
  const act = getAnnotation(a, 'activationScale');
  if (act) {
    const p = parseInt64(act.value);
    if (!p.ok || p.value < -(2 ** 31) || p.value > INT32_MAX) {
      c.add(act.key, act.value, 'must be a whole number', `invalid value: ${act.value}`);
    } else if (min > p.value) {
      c.add(act.key, act.value, `must not be less than min-scale (${min})`, `min-scale=${min} is greater than activation-scale=${p.value}`);
    } else if (max !== 0 && max < p.value) {
      c.add(act.key, act.value, `must not be greater than max-scale (${max})`, `max-scale=${max} is less than activation-scale=${p.value}`);
    } else if (p.value < 2) {
      c.add(act.key, act.value, 'must be at least 2', `activation-scale=${p.value} must be greater than 1`);
    }
  }

  // Floats.
  floatIn(c, a, 'panicWindowPercentage', PANIC_WINDOW_PERCENTAGE_MIN, PANIC_WINDOW_PERCENTAGE_MAX);
  floatIn(c, a, 'panicThresholdPercentage', PANIC_THRESHOLD_PERCENTAGE_MIN, PANIC_THRESHOLD_PERCENTAGE_MAX);
  const target = getAnnotation(a, 'target');
  if (target) {
    const p = parseFloat64(target.value);
    if (!p.ok) c.add(target.key, target.value, p.rule, `invalid value: ${target.value}`);
    else if (p.value < TARGET_MIN) c.add(target.key, target.value, `must be at least ${TARGET_MIN}`, `target ${target.value} should be at least ${TARGET_MIN}`);
  }
  floatIn(c, a, 'targetUtilizationPercentage', 1, 100);
  const tbc = getAnnotation(a, 'targetBurstCapacity');
  if (tbc) {
    const p = parseFloat64(tbc.value);
    if (!p.ok || (p.value < 0 && p.value !== -1)) {
      c.add(tbc.key, tbc.value, 'must be at least 0, or -1 for unlimited', `invalid value: ${tbc.value}`);
    }
  }

  // Durations.
  durationIn(c, a, 'window', WINDOW_MIN, WINDOW_MAX, true);
  durationIn(c, a, 'scaleToZeroPodRetentionPeriod', 0, HOUR, false);
  durationIn(c, a, 'scaleDownDelay', 0, HOUR, true);

  // Metric, judged against the class in force (annotation, else the config's).
  const metric = getAnnotation(a, 'metric');
  if (metric) {
    const klass = cls?.value ?? config.podAutoscalerClass;
    const valid = klass === KPA_CLASS ? metric.value === METRIC_CONCURRENCY || metric.value === METRIC_RPS : klass === HPA_CLASS ? metric.value !== '' : true;
    if (!valid) {
      const rule = klass === KPA_CLASS ? `must be ${METRIC_CONCURRENCY} or ${METRIC_RPS} for the KPA` : 'must not be empty';
      c.add(ANNOTATION_KEYS.metric[0], metric.value, rule, `invalid value: ${metric.value}`);
    }
  }

  // Knative checks the algorithm only when the class annotation itself says KPA.
  const algo = getAnnotation(a, 'metricAggregationAlgorithm');
  if (algo && algo.value !== '' && cls?.value === KPA_CLASS && !(AGGREGATION_ALGORITHMS as readonly string[]).includes(algo.value)) {
    c.add(algo.key, algo.value, `must be one of ${AGGREGATION_ALGORITHMS.join(', ')}`, `invalid value: ${algo.value}`);
  }

  const initial = getAnnotation(a, 'initialScale');
  if (initial) {
    const p = parseInt64(initial.value);
    if (!p.ok) c.add(initial.key, initial.value, 'must be a whole number', `invalid value: ${initial.value}`);
    else if (p.value < 0) c.add(initial.key, initial.value, 'must be at least 0', `invalid value: ${initial.value}`);
    else if (p.value === 0 && !config.allowZeroInitialScale) {
      c.add(initial.key, initial.value, 'must be at least 1 unless config-autoscaler allow-zero-initial-scale is true', 'invalid value: 0');
    }
  }
  return c.issues;
}

/** The serving/features/queue-sidecar annotations of a revision template (§4.9). */
export function validateServingAnnotations(a: Annotations): { errors: ConfigIssue[]; warnings: ConfigIssue[] } {
  const c = new Collector();
  const warnings: ConfigIssue[] = [];
  const pd = a[PROGRESS_DEADLINE_ANNOTATION];
  if (pd !== undefined) {
    const d = parseDuration(pd);
    if (!d.ok) c.add(PROGRESS_DEADLINE_ANNOTATION, pd, 'must be a duration such as 600s', `invalid value: ${pd}`);
    else if (d.ns < 0) c.add(PROGRESS_DEADLINE_ANNOTATION, pd, 'must not be negative', `invalid value: ${pd}`);
    else if (!isWholeSeconds(d.ns)) c.add(PROGRESS_DEADLINE_ANNOTATION, pd, 'must be a whole number of seconds', 'must be specified with at most second precision');
  }
  for (const key of QUEUE_RESOURCE_ANNOTATIONS) {
    const v = a[key];
    if (v !== undefined && !parseQuantity(v).ok) c.add(key, v, 'must be a Kubernetes quantity such as 100m or 128Mi', `invalid value: ${v}`);
  }
  for (const key of QUEUE_RESOURCE_PERCENTAGE_ANNOTATIONS) {
    const v = a[key];
    if (v === undefined) continue;
    const p = parseFloat64(v);
    if (!p.ok) c.add(key, v, p.rule, `invalid value: ${v}`);
    else if (p.value < 0.1 || p.value > 100) c.add(key, v, 'must be between 0.1 and 100', `expected 0.1 <= ${v} <= 100`);
    else warnings.push({ source: SOURCE, key, value: v, rule: 'is deprecated; set the queue.sidecar.serving.knative.dev/*-resource-* annotations instead' });
    break;
  }
  return { errors: c.issues, warnings };
}

/**
 * Autoscaling annotations belong on the revision template; Knative rejects them on the
 * metadata of a Service, Configuration or Route.
 */
export function misplacedAutoscalingAnnotations(a: Annotations): ConfigIssue[] {
  return Object.keys(a)
    .filter((k) => k.startsWith(AUTOSCALING_GROUP))
    .sort()
    .map((key) => ({
      source: SOURCE,
      key,
      value: a[key],
      rule: 'must be put under spec.template.metadata.annotations to take effect',
      knative: 'autoscaling annotations must be put under "spec.template.metadata.annotations" to work',
    }));
}
