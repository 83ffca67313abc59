// Builders for the field tables of config/schema.ts: one per value kind Knative's ConfigMaps
// use (bool, int32, float, duration, enum, feature flag, quantity, free text).
import type { Field } from './schema.ts';
import { formatDuration, isWholeSeconds } from './duration.ts';
import { fail, ok, parseBool, parseFloat64, parseGoDuration, parseInt32, parseQuantity, type Parsed } from './values.ts';

type Check<T> = (value: T) => string | undefined;

interface Common<T> {
  readonly aliases?: readonly string[];
  readonly check?: Check<T>;
}

function withCheck<T>(parse: (raw: string) => Parsed<T>, check?: Check<T>): (raw: string) => Parsed<T> {
  if (!check) return parse;
  return (raw) => {
    const p = parse(raw);
    if (!p.ok) return p;
    const rule = check(p.value);
    return rule === undefined ? p : fail(rule);
  };
}

function field<T>(key: string, def: T, parse: (raw: string) => Parsed<T>, opts: Common<T>, show?: (v: T) => unknown): Field<T> {
  return {
    key,
    default: def,
    parse: withCheck(parse, opts.check),
    ...(opts.aliases ? { aliases: opts.aliases } : {}),
    ...(show ? { show } : {}),
  };
}

export const boolField = (key: string, def: boolean, opts: Common<boolean> = {}): Field<boolean> =>
  field(key, def, parseBool, opts);

export const int32Field = (key: string, def: number, opts: Common<number> = {}): Field<number> =>
  field(key, def, parseInt32, opts);

export const floatField = (key: string, def: number, opts: Common<number> = {}): Field<number> =>
  field(key, def, parseFloat64, opts);

export const stringField = (key: string, def: string, opts: Common<string> = {}): Field<string> =>
  field(key, def, ok, opts);

/** Optional text: absent means undefined (for example resource requests that stay unset). */
export const optionalField = <T>(key: string, parse: (raw: string) => Parsed<T>, opts: Common<T> = {}): Field<T | undefined> =>
  field<T | undefined>(key, undefined, parse, opts as Common<T | undefined>);

export const quantityField = (key: string): Field<string | undefined> => optionalField(key, parseQuantity);

export interface DurationRules {
  readonly min?: number;
  readonly max?: number;
  /** Knative's `> 0` checks. */
  readonly positive?: boolean;
  /** Knative rejects sub-second precision for some windows and delays. */
  readonly wholeSeconds?: boolean;
}

/** The rule a duration breaks, worded with Go-formatted bounds. */
export function durationRule(ns: number, rules: DurationRules): string | undefined {
  const { min, max } = rules;
  if (min !== undefined && max !== undefined && (ns < min || ns > max)) {
    return `must be between ${formatDuration(min)} and ${formatDuration(max)}`;
  }
  if (min !== undefined && ns < min) return `must be at least ${formatDuration(min)}`;
  if (max !== undefined && ns > max) return `must be at most ${formatDuration(max)}`;
  if (rules.positive && ns <= 0) return 'must be greater than 0s';
  if (rules.wholeSeconds && !isWholeSeconds(ns)) return 'must be a whole number of seconds';
  return undefined;
}

export const durationField = (key: string, defNs: number, rules: DurationRules = {}, opts: Common<number> = {}): Field<number> =>
  field(key, defNs, parseGoDuration, { ...opts, check: (ns) => durationRule(ns, rules) ?? opts.check?.(ns) }, formatDuration);

/** One of a fixed set of words; `caseInsensitive` keys compare folded and store the canonical word. */
export function enumField<W extends string>(
  key: string,
  def: W,
  words: readonly W[],
  opts: Common<W> & { readonly caseInsensitive?: boolean } = {},
): Field<W> {
  const parse = (raw: string): Parsed<W> => {
    const hit = words.find((w) => (opts.caseInsensitive ? w.toLowerCase() === raw.toLowerCase() : w === raw));
    return hit !== undefined ? ok(hit) : fail(`must be one of ${words.map((w) => JSON.stringify(w)).join(', ')}`);
  };
  return field(key, def, parse, opts);
}

export type Flag = 'Enabled' | 'Disabled' | 'Allowed';
export const FLAGS: readonly Flag[] = ['Enabled', 'Disabled', 'Allowed'];

/** A config-features flag: matched case-insensitively; an unknown word keeps the default, as in Knative. */
export function flagField(key: string, def: Flag, words: readonly string[] = FLAGS): Field<string> {
  return {
    key,
    default: def,
    parse: (raw) => {
      const hit = words.find((w) => w.toLowerCase() === raw.toLowerCase());
      return hit !== undefined
        ? ok(hit)
        : { ok: true, value: def, warning: `is not one of ${words.join(', ')}; the default ${def} applies` };
    },
  };
}

// Shared range checks used by several maps and the annotations.
export const atLeast = (min: number): Check<number> => (n) => (n < min ? `must be at least ${min}` : undefined);
export const greaterThan = (min: number): Check<number> => (n) => (n <= min ? `must be greater than ${min}` : undefined);
export const inRange = (min: number, max: number): Check<number> => (n) =>
  n < min || n > max ? `must be between ${min} and ${max}` : undefined;
