// The autoscaling settings in force for one revision: its annotations over config-autoscaler,
// plus the targets derived from containerConcurrency (spec §3.4, §4.9). The decider, scaler and
// metric windows take their inputs from here, so precedence lives in one place.
import { SECOND, parseDuration } from './duration.ts';
import { KPA_CLASS, HPA_CLASS, RPS_TARGET_UTILIZATION, TARGET_MIN, type AutoscalerConfig } from './autoscaler.ts';
import { getAnnotation, METRIC_CONCURRENCY, type AnnotationName, type Annotations } from './annotations.ts';
import { parseFloat64, parseInt64 } from './values.ts';

export type AggregationAlgorithm = 'linear' | 'weighted-exponential';

export interface RevisionAutoscaling {
  readonly class: string;
  /** `concurrency` or `rps` for the KPA; `cpu`, `memory` or custom for the HPA. */
  readonly metric: string;
  /** Per-pod value the autoscaler aims at: max(0.01, total × utilization). */
  readonly targetValue: number;
  /** Per-pod capacity before utilization: cc, the target annotation or the config default. */
  readonly totalValue: number;
  readonly targetUtilization: number;
  readonly targetBurstCapacity: number;
  /** Nanoseconds. */
  readonly stableWindow: number;
  readonly panicWindowPercentage: number;
  /** Rounded to whole seconds, at least 1 s. */
  readonly panicWindow: number;
  /** As a ratio: 200 % is 2. */
  readonly panicThreshold: number;
  readonly minScale: number;
  /** 0 means unlimited. */
  readonly maxScale: number;
  readonly initialScale: number;
  readonly activationScale: number;
  readonly scaleDownDelay: number;
  readonly scaleToZeroPodRetentionPeriod: number;
  readonly metricAggregationAlgorithm: AggregationAlgorithm;
  // Cluster-wide only.
  readonly maxScaleUpRate: number;
  readonly maxScaleDownRate: number;
  readonly activatorCapacity: number;
  readonly enableScaleToZero: boolean;
  readonly scaleToZeroGracePeriod: number;
}

function float(a: Annotations, name: AnnotationName): number | undefined {
  const found = getAnnotation(a, name);
  const p = found ? parseFloat64(found.value) : undefined;
  return p?.ok ? p.value : undefined;
}

function int(a: Annotations, name: AnnotationName): number | undefined {
  const found = getAnnotation(a, name);
  const p = found ? parseInt64(found.value) : undefined;
  return p?.ok ? p.value : undefined;
}

function duration(a: Annotations, name: AnnotationName): number | undefined {
  const found = getAnnotation(a, name);
  const d = found ? parseDuration(found.value) : undefined;
  return d?.ok ? d.ns : undefined;
}

/** Go's Duration.Round(time.Second): halves round away from zero. */
function roundToSecond(ns: number): number {
  const r = ns % SECOND;
  return r + r < SECOND ? ns - r : ns + (SECOND - r);
}

/** Knative's panic window: stable × percentage / 100, rounded to the second, at least 1 s. */
export function panicWindowOf(stableWindow: number, panicWindowPercentage: number): number {
  // Go converts the float product to a Duration by truncation before rounding.
  const raw = Math.trunc((stableWindow * panicWindowPercentage) / 100);
  return Math.max(SECOND, roundToSecond(raw));
}

/**
 * Resolves a revision's settings. Annotations are assumed validated (see annotations.ts); a
 * value that does not parse falls back to the config, as Knative's accessors do.
 */
export function resolveRevisionAutoscaling(annotations: Annotations, config: AutoscalerConfig, containerConcurrency: number): RevisionAutoscaling {
  const klass = getAnnotation(annotations, 'class')?.value ?? config.podAutoscalerClass;
  const metric = getAnnotation(annotations, 'metric')?.value ?? (klass === HPA_CLASS ? 'cpu' : METRIC_CONCURRENCY);

  let total: number;
  let utilization: number;
  if (metric === 'rps') {
    total = config.rpsTargetDefault;
    utilization = RPS_TARGET_UTILIZATION;
  } else {
    total = containerConcurrency > 0 ? containerConcurrency : config.containerConcurrencyTargetDefault;
    utilization = config.containerConcurrencyTargetFraction;
  }
  const target = float(annotations, 'target');
  if (target !== undefined) {
    total = metric === METRIC_CONCURRENCY && containerConcurrency !== 0 ? Math.min(target, containerConcurrency) : target;
  }
  const tuPercent = float(annotations, 'targetUtilizationPercentage');
  if (tuPercent !== undefined) utilization = tuPercent / 100;

  const stableWindow = duration(annotations, 'window') ?? config.stableWindow;
  const panicWindowPercentage = float(annotations, 'panicWindowPercentage') ?? config.panicWindowPercentage;
  const initial = int(annotations, 'initialScale');
  const algo = getAnnotation(annotations, 'metricAggregationAlgorithm')?.value;

  return {
    class: klass,
    metric,
    targetValue: Math.max(TARGET_MIN, total * utilization),
    totalValue: total,
    targetUtilization: utilization,
    targetBurstCapacity: float(annotations, 'targetBurstCapacity') ?? config.targetBurstCapacity,
    stableWindow,
    panicWindowPercentage,
    panicWindow: panicWindowOf(stableWindow, panicWindowPercentage),
    panicThreshold: (float(annotations, 'panicThresholdPercentage') ?? config.panicThresholdPercentage) / 100,
    minScale: int(annotations, 'minScale') ?? config.minScale,
    maxScale: int(annotations, 'maxScale') ?? config.maxScale,
    initialScale: initial !== undefined && (initial > 0 || config.allowZeroInitialScale) ? initial : config.initialScale,
    activationScale: int(annotations, 'activationScale') ?? 0,
    scaleDownDelay: duration(annotations, 'scaleDownDelay') ?? config.scaleDownDelay,
    scaleToZeroPodRetentionPeriod: duration(annotations, 'scaleToZeroPodRetentionPeriod') ?? config.scaleToZeroPodRetentionPeriod,
    metricAggregationAlgorithm: algo === 'weighted-exponential' || algo === 'weightedExponential' ? 'weighted-exponential' : 'linear',
    maxScaleUpRate: config.maxScaleUpRate,
    maxScaleDownRate: config.maxScaleDownRate,
    activatorCapacity: config.activatorCapacity,
    enableScaleToZero: config.enableScaleToZero,
    scaleToZeroGracePeriod: config.scaleToZeroGracePeriod,
  };
}

export const isKpa = (r: RevisionAutoscaling): boolean => r.class === KPA_CLASS;
