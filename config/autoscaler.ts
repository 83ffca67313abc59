// config-autoscaler: the cluster-wide KPA settings (spec §4.1), with Knative's keys, defaults
// and checks. Per-revision annotations override most of these (see revision-autoscaling.ts).
import { HOUR, SECOND } from './duration.ts';
import { atLeast, boolField, durationField, floatField, greaterThan, inRange, int32Field, stringField } from './fields.ts';
import { fieldMap, type CrossIssue } from './schema.ts';
import { fail, ok, parseFloat64, showNumber, type Parsed } from './values.ts';

export const KPA_CLASS = 'kpa.autoscaling.knative.dev';
export const HPA_CLASS = 'hpa.autoscaling.knative.dev';

/** Smallest target Knative allows for concurrency or RPS. */
export const TARGET_MIN = 0.01;
export const WINDOW_MIN = 6 * SECOND;
export const WINDOW_MAX = HOUR;
export const PANIC_WINDOW_PERCENTAGE_MIN = 1;
export const PANIC_WINDOW_PERCENTAGE_MAX = 100;
export const PANIC_THRESHOLD_PERCENTAGE_MIN = 110;
export const PANIC_THRESHOLD_PERCENTAGE_MAX = 1000;
/** The utilization RPS targets use; config-autoscaler's percentage does not apply to RPS. */
export const RPS_TARGET_UTILIZATION = 0.7;

export interface AutoscalerConfig {
  readonly podAutoscalerClass: string;
  readonly enableScaleToZero: boolean;
  readonly allowZeroInitialScale: boolean;
  readonly maxScaleUpRate: number;
  readonly maxScaleDownRate: number;
  /** `container-concurrency-target-percentage` as a fraction in (0, 1]. */
  readonly containerConcurrencyTargetFraction: number;
  readonly containerConcurrencyTargetDefault: number;
  readonly rpsTargetDefault: number;
  readonly targetBurstCapacity: number;
  readonly panicWindowPercentage: number;
  readonly panicThresholdPercentage: number;
  readonly activatorCapacity: number;
  readonly initialScale: number;
  readonly minScale: number;
  readonly maxScale: number;
  readonly maxScaleLimit: number;
  /** Durations in nanoseconds. */
  readonly stableWindow: number;
  readonly scaleDownDelay: number;
  readonly scaleToZeroGracePeriod: number;
  readonly scaleToZeroPodRetentionPeriod: number;
}

/**
 * Knative reads the percentage as a fraction when it is at most 1 and as a percent above that:
 * `1` is 100 %, `0.7` and `70` are both 70 %.
 */
function parseTargetPercentage(raw: string): Parsed<number> {
  const p = parseFloat64(raw);
  if (!p.ok) return p;
  const fraction = p.value > 1 ? p.value / 100 : p.value;
  if (fraction <= 0 || fraction > 1) {
    return fail('must be in (0, 100] (a value up to 1 is a fraction: 1 means 100 %)');
  }
  return ok(fraction);
}

const tbcCheck = (n: number) => (n < 0 && n !== -1 ? 'must be at least 0, or -1 for unlimited' : undefined);

export const autoscalerConfigMap = fieldMap<AutoscalerConfig>(
  'config-autoscaler',
  {
    podAutoscalerClass: stringField('pod-autoscaler-class', KPA_CLASS),
    enableScaleToZero: boolField('enable-scale-to-zero', true),
    allowZeroInitialScale: boolField('allow-zero-initial-scale', false),
    maxScaleUpRate: floatField('max-scale-up-rate', 1000, { check: greaterThan(1) }),
    maxScaleDownRate: floatField('max-scale-down-rate', 2, { check: greaterThan(1) }),
    containerConcurrencyTargetFraction: {
      key: 'container-concurrency-target-percentage',
      default: 0.7,
      parse: parseTargetPercentage,
    },
    containerConcurrencyTargetDefault: floatField('container-concurrency-target-default', 100),
    rpsTargetDefault: floatField('requests-per-second-target-default', 200, { check: atLeast(TARGET_MIN) }),
    targetBurstCapacity: floatField('target-burst-capacity', 211, { check: tbcCheck }),
    panicWindowPercentage: floatField('panic-window-percentage', 10, {
      check: inRange(PANIC_WINDOW_PERCENTAGE_MIN, PANIC_WINDOW_PERCENTAGE_MAX),
    }),
    // Knative checks no range here (only on the annotation); see the warning in validate.
    panicThresholdPercentage: floatField('panic-threshold-percentage', 200),
    activatorCapacity: floatField('activator-capacity', 100, { check: atLeast(1) }),
    initialScale: int32Field('initial-scale', 1, { check: atLeast(0) }),
    minScale: int32Field('min-scale', 0, { check: atLeast(0) }),
    maxScale: int32Field('max-scale', 0, { check: atLeast(0) }),
    maxScaleLimit: int32Field('max-scale-limit', 0, { check: atLeast(0) }),
    stableWindow: durationField('stable-window', 60 * SECOND, { min: WINDOW_MIN, max: WINDOW_MAX, wholeSeconds: true }),
    scaleDownDelay: durationField('scale-down-delay', 0, { min: 0, wholeSeconds: true }),
    scaleToZeroGracePeriod: durationField('scale-to-zero-grace-period', 30 * SECOND, { positive: true }),
    scaleToZeroPodRetentionPeriod: durationField('scale-to-zero-pod-retention-period', 0, { min: 0 }),
  },
  { validate: crossChecks, warn: autoscalerWarnings },
);

function crossChecks(c: AutoscalerConfig): CrossIssue[] {
  const issues: CrossIssue[] = [];
  const target = c.containerConcurrencyTargetFraction * c.containerConcurrencyTargetDefault;
  if (target < TARGET_MIN) {
    issues.push({
      key: 'container-concurrency-target-default',
      rule: `with container-concurrency-target-percentage ${showNumber(c.containerConcurrencyTargetFraction * 100)} % gives a target concurrency of ${showNumber(target)}, which is below ${TARGET_MIN}`,
    });
  }
  if (c.initialScale === 0 && !c.allowZeroInitialScale) {
    issues.push({ key: 'initial-scale', rule: 'must be at least 1 unless allow-zero-initial-scale is true' });
  }
  if (c.maxScaleLimit > 0 && (c.maxScale < 1 || c.maxScale > c.maxScaleLimit)) {
    issues.push({ key: 'max-scale', rule: `must be between 1 and max-scale-limit (${c.maxScaleLimit})` });
  }
  if (c.maxScale > 0 && c.minScale > c.maxScale) {
    issues.push({ key: 'min-scale', rule: `must be less than or equal to max-scale (${c.maxScale})` });
  }
  return issues;
}

/** Rules Knative does not enforce on the map but a setting almost surely did not mean. */
export function autoscalerWarnings(c: AutoscalerConfig): CrossIssue[] {
  const p = c.panicThresholdPercentage;
  return p < PANIC_THRESHOLD_PERCENTAGE_MIN || p > PANIC_THRESHOLD_PERCENTAGE_MAX
    ? [{ key: 'panic-threshold-percentage', rule: `is outside ${PANIC_THRESHOLD_PERCENTAGE_MIN}..${PANIC_THRESHOLD_PERCENTAGE_MAX}, the range Knative allows on the annotation` }]
    : [];
}
