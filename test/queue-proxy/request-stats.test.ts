// Request statistics: time-weighted concurrency and arrival counts per report window, driven by
// a fake clock (every event carries its own millisecond timestamp).
import test from 'ava';
import { RequestStats, type RequestStatsReport } from '../../queue-proxy/request-stats.ts';

// [event, ms]: in/out for direct requests, inP/outP for requests through the activator.
type Event = readonly ['in' | 'out' | 'inP' | 'outP' | 'report', number];

const r = (
  averageConcurrency: number,
  requestCount: number,
  averageProxiedConcurrency = 0,
  proxiedRequestCount = 0,
): RequestStatsReport => ({ averageConcurrency, averageProxiedConcurrency, requestCount, proxiedRequestCount });

const cases: { name: string; start?: number; events: Event[]; want: RequestStatsReport[] }[] = [
  {
    name: 'spec example: 2 requests of 500 ms in one 1 s window average 1.0',
    events: [['in', 0], ['out', 500], ['in', 500], ['out', 1000], ['report', 1000]],
    want: [r(1, 2)],
  },
  {
    name: 'the same 2 requests side by side also average 1.0',
    events: [['in', 0], ['in', 0], ['out', 500], ['out', 500], ['report', 1000]],
    want: [r(1, 2)],
  },
  {
    name: 'overlapping requests: 250 ms at 1, 500 ms at 2, 250 ms at 1',
    events: [['in', 0], ['in', 250], ['out', 750], ['out', 1000], ['report', 1000]],
    want: [r(1.5, 2)],
  },
  {
    name: 'a 1 ms request in a 1 s window',
    events: [['in', 0], ['out', 1], ['report', 1000]],
    want: [r(0.001, 1)],
  },
  {
    name: 'proxied and direct: the proxied part is also counted in the totals',
    events: [['inP', 0], ['in', 200], ['outP', 600], ['out', 1000], ['report', 1000]],
    want: [r(1.4, 2, 0.6, 1)],
  },
  {
    name: 'only proxied requests',
    events: [['inP', 100], ['inP', 100], ['outP', 600], ['outP', 1100], ['report', 2000]],
    want: [r(0.75, 2, 0.75, 2)],
  },
  {
    name: 'a request spanning several windows carries its concurrency over',
    events: [['in', 500], ['report', 1000], ['report', 2000], ['out', 2250], ['report', 3000]],
    want: [r(0.5, 1), r(1, 0), r(0.25, 0)],
  },
  {
    name: 'idle windows report zeros',
    events: [['report', 1000], ['report', 2000]],
    want: [r(0, 0), r(0, 0)],
  },
  {
    name: 'a window with no elapsed time reports averages of 0, even while busy',
    events: [['in', 0], ['report', 1000], ['report', 1000], ['report', 2000]],
    want: [r(1, 1), r(0, 0), r(1, 0)],
  },
  {
    name: 'out-of-order events change concurrency but add no time',
    // 500..1000 at concurrency 2 (the 400 arrival counts from 500 on); the 900 departure is late.
    events: [['in', 500], ['in', 400], ['out', 1000], ['out', 900], ['report', 1000]],
    want: [r(1, 2)],
  },
  {
    name: 'a report older than the last event: the window is the time actually in use',
    events: [['in', 0], ['out', 1200], ['report', 1000], ['report', 2000]],
    want: [r(1, 1), r(0, 0)],
  },
  {
    name: 'counts reset after a report; concurrency does not',
    events: [['in', 0], ['inP', 100], ['report', 1000], ['report', 2000]],
    want: [r(1.9, 2, 0.9, 1), r(2, 0, 1, 0)],
  },
  {
    name: 'the first window starts at construction time',
    start: 10_000,
    events: [['in', 10_500], ['out', 11_000], ['report', 11_000]],
    want: [r(0.5, 1)],
  },
  {
    name: 'a late tick widens the window instead of inflating the average',
    events: [['in', 0], ['out', 1000], ['report', 1000], ['in', 1000], ['out', 2000], ['report', 2500]],
    want: [r(1, 1), r(2 / 3, 1)],
  },
];

for (const { name, start = 0, events, want } of cases) {
  test(name, (t) => {
    const stats = new RequestStats(start);
    const reports: RequestStatsReport[] = [];
    for (const [kind, ms] of events) {
      if (kind === 'report') reports.push(stats.report(ms));
      else if (kind === 'in' || kind === 'inP') stats.handleIn(ms, kind === 'inP');
      else stats.handleOut(ms, kind === 'outP');
    }
    // Exact: with integer-ms clocks the sums are exact and each average is one rounded division.
    t.deepEqual(reports, want);
  });
}
