// `knts simulate decisions` end to end through the real CLI: the issue 4 replay contract
// (config line, raw and pre-averaged lines, readyPods carry-over, the clock, "no data"), with
// every expected line worked out by hand; bad input names its line and exits 1.
import test from 'ava';
import { knts, tempFiles } from '../helpers/cli.ts';

const jsonl = (...lines: unknown[]): string => lines.map((l) => (typeof l === 'string' ? l : JSON.stringify(l))).join('\n') + '\n';
const outLines = (stdout: string): unknown[] => stdout.trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown);

test('raw lines through the windows: panic, hold, exit, then no data', async (t) => {
  // cc = 10 ⇒ total 10, target 7; stable window 6 s ⇒ panic window round(0.6 s) = 1 s.
  const input = jsonl(
    { config: { 'stable-window': '6s' }, containerConcurrency: 10 },
    { t: 0, concurrency: 35, readyPods: 1 },
    { t: 1, concurrency: 35 },
    { t: 2, concurrency: 35 },
    { t: 3 }, // readyPods only: records nothing, a 0 second
    { t: 4, concurrency: 7 },
    { t: 14 },
  );
  const r = await knts(['simulate', 'decisions', '-'], input);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(outLines(r.stdout), [
    // 35/7 = 5 pods; 5/1 ≥ 2 ⇒ panic. EBC = floor(1·10 − 211 − 35) = −236.
    { t: 0, desiredPods: 5, excessBurstCapacity: -236, panicking: true, stable: 35, panic: 35 },
    // 105/3 = 35; still over ⇒ panic extended to t = 2.
    { t: 2, desiredPods: 5, excessBurstCapacity: -236, panicking: true, stable: 35, panic: 35 },
    // (35·3 + 0 + 7)/5 = 22.4 ⇒ 4 pods, held at 5 in panic. EBC = floor(10 − 211 − 7) = −208.
    { t: 4, desiredPods: 5, excessBurstCapacity: -208, panicking: true, stable: 22.4, panic: 7 },
    // t0's and t0+1's buckets are stale at t = 6 ⇒ (112 − 35)/4 = 19.25; panic window empty ⇒ 0.
    { t: 6, desiredPods: 5, excessBurstCapacity: -201, panicking: true, stable: 19.25, panic: 0 },
    // 7/2 = 3.5; panicTime 2 s + 6 s = 8 s is not before 8 s: still panicking.
    { t: 8, desiredPods: 5, excessBurstCapacity: -201, panicking: true, stable: 3.5, panic: 0 },
    // 6 s since the last write ⇒ 0; 2 + 6 < 10 ⇒ panic ends; floor(1/2) = 0 pods.
    { t: 10, desiredPods: 0, excessBurstCapacity: -201, panicking: false, stable: 0, panic: 0 },
    // 8 s > 6 s without writes: "no data", no decision; EBC and panic state kept.
    { t: 12, desiredPods: null, excessBurstCapacity: -201, panicking: false, stable: null, panic: null },
    { t: 14, desiredPods: null, excessBurstCapacity: -201, panicking: false, stable: null, panic: null },
  ]);
});

test('pre-averaged lines bypass the windows and hold until the next one', async (t) => {
  const input = jsonl(
    { t: 10, readyPods: 3 }, // decider created at t0 = 10 with 3 pods ⇒ starts panicking
    { t: 12, stable: 50, panic: 10, readyPods: 1 },
    { t: 15, stable: 700, panic: 700 },
    { t: 16 },
  );
  const r = await knts(['simulate', 'decisions', '-'], input);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(outLines(r.stdout), [
    // Before the first pre-averaged line: no data; panic state from creation; initial EBC 1·100 − 211.
    { t: 10, desiredPods: null, excessBurstCapacity: -111, panicking: true, stable: null, panic: null },
    // ceil(50/70) = 1, held at maxPanicPods 3. EBC = floor(1·100 − 211 − 10) = −121.
    { t: 12, desiredPods: 3, excessBurstCapacity: -121, panicking: true, stable: 50, panic: 10 },
    { t: 14, desiredPods: 3, excessBurstCapacity: -121, panicking: true, stable: 50, panic: 10 },
    // 700/70 = 10 pods; 10/1 ≥ 2 extends panic. EBC = floor(100 − 211 − 700) = −811.
    { t: 16, desiredPods: 10, excessBurstCapacity: -811, panicking: true, stable: 700, panic: 700 },
  ]);
});

