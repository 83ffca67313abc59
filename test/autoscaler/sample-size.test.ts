// The scraper's sample size table (spec §3.2), worked out from ceil(N × X / (N + X − 1)).
import test from 'ava';
import { sampleSize } from '../../autoscaler/sample-size.ts';

const table: readonly (readonly [number, number])[] = [
  [-1, 0],
  [0, 0],
  [1, 1],
  [2, 2],
  [3, 3],
  [4, 4],
  [5, 4],
  [6, 5],
  [10, 7],
  [20, 9],
  [50, 12],
  [100, 14],
  [1000, 16],
  [10000, 16],
];

for (const [population, want] of table) {
  test(`sample size of ${population} pods is ${want}`, (t) => {
    t.is(sampleSize(population), want);
  });
}

test('the sample never exceeds the population and never exceeds 16', (t) => {
  for (let n = 0; n <= 5000; n++) {
    const s = sampleSize(n);
    t.true(s <= n && s <= 16, `N=${n} n=${s}`);
  }
});
