// Knative's validation error (knative.dev/pkg apis.FieldError): a set of diagnostics, each a
// message, the field paths it applies to, optional details and a level (error or warning).
// Validators build them bottom-up and prefix paths on the way out (`viaField("spec")`), so
// every problem is reported at once with its full path. `toString()` renders exactly as
// Knative's Error(): diagnostics with the same level, message and details merged, paths
// de-duplicated and sorted, diagnostics sorted by message, then details, then level.
// Immutable: every method returns a new value.

export type Level = 'error' | 'warning';

export interface Diagnostic {
  readonly message: string;
  readonly paths: readonly string[];
  readonly details: string;
  readonly level: Level;
}

const isIndex = (p: string): boolean => p.startsWith('[') && p.endsWith(']');

/** Joins path parts with dots, gluing `[i]` and `[key]` parts to the part before them. */
function flatten(parts: readonly string[]): string {
  const out: string[] = [];
  for (const part of parts) {
    for (const p of part.split('.')) {
      if (p === '') continue;
      if (out.length > 0 && isIndex(p)) out[out.length - 1] += p;
      else out.push(p);
    }
  }
  return out.join('.');
}

// Go's sort.Slice compares strings bytewise; so does this for the ASCII paths and messages here.
const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

export class FieldError {
  readonly diagnostics: readonly Diagnostic[];

  constructor(diagnostics: readonly Diagnostic[]) {
    this.diagnostics = diagnostics;
  }

  static of(message: string, paths: readonly string[] = [''], details = '', level: Level = 'error'): FieldError {
    return new FieldError([{ message, paths, details, level }]);
  }

  /** Prefixes every path with `prefix` (fields from outermost to innermost). */
  viaField(...prefix: string[]): FieldError {
    return new FieldError(this.diagnostics.map((d) => ({ ...d, paths: d.paths.map((p) => flatten([...prefix, p])) })));
  }

  viaIndex(index: number): FieldError {
    return this.viaField(`[${index}]`);
  }

  viaKey(key: string): FieldError {
    return this.viaField(`[${key}]`);
  }

  viaFieldIndex(field: string, index: number): FieldError {
    return this.viaIndex(index).viaField(field);
  }

  viaFieldKey(field: string, key: string): FieldError {
    return this.viaKey(key).viaField(field);
  }

  at(level: Level): FieldError {
    return new FieldError(this.diagnostics.map((d) => ({ ...d, level })));
  }

  filter(level: Level): FieldError | undefined {
    const kept = this.diagnostics.filter((d) => d.level === level);
    return kept.length > 0 ? new FieldError(kept) : undefined;
  }

  get errors(): FieldError | undefined {
    return this.filter('error');
  }

  get warnings(): FieldError | undefined {
    return this.filter('warning');
  }

  /** Knative's Error(): merged, sorted, one diagnostic per line (details on the next line). */
  toString(): string {
    const merged = new Map<string, { message: string; details: string; level: Level; paths: string[] }>();
    for (const d of this.diagnostics) {
      const key = `${d.level}\u0000${d.message}\u0000${d.details}`;
      const m = merged.get(key);
      if (m === undefined) merged.set(key, { message: d.message, details: d.details, level: d.level, paths: [...new Set(d.paths)] });
      else for (const p of d.paths) if (!m.paths.includes(p)) m.paths.push(p);
    }
    const list = [...merged.values()];
    for (const m of list) m.paths.sort(cmp);
    const rank = (l: Level): number => (l === 'error' ? 0 : 1);
    list.sort((a, b) => cmp(a.message, b.message) || cmp(a.details, b.details) || rank(a.level) - rank(b.level));
    return list.map((m) => `${m.message}: ${m.paths.join(', ')}${m.details === '' ? '' : `\n${m.details}`}`).join('\n');
  }

  /** toString()'s non-empty lines: one a diagnostic, plus its details. */
  lines(): string[] {
    return this.toString().split('\n').filter((l) => l !== '');
  }
}

/** Collects errors, skipping the absent ones; undefined when there are none. */
export function also(...errs: (FieldError | undefined)[]): FieldError | undefined {
  const all = errs.flatMap((e) => e?.diagnostics ?? []);
  return all.length > 0 ? new FieldError(all) : undefined;
}

// Knative's helpers (apis.Err*), with their exact messages.
export const errMissingField = (...paths: string[]): FieldError => FieldError.of('missing field(s)', paths);
export const errDisallowedFields = (...paths: string[]): FieldError => FieldError.of('must not set the field(s)', paths);
export const errInvalidValue = (value: unknown, path: string, ...details: string[]): FieldError => FieldError.of(`invalid value: ${goString(value)}`, [path], details.join(', '));
export const errGeneric = (message: string, ...paths: string[]): FieldError => FieldError.of(message, paths);
export const errMissingOneOf = (...paths: string[]): FieldError => FieldError.of('expected exactly one, got neither', paths);
export const errMultipleOneOf = (...paths: string[]): FieldError => FieldError.of('expected exactly one, got both', paths);
export const errInvalidKeyName = (key: string, path: string, ...details: string[]): FieldError => FieldError.of(`invalid key name ${JSON.stringify(key)}`, [path], details.join(', '));
export const errOutOfBoundsValue = (value: unknown, lower: unknown, upper: unknown, path: string): FieldError =>
  FieldError.of(`expected ${goString(lower)} <= ${goString(value)} <= ${goString(upper)}`, [path]);

/** Go's %v for the values validators print: numbers, strings, booleans. */
function goString(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return '<nil>';
  return JSON.stringify(v);
}
