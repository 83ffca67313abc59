// Kubernetes name and label syntax (apimachinery's validation), shared by config-deployment,
// config-domain and, later, the webhook's resource validation.
import { createHash } from 'node:crypto';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;

/** Problems with a DNS-1123 label (`my-name`), empty when valid. */
export function dns1123LabelErrors(s: string): string[] {
  const errs: string[] = [];
  if (s.length > 63) errs.push('must be no more than 63 characters');
  if (!DNS1123_LABEL.test(s)) {
    errs.push("a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character");
  }
  return errs;
}

/** Problems with a DNS-1123 subdomain (`example.com`), empty when valid. */
export function dns1123SubdomainErrors(s: string): string[] {
  const errs: string[] = [];
  if (s.length > 253) errs.push('must be no more than 253 characters');
  if (!DNS1123_SUBDOMAIN.test(s)) {
    errs.push("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character");
  }
  return errs;
}

/** Problems with a label key such as `app` or `example.com/tier`. */
export function labelKeyErrors(key: string): string[] {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  const errs: string[] = [];
  if (prefix !== undefined) errs.push(...dns1123SubdomainErrors(prefix).map((e) => `prefix part ${e}`));
  if (name.length === 0 || name.length > 63 || !QUALIFIED_NAME.test(name)) {
    errs.push("name part must be 1-63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character");
  }
  return errs;
}

/** Problems with a label value (may be empty). */
export function labelValueErrors(value: string): string[] {
  if (value === '') return [];
  return value.length > 63 || !QUALIFIED_NAME.test(value)
    ? ["must be at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character"]
    : [];
}

/** A `{label: value}` map, checked entry by entry; returns the first problem or undefined. */
export function labelSetProblem(labels: unknown): string | undefined {
  if (labels === null || labels === undefined) return undefined;
  if (typeof labels !== 'object' || Array.isArray(labels)) return 'must be a map of label to value';
  for (const [k, v] of Object.entries(labels)) {
    if (typeof v !== 'string') return `label ${JSON.stringify(k)} must have a string value`;
    const keyErr = labelKeyErrors(k)[0];
    if (keyErr) return `label key ${JSON.stringify(k)}: ${keyErr}`;
    const valErr = labelValueErrors(v)[0];
    if (valErr) return `label ${JSON.stringify(k)} value ${JSON.stringify(v)}: ${valErr}`;
  }
  return undefined;
}

/** True when every entry of the selector is present with the same value in labels. */
export function selectorMatches(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/**
 * Among entries whose selector matches the labels, the one with the most selector entries;
 * ties go to the lexicographically smallest name. Knative picks domains and runtime classes so.
 */
export function mostSpecificMatch<T extends { readonly selector: Readonly<Record<string, string>> }>(
  entries: readonly T[],
  name: (entry: T) => string,
  labels: Readonly<Record<string, string>>,
): T | undefined {
  let best: T | undefined;
  let bestSpec = -1;
  for (const e of entries) {
    if (!selectorMatches(e.selector, labels)) continue;
    const spec = Object.keys(e.selector).length;
    if (spec > bestSpec || (spec === bestSpec && best !== undefined && name(e) < name(best))) {
      best = e;
      bestSpec = spec;
    }
  }
  return best;
}

const LONGEST_NAME = 63;
/** 63 minus the 32 hex digits of an MD5. */
const NAME_HEAD = LONGEST_NAME - 32;

/**
 * Knative's `kmeta.ChildName`: `parent + suffix`, or, when that passes 63 characters, a cut
 * parent with the parent's MD5 in hex before the suffix, so that children of long names stay
 * unique and valid. (Revision names and `<rev>-private` services are made this way.)
 */
export function childName(parent: string, suffix: string): string {
  if (parent.length <= LONGEST_NAME - suffix.length) return parent + suffix;
  if (NAME_HEAD - suffix.length <= 0) {
    // The suffix alone leaves no room for a hash: hash the whole name and pad with the suffix.
    const hash = md5Hex(parent + suffix);
    let name = parent.slice(0, NAME_HEAD) + hash;
    const room = LONGEST_NAME - name.length;
    if (room > 0) name += suffix.slice(0, room);
    return name.replace(/-+$/, '');
  }
  return parent.slice(0, NAME_HEAD - suffix.length) + md5Hex(parent) + suffix;
}

function md5Hex(s: string): string {
  return createHash('md5').update(s).digest('hex');
}
