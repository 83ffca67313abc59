// Consistent activator subsetting (spec §3.7): the expected picks published in knative/pkg's
// hash/hash_test.go (TestChooseSubset, TestCollisionHandling), FNV-1a-64 reference values, and
// the properties the SKS reconciler and the activator rely on.
import test from 'ava';
import { chooseSubset, fnv1a64 } from '../../autoscaler/subset.ts';

test('FNV-1a-64 reference values', (t) => {
  t.is(fnv1a64(''), 0xcbf29ce484222325n); // the offset basis
  t.is(fnv1a64('a'), 0xaf63dc4c8601ec8cn);
  t.is(fnv1a64('foobar'), 0x85944171f73967e8n);
});

const PLANETS = ['sun', 'moon', 'mars', 'mercury'];

// knative/pkg hash_test.go TestChooseSubset.
const vectors: [string, number, string, string[]][] = [
  ['return all', 4, 'a target!', ['mars', 'mercury', 'moon', 'sun']],
  ['subset 1', 2, 'a target!', ['mercury', 'moon']],
  ['subset 2', 2, 'something else entirely', ['mars', 'mercury']],
  ['select 3', 3, 'something else entirely', ['mars', 'mercury', 'sun']],
];
for (const [name, n, target, want] of vectors) {
  test(`knative vector: ${name}`, (t) => {
    t.deepEqual(chooseSubset(PLANETS, n, target), want);
  });
}

test('knative vector: colliding keys both get a slot', (t) => {
  // TestCollisionHandling: these two keys hash to the same slot for this target.
  const key1 = 'b08006d4-81f9-42ee-808b-ea18a39cbd83';
  const key2 = 'c9dc8df4-8c8d-4077-8750-6d2c2113a23b';
  const target = 'e68a64e1-19d8-4855-9ffa-04f49223a059';
  t.is(fnv1a64(key1 + target) % 2048n, fnv1a64(key2 + target) % 2048n);
  const one = chooseSubset([key1, key2], 1, target);
  t.is(one.length, 1);
  // Whichever is picked, asking for the other slot too yields both.
  t.is(chooseSubset([key1, key2, 'x'], 2, target).length, 2);
});

const ips = (n: number): string[] => Array.from({ length: n }, (_, i) => `10.0.${i >> 8}.${i & 255}`);

test('deterministic and independent of input order and duplicates', (t) => {
  const from = ips(20);
  const a = chooseSubset(from, 5, 'ns/rev');
  t.deepEqual(chooseSubset(from, 5, 'ns/rev'), a);
  t.deepEqual(chooseSubset([...from].reverse(), 5, 'ns/rev'), a);
  t.deepEqual(chooseSubset([...from, ...from.slice(0, 3)], 5, 'ns/rev'), a);
});

test('n ≥ the number of candidates returns them all, sorted', (t) => {
  t.deepEqual(chooseSubset(['b', 'a', 'c'], 3, 'x'), ['a', 'b', 'c']);
  t.deepEqual(chooseSubset(['b', 'a', 'c'], 10, 'x'), ['a', 'b', 'c']);
  t.deepEqual(chooseSubset([], 2, 'x'), []);
  t.deepEqual(chooseSubset(['a', 'b'], 0, 'x'), []);
});

test('results are distinct members of the input, of size n', (t) => {
  const from = ips(50);
  for (let n = 1; n <= 50; n += 7) {
    const got = chooseSubset(from, n, `rev-${n}`);
    t.is(got.length, n);
    t.is(new Set(got).size, n);
    t.true(got.every((ip) => from.includes(ip)));
  }
});

test('removing one candidate changes few picks', (t) => {
  const from = ips(30);
  let kept = 0;
  let total = 0;
  for (let r = 0; r < 50; r++) {
    const target = `default/rev-${r}`;
    const before = chooseSubset(from, 5, target);
    const gone = before[0] ?? '';
    const after = chooseSubset(from.filter((ip) => ip !== gone), 5, target);
    // The removed one is replaced; of the other 4, most stay.
    for (const ip of before.slice(1)) if (after.includes(ip)) kept++;
    total += 4;
  }
  t.true(kept / total >= 0.75, `kept ${kept} of ${total}`);
});

test('different targets spread over the candidates', (t) => {
  const from = ips(10);
  const counts = new Map<string, number>();
  for (let r = 0; r < 500; r++) for (const ip of chooseSubset(from, 2, `ns/rev-${r}`)) counts.set(ip, (counts.get(ip) ?? 0) + 1);
  // 1000 picks over 10 candidates: each near 100.
  t.is(counts.size, 10);
  for (const c of counts.values()) t.true(c > 50 && c < 150, `count ${c}`);
});
