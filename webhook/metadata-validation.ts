// Validation of object metadata and annotations (Knative's metadata_validation.go and its
// knative.dev/pkg counterpart): resource names, the autoscaling annotations (checked by
// config/annotations.ts, re-expressed here with Knative's field paths), the annotations a
// revision template may carry (queue sidecar resources, progress deadline), the rollout
// duration, owner-reference labels, a bring-your-own revision name, and the creator and
// lastModifier annotations on update. Paths are relative to the object holding the field.
import type { AutoscalerConfig } from '../config/autoscaler.ts';
import {
  ANNOTATION_KEYS,
  AUTOSCALING_GROUP,
  PROGRESS_DEADLINE_ANNOTATION,
  QUEUE_RESOURCE_ANNOTATIONS,
  QUEUE_RESOURCE_PERCENTAGE_ANNOTATIONS,
  validateAnnotations,
} from '../config/annotations.ts';
import { isWholeSeconds, parseDuration } from '../config/duration.ts';
import { parseFloat64, parseQuantity } from '../config/values.ts';
import { isDNS1035Label } from './dns-validation.ts';
import { also, errDisallowedFields, errGeneric, errInvalidKeyName, errInvalidValue, errMissingField, errOutOfBoundsValue, FieldError } from './field-error.ts';
import { SERVING_GROUP } from './types.ts';

export type StringMap = Readonly<Record<string, string>>;

export const CREATOR_ANNOTATION = `${SERVING_GROUP}/creator`;
export const UPDATER_ANNOTATION = `${SERVING_GROUP}/lastModifier`;
export const ROLLOUT_DURATION_ANNOTATIONS = [`${SERVING_GROUP}/rollout-duration`, `${SERVING_GROUP}/rolloutDuration`] as const;

/** The first key of a priority list that is present, with its value (Knative's kmap.KeyPriority). */
function firstPresent(m: StringMap, keyList: readonly string[]): { key: string; value: string } | undefined {
  for (const key of keyList) {
    const value = m[key];
    if (value !== undefined) return { key, value };
  }
  return undefined;
}

/** Go's fmt.Sprint of a []string: `[a b]`. */
const goList = (items: readonly string[]): string => `[${items.join(' ')}]`;

/**
 * apimachinery's NameIsDNS1035Label: a generateName prefix may end in `-`. Its maskTrailingDash
 * replaces the last *two* characters with `a` (`name[:len(name)-2] + "a"`), an upstream quirk
 * kept so that the same prefixes pass.
 */
function nameIsDNS1035Label(name: string, prefix: boolean): string[] {
  const masked = prefix && name.length > 1 && name.endsWith('-') ? `${name.slice(0, -2)}a` : name;
  return isDNS1035Label(masked);
}

/** name/generateName of a resource (paths relative to metadata); the first problem only. */
export function validateObjectName(meta: { name?: string | undefined; generateName?: string | undefined }): FieldError | undefined {
  const name = meta.name ?? '';
  const generateName = meta.generateName ?? '';
  if (generateName !== '') {
    const msgs = nameIsDNS1035Label(generateName, true);
    if (msgs.length > 0) return FieldError.of(`not a DNS 1035 label prefix: ${goList(msgs)}`, ['generateName']);
  }
  if (name !== '') {
    const msgs = nameIsDNS1035Label(name, false);
    if (msgs.length > 0) return FieldError.of(`not a DNS 1035 label: ${goList(msgs)}`, ['name']);
  }
  if (name === '' && generateName === '') return FieldError.of('name or generateName is required', ['name']);
  return undefined;
}

/**
 * The autoscaling annotations, judged by config/annotations.ts and reported with Knative's
 * messages and paths (relative to the annotations map). Knative files two of them oddly: a
 * max-scale below min-scale under both canonical keys, and a bad initial-scale under a path
 * that carries the rule.
 */
export function autoscalingAnnotationErrors(annotations: StringMap, config: AutoscalerConfig): FieldError | undefined {
  const initialKeys: readonly string[] = ANNOTATION_KEYS.initialScale;
  return also(
    ...validateAnnotations(annotations, config).map((issue) => {
      const message = issue.knative ?? `invalid value: ${issue.value ?? ''}`;
      if (/^max-scale=\d+ is less than min-scale=\d+$/.test(message)) {
        return FieldError.of(message, [ANNOTATION_KEYS.maxScale[0], ANNOTATION_KEYS.minScale[0]]);
      }
      if (initialKeys.includes(issue.key) && issue.rule !== 'must be a whole number') {
        const n = Number(issue.value);
        if (n < 0) return FieldError.of(message, [`${issue.key} must be greater than 0`]);
        if (n === 0) return FieldError.of(message, [`${issue.key}=0 not allowed by cluster`]);
      }
      return FieldError.of(message, [issue.key]);
    }),
  );
}

/** Autoscaling annotations belong on the revision template, not on a Service, Configuration or Route. */
export function noAutoscalingAnnotations(annotations: StringMap): FieldError | undefined {
  return also(
    ...Object.keys(annotations)
      .filter((k) => k.startsWith(AUTOSCALING_GROUP))
      .map((k) => errInvalidKeyName(k, '', 'autoscaling annotations must be put under "spec.template.metadata.annotations" to work')),
  );
}

