// The pure breaker: admission, queue bound, FIFO grants, cancellation and capacity changes.
import test from 'ava';
import { Breaker, type Waiter } from '../../queue-proxy/breaker.ts';

const waiter = (log: string[], name: string): Waiter => ({ queued: false, grant: () => log.push(name) });

test('cc=1: one runs, ten queue, the twelfth is rejected', (t) => {
  const b = Breaker.forContainerConcurrency(1);
  const log: string[] = [];
  t.is(b.acquire(waiter(log, 'r0')), 'acquired');
  for (let i = 1; i <= 10; i++) t.is(b.acquire(waiter(log, `q${i}`)), 'queued');
  t.is(b.acquire(waiter(log, 'x')), 'full');
  t.is(b.inFlight, 11);
  t.is(b.pending, 10);
  b.release();
  t.deepEqual(log, ['q1']);
  t.is(b.acquire(waiter(log, 'y')), 'queued'); // a freed queue place is usable again
});

// [capacity, maxConcurrency, queueDepth, arrivals, expected admissions]; slots = queue + max.
const table: [number, number, number, number, string[]][] = [
  [2, 2, 0, 3, ['acquired', 'acquired', 'full']],
  [2, 2, 2, 5, ['acquired', 'acquired', 'queued', 'queued', 'full']],
  [0, 1, 3, 5, ['queued', 'queued', 'queued', 'queued', 'full']],
];
for (const [cap, max, depth, n, want] of table) {
  test(`capacity ${cap}, queue ${depth}: ${want.join(',')}`, (t) => {
    const b = new Breaker({ queueDepth: depth, maxConcurrency: max, initialCapacity: cap });
    const got = Array.from({ length: n }, () => b.acquire(waiter([], '')));
    t.deepEqual(got, want);
  });
}

test('grants are first in, first out', (t) => {
  const b = Breaker.forContainerConcurrency(1);
  const log: string[] = [];
  b.acquire(waiter(log, 'run'));
  for (const n of ['a', 'b', 'c']) b.acquire(waiter(log, n));
  b.release();
  b.release();
  b.release();
  t.deepEqual(log, ['a', 'b', 'c']);
  t.is(b.running, 1);
});

test('a newcomer never overtakes a queued request', (t) => {
  const b = new Breaker({ queueDepth: 5, maxConcurrency: 2, initialCapacity: 0 });
  const log: string[] = [];
  b.acquire(waiter(log, 'early'));
  t.false(b.tryAcquireNow());
  b.updateConcurrency(1);
  t.deepEqual(log, ['early']);
  t.false(b.tryAcquireNow()); // capacity 1 is taken by 'early'
});

test('a cancelled waiter frees its place and is never granted', (t) => {
  const b = Breaker.forContainerConcurrency(1);
  const log: string[] = [];
  b.acquire(waiter(log, 'run'));
  const w = waiter(log, 'gone');
  b.acquire(w);
  b.acquire(waiter(log, 'next'));
  t.true(b.cancel(w));
  t.false(b.cancel(w));
  t.is(b.inFlight, 2);
  b.release();
  t.deepEqual(log, ['next']);
});

test('capacity changes keep queued requests and serve them as it grows', (t) => {
  const b = new Breaker({ queueDepth: 10, maxConcurrency: 10, initialCapacity: 0 });
  const log: string[] = [];
  for (const n of ['a', 'b', 'c']) t.is(b.acquire(waiter(log, n)), 'queued');
  b.updateConcurrency(2);
  t.deepEqual(log, ['a', 'b']);
  b.updateConcurrency(1); // shrinking never stops running requests
  t.is(b.running, 2);
  b.release();
  t.deepEqual(log, ['a', 'b']); // still at capacity 1 with one running
  b.release();
  t.deepEqual(log, ['a', 'b', 'c']);
  b.updateConcurrency(50);
  t.is(b.capacity, 10); // capped at maxConcurrency
});

test('release without a running request is an error', (t) => {
  t.throws(() => Breaker.forContainerConcurrency(1).release(), { message: /release without a running request/ });
});

test('bad parameters are rejected', (t) => {
  t.throws(() => new Breaker({ queueDepth: -1, maxConcurrency: 1, initialCapacity: 1 }), { instanceOf: RangeError });
  t.throws(() => new Breaker({ queueDepth: 1, maxConcurrency: 1, initialCapacity: 2 }), { instanceOf: RangeError });
});