test('rps metric, a file argument, and readyPods starting at 0', async (t) => {
  const f = await tempFiles({
    'rps.jsonl': jsonl(
      { config: { 'target-burst-capacity': '0' }, annotations: { 'autoscaling.knative.dev/metric': 'rps' } },
      { t: 0, concurrency: 1000, rps: 280 },
      { t: 1, concurrency: 1000 }, // rps missing ⇒ records 0
    ),
  });
  const r = await knts(['simulate', 'decisions', f['rps.jsonl']!]);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(outLines(r.stdout), [
    // rps target 200 × 0.7 = 140 ⇒ 2 pods; R = 1 ⇒ 2/1 ≥ 2 ⇒ panic. TBC 0 ⇒ EBC 0.
    { t: 0, desiredPods: 2, excessBurstCapacity: 0, panicking: true, stable: 280, panic: 280 },
  ]);
});

test('TBC −1: an empty window reads 0 instead of "no data"', async (t) => {
  const input = jsonl({ config: { 'target-burst-capacity': '-1' } }, { t: 0, readyPods: 2 }, { t: 2 });
  const r = await knts(['simulate', 'decisions', '-'], input);
  t.is(r.code, 0, r.stderr);
  t.deepEqual(outLines(r.stdout), [
    // 2 ready pods ⇒ created panicking, holding 2.
    { t: 0, desiredPods: 2, excessBurstCapacity: -1, panicking: true, stable: 0, panic: 0 },
    { t: 2, desiredPods: 2, excessBurstCapacity: -1, panicking: true, stable: 0, panic: 0 },
  ]);
});

test('3 × 0.7: the target keeps float64 digits', async (t) => {
  // cc = 3 ⇒ target 2.0999999999999996, and 2.1 of concurrency needs 2 pods.
  // readyPods defaults to 0 ⇒ EBC = floor(0·3 − 211 − 0) = −211.
  const r = await knts(['simulate', 'decisions', '-'], jsonl({ containerConcurrency: 3 }, { t: 0, stable: 2.1, panic: 0 }));
  t.is(r.code, 0, r.stderr);
  t.deepEqual(outLines(r.stdout), [{ t: 0, desiredPods: 2, excessBurstCapacity: -211, panicking: false, stable: 2.1, panic: 0 }]);
});

const bad: [string, string, RegExp][] = [
  ['invalid JSON', jsonl({ t: 0 }, '{nope'), /line 2: not valid JSON/],
  ['bad config key value', jsonl({ config: { 'stable-window': '3s' } }, { t: 0 }), /line 1: config-autoscaler: stable-window: "3s" must be between 6s and 1h0m0s/],
  ['bad annotation', jsonl({ annotations: { 'autoscaling.knative.dev/window': 'soon' } }, { t: 0 }), /line 1: annotations: autoscaling.knative.dev\/window/],
  ['non-KPA metric', jsonl({ annotations: { 'autoscaling.knative.dev/metric': 'cpu' } }, { t: 0 }), /line 1: annotations: autoscaling.knative.dev\/metric: "cpu" must be concurrency or rps/],
  ['unknown key', jsonl({ t: 0, cpu: 3 }), /line 1: unknown key "cpu"/],
  ['missing t', jsonl({ t: 0 }, { concurrency: 3 }), /line 2: missing t/],
  ['time going back', jsonl({ t: 5 }, { t: 4 }), /line 2: t 4 goes back in time/],
  ['fractional t', jsonl({ t: 0.5 }), /line 1: t must be a whole number/],
  ['negative readyPods', jsonl({ t: 0, readyPods: -1 }), /line 1: readyPods must be a whole number/],
  ['half pre-averaged', jsonl({ t: 0, stable: 3 }), /line 1: a pre-averaged line needs both stable and panic/],
  ['raw and pre-averaged in one line', jsonl({ t: 0, stable: 3, panic: 3, concurrency: 1 }), /line 1: a line is either raw/],
  ['mixed kinds', jsonl({ t: 0, concurrency: 1 }, { t: 1, stable: 1, panic: 1 }), /line 2: a pre-averaged line in a file of raw lines/],
  ['no observations', jsonl({ config: {} }), /no observation lines/],
];

for (const [name, input, message] of bad) {
  test(`bad input exits 1 naming the line: ${name}`, async (t) => {
    const r = await knts(['simulate', 'decisions', '-'], input);
    t.is(r.code, 1);
    t.regex(r.stderr, message);
    t.is(r.stdout, '');
  });
}

test('a missing file exits 1', async (t) => {
  const r = await knts(['simulate', 'decisions', '/nonexistent/knts-replay.jsonl']);
  t.is(r.code, 1);
  t.regex(r.stderr, /cannot read/);
});
