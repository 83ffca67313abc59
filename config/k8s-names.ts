// Kubernetes name and label syntax (apimachinery's validation), shared by config-deployment,
// config-domain and, later, the webhook's resource validation.

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
