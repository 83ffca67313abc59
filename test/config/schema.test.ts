// The field-table machinery: alias precedence, errors under every spelling, cross-key rules.
import test from 'ava';
import { fieldMap, formatIssue } from '../../config/schema.ts';
import { int32Field } from '../../config/fields.ts';

const spec = fieldMap<{ a: number; b: number }>(
  'config-test',
  { a: int32Field('new-a', 1, { aliases: ['oldA', 'older.a'] }), b: int32Field('b', 2) },
  { validate: (c) => (c.a > c.b ? [{ key: 'new-a', rule: 'must not exceed b' }] : []) },
);

test('the kebab key wins over aliases; the first alias over later ones', (t) => {
  const both = spec.parse({ 'new-a': '5', oldA: '1', b: '9' });
  t.true(both.ok && both.config.a === 5);
  const aliases = spec.parse({ oldA: '3', 'older.a': '4', b: '9' });
  t.true(aliases.ok && aliases.config.a === 3);
  const last = spec.parse({ 'older.a': '4', b: '9' });
  t.true(last.ok && last.config.a === 4);
});

test('a bad value under a losing spelling is still an error, as in Knative', (t) => {
  const r = spec.parse({ 'new-a': '1', oldA: 'x' });
  t.false(r.ok);
  if (!r.ok) t.deepEqual(r.errors.map(formatIssue), ['config-test: oldA: "x" must be an integer']);
});

test('cross-key rules name the spelling that was used', (t) => {
  const r = spec.parse({ oldA: '5', b: '3' });
  t.false(r.ok);
  if (!r.ok) t.deepEqual(r.errors.map(formatIssue), ['config-test: oldA: "5" must not exceed b']);
});
