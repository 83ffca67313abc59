// The throttler's pure parts (spec §2.4), table-driven from the spec's and Knative's
// throttler_test.go examples: subsetting, capacity, membership, and the LB policies.
import test from 'ava';
import { firstAvailable, PodTracker, policyFor, powerOfTwoChoices, roundRobin } from '../../activator/lb-policy.ts';
import { assignSlice, MAX_CAPACITY, membershipOf, revisionCapacity, RevisionThrottler } from '../../activator/throttler.ts';

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

const slices: [string, number, number, number, number[]][] = [
  // name, pods, activators, index, expected pod indices
  ['10 pods / 3 activators, idx 0 takes the remnant', 10, 3, 0, [0, 1, 2, 9]],
  ['10 pods / 3 activators, idx 1', 10, 3, 1, [3, 4, 5]],
  ['10 pods / 3 activators, idx 2', 10, 3, 2, [6, 7, 8]],
  ['150 pods / 5 activators, idx 1', 150, 5, 1, range(30).map((i) => 30 + i)],
  ['2 pods / 3 activators, idx 1 shares pod 1', 2, 3, 1, [1]],
  ['2 pods / 3 activators, idx 2 shares pod 0', 2, 3, 2, [0]],
  ['5 pods / 2 activators, idx 0 gets 3', 5, 2, 0, [0, 1, 4]],
  ['5 pods / 2 activators, idx 1 gets 2', 5, 2, 1, [2, 3]],
  ['unknown index uses all', 4, 3, -1, [0, 1, 2, 3]],
  ['one activator uses all', 4, 1, 0, [0, 1, 2, 3]],
  ['one pod is used by everyone', 1, 3, 2, [0]],
];
for (const [name, pods, count, index, want] of slices) {
  test(`assignSlice: ${name}`, (t) => {
    t.deepEqual(assignSlice(range(pods), { index, count }, 1), want);
  });
}

test('assignSlice: cc = 0 always uses every pod', (t) => {
  t.deepEqual(assignSlice(range(10), { index: 1, count: 3 }, 0), range(10));
});

const capacities: [string, number, number, boolean, number, number, number][] = [
  // name, cc, assigned pods, clusterIP, ready backends, activators, capacity
  ['cc 1 × 3 pods', 1, 3, false, 0, 1, 3],
  ['cc 10 × 2 pods', 10, 2, false, 0, 5, 20],
  ['cc 0 with pods is unlimited', 0, 1, false, 0, 1, MAX_CAPACITY],
  ['no pods is 0', 5, 0, false, 7, 1, 0],
  ['cc 0 and no pods is 0', 0, 0, false, 0, 1, 0],
  ['ClusterIP: 10 backends × cc 10 / 5 activators', 10, 0, true, 10, 5, 20],
  ['ClusterIP: floored at 1 with 200 activators', 10, 0, true, 10, 200, 1],
  ['ClusterIP: no ready backends is 0', 10, 0, true, 0, 2, 0],
  ['ClusterIP: cc 0 is unlimited', 0, 0, true, 3, 2, MAX_CAPACITY],
  ['huge cc × pods is capped', 2 ** 30, 4, false, 0, 1, MAX_CAPACITY],
];
for (const [name, cc, pods, clusterIP, ready, activators, want] of capacities) {
  test(`revisionCapacity: ${name}`, (t) => {
    t.is(revisionCapacity(cc, pods, clusterIP, ready, activators), want);
  });
}

test('membership: sorted as strings; absent own IP is ignored', (t) => {
  t.deepEqual(membershipOf(['10.0.0.9', '10.0.0.10', '10.0.0.1'], '10.0.0.10'), { index: 1, count: 3 });
  t.is(membershipOf(['10.0.0.2'], '10.0.0.1'), undefined);
});

