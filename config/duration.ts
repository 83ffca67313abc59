// Go `time.Duration` syntax: parsing (`time.ParseDuration`) and printing (`Duration.String`).
// Knative's ConfigMaps and annotations carry durations in this syntax, and its error messages
// print bounds in Go's form (`1h0m0s`), so both directions must match Go exactly.
// Durations are held as nanoseconds in a `number`: exact up to 2^53 ns (about 104 days), which
// covers every bound Knative checks.

export const NANOSECOND = 1;
export const MICROSECOND = 1_000;
export const MILLISECOND = 1_000_000;
export const SECOND = 1_000_000_000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;

const UNITS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['µs', 1_000n], // U+00B5 micro sign
  ['μs', 1_000n], // U+03BC Greek mu
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);

const INT64_MAX = (1n << 63n) - 1n;

export type DurationResult = { ok: true; ns: number } | { ok: false; error: string };

/** Parses like Go's time.ParseDuration; the error text mirrors Go's. */
export function parseDuration(input: string): DurationResult {
  const quoted = JSON.stringify(input);
  const invalid = (): DurationResult => ({ ok: false, error: `time: invalid duration ${quoted}` });
  let s = input;
  let negative = false;
  if (s.startsWith('-') || s.startsWith('+')) {
    negative = s[0] === '-';
    s = s.slice(1);
  }
  if (s === '0') return { ok: true, ns: 0 };
  if (s === '') return invalid();
  let total = 0n;
  while (s.length > 0) {
    const num = /^([0-9]*)(?:\.([0-9]*))?/.exec(s);
    const intPart = num?.[1] ?? '';
    const fracPart = num?.[2];
    if (intPart === '' && (fracPart === undefined || fracPart === '')) return invalid();
    s = s.slice(num?.[0].length ?? 0);
    const unitMatch = /^[^0-9.]+/.exec(s);
    if (!unitMatch) return { ok: false, error: `time: missing unit in duration ${quoted}` };
    const unitName = unitMatch[0];
    const unit = UNITS.get(unitName);
    if (unit === undefined) {
      return { ok: false, error: `time: unknown unit ${JSON.stringify(unitName)} in duration ${quoted}` };
    }
    s = s.slice(unitName.length);
    let value = BigInt(intPart === '' ? '0' : intPart) * unit;
    if (fracPart) value += fractionValue(fracPart, unit);
    total += value;
    if (total > INT64_MAX + (negative ? 1n : 0n)) return invalid();
  }
  const ns = Number(negative ? -total : total);
  return { ok: true, ns: ns === 0 ? 0 : ns };
}

/**
 * Go scales the fraction in float64 (`f * (unit / scale)`), keeping digits only while they fit
 * in an int64; doing the same reproduces its last-digit results (0.3333333333333333333h = 20m).
 */
function fractionValue(digits: string, unit: bigint): bigint {
  let f = 0n;
  let scale = 1;
  for (const d of digits) {
    const next = f * 10n + BigInt(d);
    if (next > INT64_MAX) break;
    f = next;
    scale *= 10;
  }
  return BigInt(Math.trunc(Number(f) * (Number(unit) / scale)));
}

/** Prints like Go's Duration.String: `1h0m0s`, `1.5s`, `500ms`, `0s`. */
export function formatDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = BigInt(Math.round(Math.abs(ns)));
  let out: string;
  if (u < 1_000_000_000n) {
    let prec: number;
    let unit: string;
    if (u < 1_000n) return `${neg ? '-' : ''}${u}ns`;
    if (u < 1_000_000n) {
      prec = 3;
      unit = 'µs';
    } else {
      prec = 6;
      unit = 'ms';
    }
    out = fraction(u, prec) + unit;
  } else {
    const secondsPart = fraction(u % 60_000_000_000n, 9) + 's';
    u /= 60_000_000_000n; // whole minutes
    out = secondsPart;
    if (u > 0n) {
      out = `${u % 60n}m${out}`;
      u /= 60n;
      if (u > 0n) out = `${u}h${out}`;
    }
  }
  return neg ? '-' + out : out;
}

// Formats v / 10^prec with trailing zeros (and a bare point) dropped, as Go's fmtFrac/fmtInt do.
function fraction(v: bigint, prec: number): string {
  const scale = 10n ** BigInt(prec);
  const whole = v / scale;
  const frac = (v % scale).toString().padStart(prec, '0').replace(/0+$/, '');
  return frac === '' ? whole.toString() : `${whole}.${frac}`;
}

/** True when the duration is a whole number of seconds (Knative rejects `1500ms` for some keys). */
export function isWholeSeconds(ns: number): boolean {
  return ns % SECOND === 0;
}
