// config-autoscaler: every key's default, a valid value, and each invalid class, table-driven.
import test from 'ava';
import { validRows, invalidRows } from '../helpers/config-table.ts';
import { autoscalerConfigMap, type AutoscalerConfig } from '../../config/autoscaler.ts';
import { formatIssue } from '../../config/schema.ts';
import { SECOND, MINUTE } from '../../config/duration.ts';

const parse = (data: Record<string, string>) => autoscalerConfigMap.parse(data);

test('defaults match Knative', (t) => {
  const expected: AutoscalerConfig = {
    podAutoscalerClass: 'kpa.autoscaling.knative.dev',
    enableScaleToZero: true,
    allowZeroInitialScale: false,
    maxScaleUpRate: 1000,
    maxScaleDownRate: 2,
    containerConcurrencyTargetFraction: 0.7,
    containerConcurrencyTargetDefault: 100,
    rpsTargetDefault: 200,
    targetBurstCapacity: 211,
    panicWindowPercentage: 10,
    panicThresholdPercentage: 200,
    activatorCapacity: 100,
    initialScale: 1,
    minScale: 0,
    maxScale: 0,
    maxScaleLimit: 0,
    stableWindow: 60 * SECOND,
    scaleDownDelay: 0,
    scaleToZeroGracePeriod: 30 * SECOND,
    scaleToZeroPodRetentionPeriod: 0,
  };
  t.deepEqual(autoscalerConfigMap.defaults(), expected);
  const empty = parse({});
  t.true(empty.ok);
  if (empty.ok) t.deepEqual(empty.config, expected);
});

// [key, value, field, parsed value]
const valid: [string, string, keyof AutoscalerConfig, unknown][] = [
  ['pod-autoscaler-class', 'hpa.autoscaling.knative.dev', 'podAutoscalerClass', 'hpa.autoscaling.knative.dev'],
  ['enable-scale-to-zero', 'false', 'enableScaleToZero', false],
  ['enable-scale-to-zero', 'F', 'enableScaleToZero', false],
  ['allow-zero-initial-scale', 'true', 'allowZeroInitialScale', true],
  ['max-scale-up-rate', '10.5', 'maxScaleUpRate', 10.5],
  ['max-scale-down-rate', '1.01', 'maxScaleDownRate', 1.01],
  ['container-concurrency-target-percentage', '70', 'containerConcurrencyTargetFraction', 0.7],
  ['container-concurrency-target-percentage', '0.5', 'containerConcurrencyTargetFraction', 0.5],
  ['container-concurrency-target-percentage', '1', 'containerConcurrencyTargetFraction', 1],
  ['container-concurrency-target-percentage', '100', 'containerConcurrencyTargetFraction', 1],
  ['container-concurrency-target-percentage', '1.5', 'containerConcurrencyTargetFraction', 0.015],
  ['container-concurrency-target-default', '10', 'containerConcurrencyTargetDefault', 10],
  ['requests-per-second-target-default', '0.01', 'rpsTargetDefault', 0.01],
  ['target-burst-capacity', '-1', 'targetBurstCapacity', -1],
  ['target-burst-capacity', '0', 'targetBurstCapacity', 0],
  ['target-burst-capacity', '1e3', 'targetBurstCapacity', 1000],
  ['panic-window-percentage', '1', 'panicWindowPercentage', 1],
  ['panic-window-percentage', '100', 'panicWindowPercentage', 100],
  ['panic-threshold-percentage', '150', 'panicThresholdPercentage', 150],
  ['activator-capacity', '1', 'activatorCapacity', 1],
  ['initial-scale', '3', 'initialScale', 3],
  ['min-scale', '2', 'minScale', 2],
  ['max-scale', '10', 'maxScale', 10],
  ['max-scale-limit', '0', 'maxScaleLimit', 0],
  ['stable-window', '6s', 'stableWindow', 6 * SECOND],
  ['stable-window', '1h', 'stableWindow', 60 * MINUTE],
  ['stable-window', '1m30s', 'stableWindow', 90 * SECOND],
  ['scale-down-delay', '15m', 'scaleDownDelay', 15 * MINUTE],
  ['scale-to-zero-grace-period', '500ms', 'scaleToZeroGracePeriod', SECOND / 2],
  ['scale-to-zero-pod-retention-period', '1m', 'scaleToZeroPodRetentionPeriod', MINUTE],
];

