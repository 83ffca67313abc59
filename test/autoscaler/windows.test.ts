// The metric windows against spec §3.3: every worked example, the bucket edge cases (missing
// seconds, out-of-order writes, resets, resize) and the weighted variant's decay constant.
import test from 'ava';
import { createWindow, goPow, roundDown6, smoothingCoefficient } from '../../autoscaler/windows.ts';

const T0 = 1_700_000_000_000; // a whole second, like Knative's unix-second buckets
const at = (s: number): number => T0 + s * 1000;

/** Window 5 s with 1, 2, 3, 4, 5 recorded at t0 … t0+4 (§3.3's example). */
function oneToFive() {
  const w = createWindow('linear', 5000);
  for (let i = 0; i < 5; i++) w.record(at(i), i + 1);
  return w;
}

test('§3.3: a single record averages over the seconds since the first write', (t) => {
  const w = createWindow('linear', 5000);
  w.record(at(0), 1);
  t.is(w.windowAverage(at(0)), 1); // not 1/5
  t.is(w.windowAverage(at(0) + 999), 1); // same bucket
});

test('§3.3: a full window averages its buckets', (t) => {
  t.is(oneToFive().windowAverage(at(4)), 3); // 15 / 5
});

test('§3.3: seconds after the last write drop out of the average', (t) => {
  // At t0+6 the buckets of t0 and t0+1 are stale: (15 − 1 − 2) / 3.
  t.is(oneToFive().windowAverage(at(6)), 4);
});

test('§3.3: a whole window without writes reads 0', (t) => {
  const w = oneToFive();
  t.is(w.windowAverage(at(9)), 0); // d = 5 s = window
  t.is(w.windowAverage(at(10)), 0);
});

test('§3.3: a write after a hole zeroes the skipped seconds', (t) => {
  const w = oneToFive();
  w.record(at(6), 91);
  // t0+5 is a 0 second, t0+6 replaces t0+1's bucket: (15 − 1 − 2 + 91) / 5.
  t.is(w.windowAverage(at(6)), 20.6);
});

test('§3.3: two records in the same second are summed', (t) => {
  const w = createWindow('linear', 5000);
  w.record(at(0), 1);
  w.record(at(0) + 500, 10);
  t.is(w.windowAverage(at(0)), 11);
});

test('a missing second inside the data span counts as 0', (t) => {
  const w = createWindow('linear', 5000);
  w.record(at(0), 6);
  w.record(at(2), 6);
  t.is(w.windowAverage(at(2)), 4); // (6 + 0 + 6) / 3
});

test('an out-of-order write inside the window is added to its second', (t) => {
  const w = createWindow('linear', 5000);
  w.record(at(1), 4);
  w.record(at(3), 4);
  w.record(at(2), 4); // fills the hole
  t.is(w.windowAverage(at(3)), 4); // 12 / 3
  w.record(at(0), 8); // before firstWrite: firstWrite moves back
  t.is(w.windowAverage(at(3)), 5); // 20 / 4
});

test('an out-of-order write a window older than the last write is ignored', (t) => {
  const w = createWindow('linear', 5000);
  w.record(at(10), 5);
  w.record(at(5), 100); // 5 + 5 s ≤ 10: ignored
  t.is(w.windowAverage(at(10)), 5);
  w.record(at(6), 5); // 6 + 5 > 10: kept, firstWrite = t0+6
  t.is(w.windowAverage(at(10)), 2); // (5 + 5) / 5
});

test('a gap of a whole window resets the span', (t) => {
  const w = createWindow('linear', 5000);
  w.record(at(0), 100);
  w.record(at(5), 2); // gap 5 s ≥ window: reset, firstWrite = t0+5
  t.is(w.windowAverage(at(5)), 2);
});

test('averages are rounded down to 6 decimals', (t) => {
  const w = createWindow('linear', 3000);
  w.record(at(0), 2);
  w.record(at(1), 0);
  w.record(at(2), 0);
  t.is(w.windowAverage(at(2)), 0.666666);
  t.is(roundDown6(-1 / 3), -0.333334); // Go's math.Floor, also below zero
});

test('isEmpty: more than a window since the last write', (t) => {
  const w = createWindow('linear', 5000);
  t.true(w.isEmpty(at(0))); // never written
  w.record(at(0), 0); // a recorded 0 is data
  t.false(w.isEmpty(at(0)));
  t.false(w.isEmpty(at(5))); // exactly a window: still data (the average is 0)
  t.is(w.windowAverage(at(5)), 0);
  t.true(w.isEmpty(at(6)));
});