test('throttler: updates keep queued requests and grant them as capacity grows; subsetting from the activators', (t) => {
  const th = new RevisionThrottler({ containerConcurrency: 1, ownIp: '10.0.0.2' });
  const granted: number[] = [];
  const waiters = range(5).map((i) => ({ queued: false, grant: () => granted.push(i) }));
  for (const w of waiters) t.is(th.breaker.acquire(w), 'queued');
  th.update({ dests: ['p:1', 'p:2', 'p:3', 'p:4'], readyBackends: 4 }, 100);
  t.is(th.capacity, 4);
  t.deepEqual(granted, [0, 1, 2, 3]);
  t.is(th.openedAtMs, 100);
  // Now two activators: 10.0.0.2 is index 1 of 2 → pods 3 and 4, capacity 2.
  th.update({ dests: ['p:1', 'p:2', 'p:3', 'p:4'], readyBackends: 4, activators: ['10.0.0.2', '10.0.0.1'] }, 200);
  t.deepEqual(th.destinations, ['p:3', 'p:4']);
  t.is(th.capacity, 2);
  // An update without this activator in the list leaves the membership alone.
  th.update({ dests: ['p:1', 'p:2', 'p:3', 'p:4'], readyBackends: 4, activators: ['10.0.0.7'] }, 300);
  t.deepEqual(th.membership, { index: 1, count: 2 });
  // Scaling to zero: capacity 0, the last waiter still queued.
  th.update({ dests: [], readyBackends: 0 }, 400);
  t.is(th.capacity, 0);
  t.is(th.breaker.pending, 1);
  t.is(th.pick(), undefined);
});

test('throttler: ClusterIP mode sends everything to the cluster IP', (t) => {
  const th = new RevisionThrottler({ containerConcurrency: 2, ownIp: '10.0.0.1' });
  th.update({ dests: [], clusterIPDest: '10.1.1.1:80', readyBackends: 3 }, 0);
  t.is(th.capacity, 6);
  t.deepEqual(th.pick(), { dest: '10.1.1.1:80', tracker: undefined });
});

const trackers = (cc: number, n: number): PodTracker[] => range(n).map((i) => new PodTracker(`10.0.0.${i}:8012`, cc));

test('LB policy is chosen by containerConcurrency', (t) => {
  t.is(policyFor(0).name, 'power-of-two-choices');
  t.is(policyFor(1).name, 'first-available');
  t.is(policyFor(3).name, 'first-available');
  t.is(policyFor(4).name, 'round-robin');
});

test('first available fills pods in sorted order and never exceeds cc per pod', (t) => {
  const ts = trackers(2, 3);
  const picks = range(7).map(() => firstAvailable.pick(ts)?.dest);
  t.deepEqual(picks, ['10.0.0.0:8012', '10.0.0.0:8012', '10.0.0.1:8012', '10.0.0.1:8012', '10.0.0.2:8012', '10.0.0.2:8012', undefined]);
  ts[1]!.release();
  t.is(firstAvailable.pick(ts)?.dest, '10.0.0.1:8012');
});

test('round robin goes around from a shared cursor and skips full pods', (t) => {
  const ts = trackers(5, 3);
  const rr = roundRobin();
  t.deepEqual(range(4).map(() => rr.pick(ts)?.dest), ['10.0.0.0:8012', '10.0.0.1:8012', '10.0.0.2:8012', '10.0.0.0:8012']);
  const full = trackers(1, 3);
  const rr2 = roundRobin();
  t.is(rr2.pick(full)?.dest, '10.0.0.0:8012');
  t.is(rr2.pick(full)?.dest, '10.0.0.1:8012');
  full[1]!.release();
  // Cursor at 2: pod 2 is free.
  t.is(rr2.pick(full)?.dest, '10.0.0.2:8012');
  // Cursor wraps to 0 (full), then 1 (free again).
  t.is(rr2.pick(full)?.dest, '10.0.0.1:8012');
  t.is(rr2.pick(full), undefined);
});

test('power of two choices takes the less loaded of two distinct pods; ties by coin', (t) => {
  const ts = trackers(0, 3);
  // random sequence: i = floor(0.0×3) = 0, j = floor(0.5×2) = 1, which is ≥ i so it skips to 2:
  // pods 0 and 2, a tie, coin 0.2 → the first.
  const seq = [0.0, 0.5, 0.2];
  let k = 0;
  const p2c = powerOfTwoChoices(() => seq[k++ % seq.length] as number);
  t.is(p2c.pick(ts)?.dest, '10.0.0.0:8012');
  // Now pod 0 has 1 in flight; the same draw → pod 2 (fewer).
  t.is(p2c.pick(ts)?.dest, '10.0.0.2:8012');
  // i = 0, j would be 0 → skips to 1: never the same pod twice.
  const same = powerOfTwoChoices(() => 0);
  const two = trackers(0, 2);
  two[0]!.inFlight = 5;
  t.is(same.pick(two)?.dest, '10.0.0.1:8012');
  t.is(p2c.pick([]), undefined);
});