validRows(parse, valid);

// [data, exact error message]
const invalid: [Record<string, string>, string][] = [
  // wrong type
  [{ 'enable-scale-to-zero': 'yes' }, 'config-autoscaler: enable-scale-to-zero: "yes" must be a boolean (true or false)'],
  [{ 'allow-zero-initial-scale': '' }, 'config-autoscaler: allow-zero-initial-scale: "" must be a boolean (true or false)'],
  [{ 'max-scale-up-rate': 'fast' }, 'config-autoscaler: max-scale-up-rate: "fast" must be a number'],
  [{ 'max-scale-down-rate': 'NaN' }, 'config-autoscaler: max-scale-down-rate: "NaN" must be a finite number'],
  [{ 'initial-scale': '1.5' }, 'config-autoscaler: initial-scale: "1.5" must be an integer'],
  [{ 'min-scale': ' 1' }, 'config-autoscaler: min-scale: " 1" must be an integer'],
  [{ 'max-scale': '3000000000' }, 'config-autoscaler: max-scale: "3000000000" must be an integer between -2147483648 and 2147483647'],
  [{ 'container-concurrency-target-default': '1e' }, 'config-autoscaler: container-concurrency-target-default: "1e" must be a number'],
  // out of range
  [{ 'max-scale-up-rate': '1' }, 'config-autoscaler: max-scale-up-rate: "1" must be greater than 1'],
  [{ 'max-scale-down-rate': '0.5' }, 'config-autoscaler: max-scale-down-rate: "0.5" must be greater than 1'],
  [{ 'container-concurrency-target-percentage': '0' }, 'config-autoscaler: container-concurrency-target-percentage: "0" must be in (0, 100] (a value up to 1 is a fraction: 1 means 100 %)'],
  [{ 'container-concurrency-target-percentage': '142.4' }, 'config-autoscaler: container-concurrency-target-percentage: "142.4" must be in (0, 100] (a value up to 1 is a fraction: 1 means 100 %)'],
  [{ 'container-concurrency-target-percentage': '-42' }, 'config-autoscaler: container-concurrency-target-percentage: "-42" must be in (0, 100] (a value up to 1 is a fraction: 1 means 100 %)'],
  [{ 'container-concurrency-target-default': '0.01' }, 'config-autoscaler: container-concurrency-target-default: "0.01" with container-concurrency-target-percentage 70 % gives a target concurrency of 0.007, which is below 0.01'],
  [{ 'requests-per-second-target-default': '0.001' }, 'config-autoscaler: requests-per-second-target-default: "0.001" must be at least 0.01'],
  [{ 'target-burst-capacity': '-2' }, 'config-autoscaler: target-burst-capacity: "-2" must be at least 0, or -1 for unlimited'],
  [{ 'panic-window-percentage': '0.5' }, 'config-autoscaler: panic-window-percentage: "0.5" must be between 1 and 100'],
  [{ 'panic-window-percentage': '101' }, 'config-autoscaler: panic-window-percentage: "101" must be between 1 and 100'],
  [{ 'activator-capacity': '0.9' }, 'config-autoscaler: activator-capacity: "0.9" must be at least 1'],
  [{ 'initial-scale': '-1' }, 'config-autoscaler: initial-scale: "-1" must be at least 0'],
  [{ 'initial-scale': '0' }, 'config-autoscaler: initial-scale: "0" must be at least 1 unless allow-zero-initial-scale is true'],
  [{ 'min-scale': '-1' }, 'config-autoscaler: min-scale: "-1" must be at least 0'],
  [{ 'max-scale': '-1' }, 'config-autoscaler: max-scale: "-1" must be at least 0'],
  [{ 'max-scale-limit': '-5' }, 'config-autoscaler: max-scale-limit: "-5" must be at least 0'],
  [{ 'max-scale-limit': '10', 'max-scale': '11' }, 'config-autoscaler: max-scale: "11" must be between 1 and max-scale-limit (10)'],
  [{ 'max-scale-limit': '10' }, 'config-autoscaler: max-scale: (unset) must be between 1 and max-scale-limit (10)'],
  [{ 'min-scale': '5', 'max-scale': '3' }, 'config-autoscaler: min-scale: "5" must be less than or equal to max-scale (3)'],
  [{ 'stable-window': '3s' }, 'config-autoscaler: stable-window: "3s" must be between 6s and 1h0m0s'],
  [{ 'stable-window': '61m' }, 'config-autoscaler: stable-window: "61m" must be between 6s and 1h0m0s'],
  [{ 'stable-window': '6500ms' }, 'config-autoscaler: stable-window: "6500ms" must be a whole number of seconds'],
  [{ 'scale-down-delay': '-1s' }, 'config-autoscaler: scale-down-delay: "-1s" must be at least 0s'],
  [{ 'scale-down-delay': '1.5s' }, 'config-autoscaler: scale-down-delay: "1.5s" must be a whole number of seconds'],
  [{ 'scale-to-zero-grace-period': '0s' }, 'config-autoscaler: scale-to-zero-grace-period: "0s" must be greater than 0s'],
  [{ 'scale-to-zero-pod-retention-period': '-1m' }, 'config-autoscaler: scale-to-zero-pod-retention-period: "-1m" must be at least 0s'],
  // bad duration
  [{ 'stable-window': '60' }, 'config-autoscaler: stable-window: "60" must be a duration such as 30s, 1m30s or 500ms (time: missing unit in duration "60")'],
  [{ 'scale-down-delay': '1d' }, 'config-autoscaler: scale-down-delay: "1d" must be a duration such as 30s, 1m30s or 500ms (time: unknown unit "d" in duration "1d")'],
  [{ 'scale-to-zero-grace-period': 'soon' }, 'config-autoscaler: scale-to-zero-grace-period: "soon" must be a duration such as 30s, 1m30s or 500ms (time: invalid duration "soon")'],
  [{ 'scale-to-zero-pod-retention-period': '' }, 'config-autoscaler: scale-to-zero-pod-retention-period: "" must be a duration such as 30s, 1m30s or 500ms (time: invalid duration "")'],
];

