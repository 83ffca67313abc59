// Scalar parsers with Go's strconv rules, which Knative applies to every ConfigMap value.
import test from 'ava';
import { parseBool, parseFloat64, parseInt32, parseInt64, parseQuantity } from '../../config/values.ts';

test('parseBool accepts exactly strconv.ParseBool words', (t) => {
  for (const w of ['1', 't', 'T', 'TRUE', 'true', 'True']) t.deepEqual(parseBool(w), { ok: true, value: true }, w);
  for (const w of ['0', 'f', 'F', 'FALSE', 'false', 'False']) t.deepEqual(parseBool(w), { ok: true, value: false }, w);
  for (const w of ['yes', 'on', 'tRUE', ' true', '', 'enabled']) t.false(parseBool(w).ok, w);
});

test('parseInt32: decimal only, with sign, within int32', (t) => {
  const good: [string, number][] = [['0', 0], ['-0', 0], ['+7', 7], ['-2147483648', -2147483648], ['2147483647', 2147483647], ['007', 7]];
  for (const [s, n] of good) t.deepEqual(parseInt32(s), { ok: true, value: n }, s);
  for (const s of ['', ' 1', '1 ', '1.0', '1e3', '0x10', '1_000', '2147483648', '-2147483649', 'abc']) t.false(parseInt32(s).ok, s);
});

test('parseInt64 rejects what a JS number cannot hold exactly', (t) => {
  t.deepEqual(parseInt64('9007199254740991'), { ok: true, value: 9007199254740991 });
  t.false(parseInt64('9007199254740993').ok);
});

test('parseFloat64: Go literal forms', (t) => {
  const good: [string, number][] = [
    ['1', 1], ['-1.5', -1.5], ['+.5', 0.5], ['5.', 5], ['1e3', 1000], ['1E-2', 0.01], ['1_000.5', 1000.5],
    ['0x1p-2', 0.25], ['0x1.8p1', 3], ['-0x10p0', -16], ['0', 0], ['-0', 0],
  ];
  for (const [s, n] of good) t.deepEqual(parseFloat64(s), { ok: true, value: n }, s);
  for (const s of ['', ' 1', '1 ', 'abc', '1e', '0x10', '1,5', '--1', '1__0']) {
    t.deepEqual(parseFloat64(s), { ok: false, rule: 'must be a number' }, s);
  }
  for (const s of ['NaN', 'inf', '+Inf', '-infinity', '1e999']) {
    t.deepEqual(parseFloat64(s), { ok: false, rule: 'must be a finite number' }, s);
  }
});

test('parseQuantity: Kubernetes quantities', (t) => {
  for (const s of ['100m', '1', '0.5', '128Mi', '1Gi', '1e3', '2k', '1.5G', '+1']) t.true(parseQuantity(s).ok, s);
  for (const s of ['', '1 Gi', 'lots', '1gb', 'Mi', '1.2.3']) t.false(parseQuantity(s).ok, s);
});
