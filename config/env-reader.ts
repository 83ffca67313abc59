// Reading a component's environment as Go's envconfig does (Knative's components use it):
// required means present (even if empty), ints in any Go base, booleans and durations in Go
// syntax. Errors are collected, so a bad pod spec reports every problem at once.
import { parseDuration } from './duration.ts';
import { parseBool } from './values.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/** Go's strconv.ParseInt(s, 0, 64): decimal, 0x hex, 0o/0 octal, 0b binary, underscores. */
export function parseGoInt(raw: string): number | undefined {
  const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO]?[0-7_]*|[1-9][0-9_]*|0)$/.exec(raw);
  if (!m) return undefined;
  let body = (m[2] ?? '').replaceAll('_', '');
  if (/^0[0-7]+$/.test(body)) body = '0o' + body.slice(1);
  const n = Number(body);
  if (!Number.isSafeInteger(n)) return undefined;
  return m[1] === '-' ? -n : n;
}

export class EnvReader {
  readonly errors: string[] = [];
  readonly env: Env;
  constructor(env: Env) {
    this.env = env;
  }

  string(name: string, required: boolean, def = ''): string {
    const v = this.env[name];
    if (v === undefined) {
      if (required) this.errors.push(`${name}: required but not set`);
      return def;
    }
    return v;
  }

  int(name: string, required: boolean, def = 0, min = 0): number {
    const v = this.env[name];
    if (v === undefined) {
      if (required) this.errors.push(`${name}: required but not set`);
      return def;
    }
    const n = parseGoInt(v);
    if (n === undefined) this.errors.push(`${name}: ${JSON.stringify(v)} is not an integer`);
    else if (n < min) this.errors.push(`${name}: ${JSON.stringify(v)} must be at least ${min}`);
    return n ?? def;
  }

  port(name: string, required: boolean, def: number): number {
    const v = this.env[name];
    if (v === undefined) {
      if (required) this.errors.push(`${name}: required but not set`);
      return def;
    }
    const n = parseGoInt(v);
    if (n === undefined || n < 0 || n > 65535) {
      this.errors.push(`${name}: ${JSON.stringify(v)} is not a port number (0-65535)`);
      return def;
    }
    return n;
  }

  bool(name: string, def = false): boolean {
    const v = this.env[name];
    if (v === undefined || v === '') return def;
    const p = parseBool(v);
    if (!p.ok) this.errors.push(`${name}: ${JSON.stringify(v)} is not a boolean (true or false)`);
    return p.ok ? p.value : def;
  }

  durationMs(name: string, defMs: number): number {
    const v = this.env[name];
    if (v === undefined || v === '') return defMs;
    const d = parseDuration(v);
    if (!d.ok || d.ns < 0) {
      this.errors.push(`${name}: ${JSON.stringify(v)} is not a non-negative duration such as 30s`);
      return defMs;
    }
    return d.ns / 1e6;
  }
}