invalidRows(parse, invalid);

test('every error is reported, not just the first', (t) => {
  const r = parse({ 'stable-window': '3s', 'max-scale-up-rate': '1', 'enable-scale-to-zero': 'maybe' });
  t.false(r.ok);
  if (!r.ok) t.deepEqual(r.errors.map((e) => e.key).sort(), ['enable-scale-to-zero', 'max-scale-up-rate', 'stable-window']);
});

test('min-scale equal to max-scale is allowed; max-scale 0 means unlimited', (t) => {
  t.true(parse({ 'min-scale': '3', 'max-scale': '3' }).ok);
  t.true(parse({ 'min-scale': '3', 'max-scale': '0' }).ok);
});

test('initial-scale 0 is allowed with allow-zero-initial-scale', (t) => {
  const r = parse({ 'initial-scale': '0', 'allow-zero-initial-scale': 'true' });
  t.true(r.ok);
  if (r.ok) t.is(r.config.initialScale, 0);
});

test('panic-threshold-percentage outside the annotation range is a warning, not an error', (t) => {
  const r = parse({ 'panic-threshold-percentage': '50' });
  t.true(r.ok);
  t.deepEqual(r.warnings.map(formatIssue), [
    'config-autoscaler: panic-threshold-percentage: "50" is outside 110..1000, the range Knative allows on the annotation',
  ]);
});

test('unknown keys are warned about; _example is ignored', (t) => {
  const r = parse({ _example: 'docs', 'stable-windw': '10s' });
  t.true(r.ok);
  t.deepEqual(r.warnings.map(formatIssue), ['config-autoscaler: stable-windw: "10s" is not a key of this map and is ignored']);
});
