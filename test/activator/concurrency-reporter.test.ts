// The activator's concurrency reporter (spec §2.7): immediate scale-from-zero messages, the
// first-report adjustment, time-weighted averages over ms timestamps, and forgetting idle
// revisions. Each case is a script of events on a virtual clock and the messages it must
// produce, worked out by hand in the comments.
import test from 'ava';
import { ConcurrencyReporter } from '../../activator/concurrency-reporter.ts';
import { emptyStat, type WireStatMessage } from '../../autoscaler/stat-proto.ts';

const POD = 'activator-7d9f-abcde';

type Event =
  | readonly ['in', string, number] // revision name (namespace "ns"), time in ms
  | readonly ['out', string, number]
  | readonly ['report', number];

/** What one event returned: the immediate message or undefined for `in`, the batch for `report`. */
type Output = WireStatMessage | undefined | WireStatMessage[] | null;

function msg(name: string, averageConcurrentRequests: number, requestCount: number, namespace = 'ns'): WireStatMessage {
  return { namespace, name, stat: { ...emptyStat(), podName: POD, averageConcurrentRequests, requestCount } };
}

const IMMEDIATE = (name: string): WireStatMessage => msg(name, 1, 1);

function run(events: readonly Event[]): Output[] {
  const r = new ConcurrencyReporter({ podName: POD });
  return events.map((e): Output => {
    switch (e[0]) {
      case 'in':
        return r.handleIn('ns', e[1], e[2]);
      case 'out':
        r.handleOut('ns', e[1], e[2]);
        return null;
      case 'report':
        return r.report(e[1]);
    }
  });
}

interface Case {
  readonly title: string;
  readonly events: readonly Event[];
  readonly want: readonly Output[];
}

const cases: readonly Case[] = [
  {
    title: 'the first request sends the immediate message; a second one in the same window does not',
    events: [['in', 'a', 0], ['in', 'a', 100]],
    want: [IMMEDIATE('a'), undefined],
  },
  {
    // 0–500 ms at concurrency 1 over a 1000 ms window: 0.5, minus the immediate 1 → max(−0.5, 0) = 0;
    // 1 arrival − 1 = 0. The average was 0.5, so the entry survives; the next period is idle (0, 0)
    // and deletes it, so the request at 2100 is a new scale-from-zero trigger.
    title: 'the first report subtracts the immediate request; an idle period deletes the entry',
    events: [['in', 'a', 0], ['out', 'a', 500], ['report', 1000], ['report', 2000], ['in', 'a', 2100]],
    want: [IMMEDIATE('a'), null, [msg('a', 0, 0)], [msg('a', 0, 0)], IMMEDIATE('a')],
  },
  {
    // Integral: 0–250 ×1 = 250, 250–500 ×2 = 500, 500–750 ×1 = 250 → 1000 / 1000 = 1, minus 1 = 0;
    // 2 arrivals − 1 = 1. Only the first report is adjusted: the second window sees 1 arrival.
    title: 'only the first report after the immediate message is adjusted',
    events: [
      ['in', 'a', 0], ['in', 'a', 250], ['out', 'a', 500], ['out', 'a', 750], ['report', 1000],
      ['in', 'a', 1000], ['out', 'a', 1500], ['report', 2000],
    ],
    want: [IMMEDIATE('a'), undefined, null, null, [msg('a', 0, 1)], undefined, null, [msg('a', 0.5, 1)]],
  },
  {
    // 1000–1250 ×1 = 250, 1250–1500 ×2 = 500, 1500–1750 ×1 = 250, 1750–2000 ×2 = 500 → 1.5 − 1 = 0.5,
    // 3 − 1 = 2 arrivals. The next window is 1250 ms long (a late tick): 2000–2100 ×2 = 200,
    // 2100–2600 ×1 = 500, then 0 → 700 / 1250 = 0.56, no arrivals. Then idle → deleted.
    title: 'time-weighted averages over ms timestamps, window measured from the previous report',
    events: [
      ['in', 'a', 1000], ['in', 'a', 1250], ['out', 'a', 1500], ['in', 'a', 1750], ['report', 2000],
      ['out', 'a', 2100], ['out', 'a', 2600], ['report', 3250], ['report', 4250], ['in', 'a', 4300],
    ],
    want: [IMMEDIATE('a'), undefined, null, undefined, [msg('a', 0.5, 2)], null, null, [msg('a', 0.56, 0)], [msg('a', 0, 0)], IMMEDIATE('a')],
  },
  {
    // A request arriving at the very instant of the report has had no time in use: the window's
    // average is 0 (1000–2000 at concurrency 0), yet it is in flight, so the entry stays and no new
    // immediate message is sent. The next window is 1 throughout; then 0.5; then idle → deleted.
    title: 'a request in flight keeps an entry whose average was 0',
    events: [
      ['in', 'a', 0], ['out', 'a', 400], ['report', 1000],
      ['in', 'a', 2000], ['report', 2000], ['report', 3000], ['out', 'a', 3500], ['report', 4000], ['report', 5000],
      ['in', 'a', 5100],
    ],
    want: [
      IMMEDIATE('a'), null, [msg('a', 0, 0)],
      undefined, [msg('a', 0, 1)], [msg('a', 1, 0)], null, [msg('a', 0.5, 0)], [msg('a', 0, 0)],
      IMMEDIATE('a'),
    ],
  },
  {
    // A long request spanning several windows keeps reporting concurrency 1 (after the first
    // report's adjustment) and is never forgotten.
    title: 'a long request reports 1 every period',
    events: [['in', 'a', 0], ['report', 1000], ['report', 2000], ['report', 3000], ['in', 'a', 3000]],
    want: [IMMEDIATE('a'), [msg('a', 0, 0)], [msg('a', 1, 0)], [msg('a', 1, 0)], undefined],
  },
  {
    // Two reports at the same instant: the second window has no time in use, so its average is 0,
    // but the request still in flight keeps the entry.
    title: 'a report with no elapsed time averages 0 and keeps in-flight entries',
    events: [['in', 'a', 0], ['report', 1000], ['report', 1000], ['report', 2000]],
    want: [IMMEDIATE('a'), [msg('a', 0, 0)], [msg('a', 0, 0)], [msg('a', 1, 0)]],
  },
  {
    // a: 0–1000 ×1 → 1 − 1 = 0, then 0 → deleted. b (created at 500): 500–1000 ×1 over the 500 ms
    // since it was created = 1 − 1 = 0, then 1000–1500 ×1 = 0.5, then 0 → deleted. Batches keep
    // the order in which revisions were first seen.
    title: 'revisions are reported and forgotten independently',
    events: [
      ['in', 'a', 0], ['in', 'b', 500], ['out', 'a', 1000], ['report', 1000], ['out', 'b', 1500], ['report', 2000],
      ['report', 3000], ['in', 'a', 3100], ['in', 'b', 3200],
    ],
    want: [
      IMMEDIATE('a'), IMMEDIATE('b'), null, [msg('a', 0, 0), msg('b', 0, 0)], null, [msg('a', 0, 0), msg('b', 0.5, 0)],
      [msg('b', 0, 0)], IMMEDIATE('a'), IMMEDIATE('b'),
    ],
  },
  {
    title: 'nothing tracked: an empty batch; an unmatched handleOut is ignored',
    events: [['report', 1000], ['out', 'a', 1100], ['report', 2000], ['in', 'a', 2100]],
    want: [[], null, [], IMMEDIATE('a')],
  },
];

