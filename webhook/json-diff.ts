// Comparing parsed JSON values: equality with absent and null fields treated alike (Go decodes
// both to the zero value), and a short "-old +new" listing of the differing leaves, the details
// Knative attaches to its immutability errors. Knative prints go-cmp paths over Go types
// (`{v1.RevisionSpec}.PodSpec.Containers[0].Image`); ours use the JSON field names under the
// same root label, one entry per difference.

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const absent = (v: unknown): boolean => v === undefined || v === null;

/** Deep equality of JSON values; a field that is absent equals one that is null. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (absent(a) || absent(b)) return absent(a) && absent(b);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isObj(a) || isObj(b)) {
    if (!isObj(a) || !isObj(b)) return false;
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].every((k) => jsonEqual(a[k], b[k]));
  }
  return a === b;
}

const show = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v));

function walk(a: unknown, b: unknown, path: string, out: string[]): void {
  if (jsonEqual(a, b)) return;
  if (isObj(a) && isObj(b)) {
    const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])];
    for (const k of keys) walk(a[k], b[k], `${path}.${k}`, out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => walk(x, b[i], `${path}[${i}]`, out));
    return;
  }
  let entry = `${path}:\n`;
  // Quoted as Go's "%+v" quotes: around the value, nothing escaped.
  if (!absent(a)) entry += `\t-: "${show(a)}"\n`;
  if (!absent(b)) entry += `\t+: "${show(b)}"\n`;
  out.push(entry);
}

/** The differences between two values, "" when equal. */
export function shortDiff(a: unknown, b: unknown, root: string): string {
  const out: string[] = [];
  walk(a, b, root, out);
  return out.join('');
}
