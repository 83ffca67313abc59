// Validation of a traffic list in a Route's or a Service's spec (spec §5.3, Knative's
// route_validation.go): each target names exactly one of revisionName/configurationName (a
// Service's targets may name neither, their configuration is the Service's own, and may not
// name a configuration), latestRevision agrees with whether a revision is pinned, percents lie
// in [0, 100] and sum to exactly 100, tags are unique DNS-1035 labels, and `url` (a status
// field) is never set. Paths are relative to the spec holding `traffic`; the caller adds
// `spec` (or whatever holds the list) with viaField.
import type { TrafficTarget } from './types.ts';
import {
  also,
  errDisallowedFields,
  errGeneric,
  errInvalidKeyName,
  errInvalidValue,
  errMissingOneOf,
  errMultipleOneOf,
  errOutOfBoundsValue,
  FieldError,
} from './field-error.ts';
import { isDNS1035Label, isQualifiedName } from './dns-validation.ts';

export interface TrafficValidationOptions {
  /** True for a Service's traffic: targets default to the Service's configuration. */
  readonly inService: boolean;
}

/**
 * Every problem in the list at once, or undefined. An absent or empty list sums to 0 and is
 * reported so, as Knative does: for a Service, defaulting puts the 100 % latest target there
 * before validation runs.
 */
export function validateTraffic(traffic: readonly TrafficTarget[] | undefined, opts: TrafficValidationOptions): FieldError | undefined {
  const list = traffic ?? [];
  const errs: (FieldError | undefined)[] = [];
  const firstWithTag = new Map<string, number>();
  let sum = 0;
  list.forEach((tt, i) => {
    errs.push(validateTarget(tt, opts)?.viaIndex(i));
    sum += tt.percent ?? 0;
    const tag = tt.tag ?? '';
    if (tag === '') return;
    const problems = isDNS1035Label(tag);
    // Knative files this one under `tag[i]` rather than `[i].tag`; the path is kept as it is.
    if (problems.length > 0) errs.push(errInvalidValue(`not a DNS 1035 label: [${problems.join(' ')}]`, '').viaFieldIndex('tag', i));
    const first = firstWithTag.get(tag);
    if (first === undefined) firstWithTag.set(tag, i);
    // One definition per tag, even when both point at the same target.
    else errs.push(FieldError.of(`Multiple definitions for ${JSON.stringify(tag)}`, [`[${i}].tag`, `[${first}].tag`]));
  });
  if (sum !== 100) errs.push(FieldError.of(`Traffic targets sum to ${sum}, want 100`, ['']));
  return also(...errs)?.viaField('traffic');
}

/** One target's own rules, with paths relative to the target. */
function validateTarget(tt: TrafficTarget, opts: TrafficValidationOptions): FieldError | undefined {
  return also(latestRevisionError(tt), referenceError(tt, opts), percentError(tt), urlError(tt));
}

// latestRevision, when given, must say the opposite of "a revision is pinned".
function latestRevisionError(tt: TrafficTarget): FieldError | undefined {
  if (tt.latestRevision === undefined) return undefined;
  const revisionName = tt.revisionName ?? '';
  const pinned = revisionName !== '';
  if (pinned !== tt.latestRevision) return undefined;
  return errGeneric(`may not set revisionName ${JSON.stringify(revisionName)} when latestRevision is ${String(tt.latestRevision)}`, 'latestRevision');
}

// The first rule that applies wins, in Knative's order: a Service's configuration cannot be
// overridden, both names is ambiguous, a given name must be a qualified name, and outside a
// Service one of the two is required.
function referenceError(tt: TrafficTarget, opts: TrafficValidationOptions): FieldError | undefined {
  const revisionName = tt.revisionName ?? '';
  const configurationName = tt.configurationName ?? '';
  if (opts.inService && configurationName !== '') return errDisallowedFields('configurationName');
  if (revisionName !== '' && configurationName !== '') return errMultipleOneOf('revisionName', 'configurationName');
  if (revisionName !== '') return nameError(revisionName, 'revisionName');
  if (configurationName !== '') return nameError(configurationName, 'configurationName');
  if (opts.inService) return undefined;
  return errMissingOneOf('revisionName', 'configurationName');
}

function nameError(name: string, path: string): FieldError | undefined {
  const problems = isQualifiedName(name);
  return problems.length > 0 ? errInvalidKeyName(name, path, ...problems) : undefined;
}

function percentError(tt: TrafficTarget): FieldError | undefined {
  const p = tt.percent;
  return p !== undefined && (p < 0 || p > 100) ? errOutOfBoundsValue(p, 0, 100, 'percent') : undefined;
}

// The URL is filled in by the route controller, in status only. (Knative also objects to a URL
// on an untagged target, with the same message and path, so one diagnostic says it all.)
function urlError(tt: TrafficTarget): FieldError | undefined {
  return tt.url === undefined || tt.url === '' ? undefined : errDisallowedFields('url');
}