for (const c of cases) {
  test(c.title, (t) => {
    t.deepEqual(run(c.events), c.want);
  });
}

test('revisions are keyed by namespace and name', (t) => {
  const r = new ConcurrencyReporter({ podName: POD });
  t.deepEqual(r.handleIn('ns-1', 'rev', 0), msg('rev', 1, 1, 'ns-1'));
  t.deepEqual(r.handleIn('ns-2', 'rev', 0), msg('rev', 1, 1, 'ns-2'));
  t.is(r.handleIn('ns-1', 'rev', 10), undefined);
  t.is(r.size, 2);
  t.is(r.inFlight('ns-1', 'rev'), 2);
  t.is(r.inFlight('ns-2', 'rev'), 1);
  t.is(r.inFlight('ns-3', 'rev'), 0);
  r.handleOut('ns-1', 'rev', 20);
  t.is(r.inFlight('ns-1', 'rev'), 1);
  t.true(r.tracks('ns-2', 'rev'));
  t.false(r.tracks('ns-3', 'rev'));
});

test('an unmatched handleOut does not drive the in-flight count below zero', (t) => {
  const r = new ConcurrencyReporter({ podName: POD });
  r.handleIn('ns', 'a', 0);
  r.handleOut('ns', 'a', 100);
  r.handleOut('ns', 'a', 200); // extra: ignored
  t.is(r.inFlight('ns', 'a'), 0);
  // 0–100 ×1 over 1000 ms = 0.1 − 1 → 0; had the extra out counted, the average would be negative.
  t.deepEqual(r.report(1000), [msg('a', 0, 0)]);
  r.handleIn('ns', 'a', 1000);
  t.deepEqual(r.report(2000), [msg('a', 1, 1)]);
});
