// Scalar parsers with Go's acceptance rules (strconv.ParseBool / ParseInt / ParseFloat,
// time.ParseDuration), because Knative reads every ConfigMap value and annotation through them.
// Each returns a value or the rule the text broke; callers attach the map, key and value.
import { parseDuration } from './duration.ts';

/** A value (with an optional note on a value Knative tolerates) or the rule the text broke. */
export type Parsed<T> = { ok: true; value: T; warning?: string } | { ok: false; rule: string };

export const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
export const fail = <T = never>(rule: string): Parsed<T> => ({ ok: false, rule });

const TRUE_WORDS = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const FALSE_WORDS = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** strconv.ParseBool. */
export function parseBool(raw: string): Parsed<boolean> {
  if (TRUE_WORDS.has(raw)) return ok(true);
  if (FALSE_WORDS.has(raw)) return ok(false);
  return fail('must be a boolean (true or false)');
}

const INT_RE = /^[+-]?[0-9]+$/;
const INT32_MIN = -(2 ** 31);
const INT32_MAX = 2 ** 31 - 1;

/** strconv.ParseInt(raw, 10, 32). */
export function parseInt32(raw: string): Parsed<number> {
  if (!INT_RE.test(raw)) return fail('must be an integer');
  const n = Number(raw);
  if (n < INT32_MIN || n > INT32_MAX) return fail(`must be an integer between ${INT32_MIN} and ${INT32_MAX}`);
  return ok(n === 0 ? 0 : n);
}

/** strconv.ParseInt(raw, 10, 64), limited to what a JS number holds exactly. */
export function parseInt64(raw: string): Parsed<number> {
  if (!INT_RE.test(raw)) return fail('must be an integer');
  const n = Number(raw);
  if (!Number.isSafeInteger(n)) return fail('must be an integer that fits in 53 bits');
  return ok(n === 0 ? 0 : n);
}

const DEC_FLOAT_RE = /^[+-]?(?:[0-9]+(?:_[0-9]+)*\.?(?:[0-9]+(?:_[0-9]+)*)?|\.[0-9]+(?:_[0-9]+)*)(?:[eE][+-]?[0-9]+)?$/;
const HEX_FLOAT_RE = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?[pP]([+-]?[0-9]+)$/;
const SPECIAL_RE = /^[+-]?(?:inf|infinity|nan)$/i;

/**
 * strconv.ParseFloat(raw, 64): decimal and hexadecimal (`0x1p-2`) forms. Go also accepts
 * `NaN` and `Inf`, which pass or fail Knative's range checks by accident; we reject them
 * outright because no setting means anything with them.
 */
export function parseFloat64(raw: string): Parsed<number> {
  if (SPECIAL_RE.test(raw)) return fail('must be a finite number');
  if (DEC_FLOAT_RE.test(raw)) {
    // Go allows `_` between digits, as in its float literals.
    const n = Number(raw.replaceAll('_', ''));
    if (!Number.isFinite(n)) return fail('must be a finite number');
    return ok(n === 0 ? 0 : n);
  }
  const hex = HEX_FLOAT_RE.exec(raw);
  if (hex && (hex[2] !== '' || (hex[3] ?? '') !== '')) {
    const digits = (hex[2] ?? '') + (hex[3] ?? '');
    const exponent = Number(hex[4]) - 4 * (hex[3] ?? '').length;
    const n = (hex[1] === '-' ? -1 : 1) * Number.parseInt(digits, 16) * 2 ** exponent;
    if (!Number.isFinite(n)) return fail('must be a finite number');
    return ok(n === 0 ? 0 : n);
  }
  return fail('must be a number');
}

/** time.ParseDuration, giving nanoseconds. */
export function parseGoDuration(raw: string): Parsed<number> {
  const d = parseDuration(raw);
  return d.ok ? ok(d.ns) : fail(`must be a duration such as 30s, 1m30s or 500ms (${d.error})`);
}

/** A number for messages, without binary noise such as 7.000000000000001. */
export const showNumber = (n: number): string => String(Number(n.toPrecision(12)));

/** Kubernetes resource.Quantity syntax (`100m`, `1Gi`, `1e3`, `0.5`). */
const QUANTITY_RE = /^[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+|[KMGTPE]i|[numkMGTPE])?$/;

export function parseQuantity(raw: string): Parsed<string> {
  return QUANTITY_RE.test(raw) ? ok(raw) : fail('must be a Kubernetes quantity such as 100m, 128Mi or 1');
}
