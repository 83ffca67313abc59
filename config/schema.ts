// The table-driven machinery behind every ConfigMap parser: a map is a list of keys, each with
// its legacy aliases, default and parser, plus cross-key rules. Parsing collects every error
// (not just the first), each naming the map, the key, the bad value and the rule it broke.
import type { Parsed } from './values.ts';

export type RawData = Readonly<Record<string, string>>;

export interface ConfigIssue {
  /** The ConfigMap (`config-autoscaler`) or other source (`annotations`). */
  readonly source: string;
  readonly key: string;
  /** The offending text; undefined when the key was absent and a rule about it failed. */
  readonly value: string | undefined;
  readonly rule: string;
  /**
   * The same problem as Knative's webhook words it (`expected 6s <= 3s <= 1h0m0s`), without
   * the field path; set for annotation problems, which the webhook reports in Knative's style.
   */
  readonly knative?: string;
}

export function formatIssue(issue: ConfigIssue): string {
  const value = issue.value === undefined ? '(unset)' : JSON.stringify(issue.value);
  return `${issue.source}: ${issue.key}: ${value} ${issue.rule}`;
}

export type ParseResult<T> =
  | { readonly ok: true; readonly config: T; readonly warnings: readonly ConfigIssue[] }
  | { readonly ok: false; readonly errors: readonly ConfigIssue[]; readonly warnings: readonly ConfigIssue[] };

/** One ConfigMap that the config package understands. */
export interface ConfigMapSpec<T> {
  readonly name: string;
  defaults(): T;
  parse(data: RawData): ParseResult<T>;
  /** The effective configuration as plain JSON (durations printed in Go's syntax). */
  show(config: T): Record<string, unknown>;
}

export interface Field<T> {
  readonly key: string;
  /** Older spellings, accepted when the key itself is absent (the key wins when both exist). */
  readonly aliases?: readonly string[];
  readonly default: T;
  readonly parse: (raw: string) => Parsed<T>;
  readonly show?: (value: T) => unknown;
}

export type Fields<T> = { readonly [K in keyof T]-?: Field<T[K]> };

/** A rule across keys, reported against one of them. */
export interface CrossIssue {
  readonly key: string;
  readonly rule: string;
}

export interface FieldMapOptions<T> {
  /** Rules that involve several keys; run only when every key parsed. */
  readonly validate?: (config: T, data: RawData) => readonly CrossIssue[];
  /** Derives values that default from other keys; runs before validate. */
  readonly complete?: (config: T, data: RawData) => T;
  /** Values Knative accepts but that are almost surely mistakes: reported as warnings. */
  readonly warn?: (config: T) => readonly CrossIssue[];
  /** Keys the map accepts beyond its fields (for example `loglevel.*`). */
  readonly acceptsKey?: (key: string) => boolean;
}

/** The key documentation-only `_example` entries use; Knative ignores it everywhere. */
export const EXAMPLE_KEY = '_example';

/** The text that configures a field: its own key first, then the first alias present. */
export function lookup(data: RawData, key: string, aliases: readonly string[] = []): { key: string; raw: string } | undefined {
  for (const k of [key, ...aliases]) {
    const raw = data[k];
    if (raw !== undefined) return { key: k, raw };
  }
  return undefined;
}

export function fieldMap<T>(name: string, fields: Fields<T>, options: FieldMapOptions<T> = {}): ConfigMapSpec<T> {
  const entries = Object.entries(fields) as [keyof T & string, Field<unknown>][];
  const known = new Set<string>([EXAMPLE_KEY]);
  for (const [, f] of entries) for (const k of [f.key, ...(f.aliases ?? [])]) known.add(k);

  const defaults = (): T => {
    const out: Record<string, unknown> = {};
    for (const [prop, f] of entries) out[prop] = f.default;
    return options.complete ? options.complete(out as T, {}) : (out as T);
  };

  return {
    name,
    defaults,
    parse(data) {
      const errors: ConfigIssue[] = [];
      const warnings: ConfigIssue[] = [];
      const out: Record<string, unknown> = {};
      for (const [prop, f] of entries) {
        out[prop] = f.default;
        // Knative parses every spelling present, so a bad legacy value is an error even when
        // the kebab-case key (which wins) is also set. Walk from the weakest to the strongest.
        for (const key of [...(f.aliases ?? [])].reverse().concat(f.key)) {
          const raw = data[key];
          if (raw === undefined) continue;
          const parsed = f.parse(raw);
          if (parsed.ok) {
            out[prop] = parsed.value;
            if (parsed.warning) warnings.push({ source: name, key, value: raw, rule: parsed.warning });
          } else errors.push({ source: name, key, value: raw, rule: parsed.rule });
        }
      }
      for (const [key, raw] of Object.entries(data)) {
        if (!known.has(key) && !options.acceptsKey?.(key)) {
          warnings.push({ source: name, key, value: raw, rule: 'is not a key of this map and is ignored' });
        }
      }
      const attach = (cross: CrossIssue): ConfigIssue => {
        const f = entries.find(([, field]) => field.key === cross.key)?.[1];
        const found = lookup(data, cross.key, f?.aliases);
        return { source: name, key: found?.key ?? cross.key, value: found?.raw, rule: cross.rule };
      };
      if (errors.length > 0) return { ok: false, errors, warnings };
      const config = options.complete ? options.complete(out as T, data) : (out as T);
      for (const cross of options.validate?.(config, data) ?? []) errors.push(attach(cross));
      for (const cross of options.warn?.(config) ?? []) warnings.push(attach(cross));
      return errors.length > 0 ? { ok: false, errors, warnings } : { ok: true, config, warnings };
    },
    show(config) {
      const out: Record<string, unknown> = {};
      for (const [prop, f] of entries) {
        const v = config[prop];
        out[prop] = f.show ? f.show(v) : v;
      }
      return out;
    },
  };
}