/** A duration annotation: Go syntax, whole seconds, not negative (Knative's wording per key). */
function durationAnnotation(annotations: StringMap, keyList: readonly string[], label: string): FieldError | undefined {
  const found = firstPresent(annotations, keyList);
  if (found === undefined || found.value === '') return undefined;
  const d = parseDuration(found.value);
  if (!d.ok) return errInvalidValue(found.value, found.key);
  if (!isWholeSeconds(d.ns)) return FieldError.of(`${label}=${found.value} is not at second precision`, [found.key]);
  if (d.ns < 0) return FieldError.of(`${label}=${found.value} must be positive`, [found.key]);
  return undefined;
}

/** serving.knative.dev/rollout-duration on a Service or Route. */
export const rolloutDurationErrors = (annotations: StringMap): FieldError | undefined =>
  durationAnnotation(annotations, ROLLOUT_DURATION_ANNOTATIONS, 'rollout-duration');

/** serving.knative.dev/progress-deadline on a revision template. */
export const progressDeadlineErrors = (annotations: StringMap): FieldError | undefined =>
  durationAnnotation(annotations, [PROGRESS_DEADLINE_ANNOTATION], 'progress-deadline');

/**
 * The queue sidecar's resource annotations on a revision template: the deprecated percentage
 * (a warning whenever present, and [0.1, 100]) and the explicit quantities. Knative files these
 * under `[key]`, and its deprecation warning under no path at all.
 */
export function queueSidecarAnnotationErrors(annotations: StringMap): FieldError | undefined {
  const errs: (FieldError | undefined)[] = [];
  const pct = firstPresent(annotations, QUEUE_RESOURCE_PERCENTAGE_ANNOTATIONS);
  if (pct !== undefined) {
    errs.push(
      errGeneric('Queue proxy resource percentage annotation is deprecated. Please use the available annotations to explicitly set resource values per service').at(
        'warning',
      ),
    );
    const p = parseFloat64(pct.value);
    if (!p.ok) errs.push(errInvalidValue(pct.value, '').viaKey(pct.key));
    else if (p.value < 0.1 || p.value > 100) errs.push(errOutOfBoundsValue(p.value, 0.1, 100, '').viaKey(pct.key));
  }
  for (const key of QUEUE_RESOURCE_ANNOTATIONS) {
    const v = annotations[key];
    if (v !== undefined && !parseQuantity(v).ok) errs.push(errInvalidValue(v, '').viaKey(key));
  }
  return also(...errs);
}

interface OwnerReferenceLike {
  readonly kind?: string;
  readonly name?: string;
}

/** A label naming the owning resource must match an owner reference of that kind (path: the label). */
export function verifyLabelOwnerRef(value: string, label: string, kind: string, owners: readonly OwnerReferenceLike[] | undefined): FieldError | undefined {
  return (owners ?? []).some((o) => o.kind === kind && o.name === value) ? undefined : errMissingField(label);
}

/**
 * A revision template's own name and generateName (paths relative to the template): a DNS-1035
 * label that starts with `<parent>-`, and none at all while the parent itself only has a
 * generateName.
 */
export function validateRevisionName(
  template: { name?: string | undefined; generateName?: string | undefined },
  parent: { name?: string | undefined; generateName?: string | undefined },
): FieldError | undefined {
  const name = template.name ?? '';
  const generateName = template.generateName ?? '';
  if (generateName !== '') {
    const msgs = nameIsDNS1035Label(generateName, true);
    if (msgs.length > 0) return errInvalidValue(`not a DNS 1035 label prefix: ${goList(msgs)}`, 'metadata.generateName');
  }
  if (name === '') return undefined;
  const msgs = nameIsDNS1035Label(name, false);
  if (msgs.length > 0) return errInvalidValue(`not a DNS 1035 label: ${goList(msgs)}`, 'metadata.name');
  const parentName = parent.name ?? '';
  // Once the parent has its name, a template name is fine even if generateName was used.
  if (parentName === '' && (parent.generateName ?? '') !== '') return errDisallowedFields('metadata.name');
  const prefix = `${parentName}-`;
  if (!name.startsWith(prefix)) return errInvalidValue(`${JSON.stringify(name)} must have prefix ${JSON.stringify(prefix)}`, 'metadata.name');
  return undefined;
}

/**
 * On update (paths relative to the annotations map): the creator never changes, and
 * lastModifier only changes along with the spec.
 */
export function validateCreatorAndModifier(specUnchanged: boolean, oldAnnotations: StringMap, newAnnotations: StringMap): FieldError | undefined {
  let errs: FieldError | undefined;
  if (oldAnnotations[CREATOR_ANNOTATION] !== newAnnotations[CREATOR_ANNOTATION]) {
    errs = FieldError.of('annotation value is immutable', [CREATOR_ANNOTATION]);
  }
  if (specUnchanged && oldAnnotations[UPDATER_ANNOTATION] !== newAnnotations[UPDATER_ANNOTATION]) {
    errs = also(errs, errInvalidValue(newAnnotations[UPDATER_ANNOTATION] ?? '', UPDATER_ANNOTATION));
  }
  return errs;
}
