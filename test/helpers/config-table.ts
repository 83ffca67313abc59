// Table-driven registration of ConfigMap parser tests, shared by every map's test file:
// a valid row parses to the expected field value with no warning; an invalid row yields
// exactly the expected error messages.
import test from 'ava';
import { formatIssue, type ParseResult } from '../../config/schema.ts';

type Parse<T> = (data: Readonly<Record<string, string>>) => ParseResult<T>;

/** [key, value, field of the typed config, expected parsed value] */
export type ValidRow<T> = readonly [string, string, keyof T, unknown];
/** [ConfigMap data, the exact error message] */
export type InvalidRow = readonly [Readonly<Record<string, string>>, string];

export function validRows<T>(parse: Parse<T>, rows: readonly ValidRow<T>[]): void {
  for (const [key, value, field, want] of rows) {
    test(`valid ${key}: ${JSON.stringify(value)}`, (t) => {
      const r = parse({ [key]: value });
      t.true(r.ok, r.ok ? '' : r.errors.map(formatIssue).join('\n'));
      if (r.ok) {
        t.deepEqual(r.config[field] as unknown, want);
        t.deepEqual(r.warnings.map(formatIssue), []);
      }
    });
  }
}

export function invalidRows<T>(parse: Parse<T>, rows: readonly InvalidRow[]): void {
  for (const [data, message] of rows) {
    test(`invalid ${JSON.stringify(data)}`, (t) => {
      const r = parse(data);
      t.false(r.ok);
      if (!r.ok) t.deepEqual(r.errors.map(formatIssue), [message]);
    });
  }
}