test('resize: growing keeps every bucket and treats the old ring as full', (t) => {
  const w = oneToFive();
  w.resize(10_000, at(4));
  t.is(w.windowMs, 10_000);
  // Knative sets firstWrite = lastWrite − (old buckets − 1) s, so 5 seconds count.
  t.is(w.windowAverage(at(4)), 3);
  w.record(at(5), 15);
  t.is(w.windowAverage(at(5)), 5); // (15 + 15) / 6
});

test('resize: shrinking keeps the newest buckets', (t) => {
  const w = oneToFive();
  w.resize(2000, at(4));
  t.is(w.windowAverage(at(4)), 4.5); // (4 + 5) / 2
});

test('resize: stale data is dropped and the span restarts at the next write', (t) => {
  const w = oneToFive();
  w.resize(60_000, at(20)); // 16 s since the last write > 5 s window
  w.record(at(21), 7);
  // The skipped seconds were zeroed and firstWrite restarts at t0+21.
  t.is(w.windowAverage(at(21)), 7);
  // Without a time, data that was ever written is kept.
  const kept = oneToFive();
  kept.resize(60_000);
  kept.record(at(21), 7);
  t.is(kept.windowAverage(at(21)), 1); // (1+2+3+4+5 + 16 zeros + 7) / 22 seconds since t0
});

test('resize to the same window is a no-op', (t) => {
  const w = oneToFive();
  w.resize(5000, at(100));
  t.is(w.windowAverage(at(4)), 3);
});

test('weighted: the smoothing coefficient of §3.3', (t) => {
  t.is(smoothingCoefficient(6).toFixed(5), '0.78456');
  t.is(smoothingCoefficient(40).toFixed(5), '0.20567');
  t.is(smoothingCoefficient(60), 0.2);
  t.is(smoothingCoefficient(3600), 0.2);
  // Go folds the constant 1 − 0.9999 to exactly 0.0001, and Pow(x, 1) is x.
  t.is(smoothingCoefficient(1), 1 - 0.0001);
  t.is(smoothingCoefficient(2), 1 - Math.sqrt(0.0001)); // Pow(x, 0.5) is Sqrt
});

test('goPow: integral exponents by repeated squaring, like Go', (t) => {
  t.is(goPow(0.8, 0), 1);
  t.is(goPow(0.8, 1), 0.8);
  t.is(goPow(0.8, 2), 0.8 * 0.8);
  t.is(goPow(0.8, 5), 0.8 * (0.8 * 0.8 * (0.8 * 0.8))); // bits 1 and 4
  t.is(goPow(0.5, 1074), 5e-324); // the exponent is kept apart down to subnormals
  t.is(goPow(0.5, 1076), 0);
});

test('weighted: newest bucket weighs m, each older one (1 − m) less', (t) => {
  const w = createWindow('weighted-exponential', 6000);
  const m = smoothingCoefficient(6);
  w.record(at(0), 10);
  w.record(at(1), 20);
  // 20·m + 10·m(1 − m), the 4 empty buckets add 0; no normalisation.
  const expected = 20 * m + 10 * (m * (1 - m));
  t.is(w.windowAverage(at(1)), expected);
  // Two seconds later both shift two places: the newest weight is m·(1−m)².
  const m2 = m * goPow(1 - m, 2);
  t.is(w.windowAverage(at(3)), 20 * m2 + 10 * (m2 * (1 - m)));
  t.is(w.windowAverage(at(7)), 0); // 6 s = window: nothing left to weigh
  t.true(w.isEmpty(at(8)));
  t.is(w.windowAverage(at(8)), 0);
});

test('weighted: the Knative doc example with m = 0.6 shape (recent data dominates)', (t) => {
  const w = createWindow('weighted-exponential', 6000);
  for (const [i, v] of [10, 10, 5, 5].entries()) w.record(at(i), v);
  const rev = createWindow('weighted-exponential', 6000);
  for (const [i, v] of [5, 5, 10, 10].entries()) rev.record(at(i), v);
  t.true(w.windowAverage(at(3)) < rev.windowAverage(at(3)));
});

test('weighted: resize recomputes the coefficient', (t) => {
  const w = createWindow('weighted-exponential', 6000);
  w.record(at(0), 1);
  w.resize(60_000, at(0));
  t.is(w.windowAverage(at(0)), 0.2);
});

test('a non-positive window is a programming error', (t) => {
  t.throws(() => createWindow('linear', 0), { instanceOf: RangeError });
});
