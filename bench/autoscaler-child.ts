// Child entry point for bench/autoscaler.ts: the real autoscaler (runAutoscaler with the KPA
// decider, real timers, Knative's default config) over a StaticRevisionSource whose pods are the
// simulated endpoints of fake-queue-proxies.ts. Only counting is added: revision scrapes recorded
// by the collector, decisions (the decider wrapped), scrape failures (warn log lines), and the
// event-loop delay from perf_hooks.
// Usage: node bench/autoscaler-child.ts <layout.json>   (layout: {"revisions":[[port,...],...]})
// Prints `KNTS_READY <revisions>`. Commands on stdin: `start` zeroes the counters, `report`
// prints `KNTS_JSON {...}`.
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { kpaDecider, runAutoscaler } from '../autoscaler/autoscaler-process.ts';
import { StaticRevisionSource, type Decider, type RevisionSpec } from '../autoscaler/multiscaler.ts';
import { effectiveConfig } from '../config/configmaps.ts';
import { resolveRevisionAutoscaling } from '../config/revision-autoscaling.ts';
import { exitWithParent } from './harness.ts';

exitWithParent();

const layoutFile = process.argv[2];
if (layoutFile === undefined) {
  process.stderr.write('usage: node bench/autoscaler-child.ts <layout.json>\n');
  process.exit(2);
}
const layout = JSON.parse(readFileSync(layoutFile, 'utf8')) as { revisions: number[][] };

const counts = { scrapes: 0, scrapeFailures: 0, warnLines: 0, decisions: 0, panicking: 0, scaleChanges: 0 };
let since = performance.now();

// Warn level, as a production autoscaler that is not being debugged; the lines are counted (a
// failed scrape is one) and the first few passed on to stderr.
const logSink = new Writable({
  write(chunk: Buffer, _enc, done) {
    const text = chunk.toString();
    counts.warnLines++;
    if (text.includes('failed to scrape')) counts.scrapeFailures++;
    if (counts.warnLines <= 5) process.stderr.write(text);
    done();
  },
});
const log = pino({ name: 'autoscaler', level: 'warn' }, logSink);

const config = effectiveConfig([]).config;
// Default settings: concurrency target 100 × 0.7, target-burst-capacity 211 (so a scrape
// target), 60 s stable and 6 s panic windows.
const autoscaling = resolveRevisionAutoscaling({}, config.autoscaler, 0);
const podStart = Date.now() - 10 * 60_000;
const specs: RevisionSpec[] = layout.revisions.map((ports, i) => ({
  key: `bench/rev-${String(i).padStart(5, '0')}`,
  autoscaling,
  pods: ports.map((port) => ({ ip: '127.0.0.1', startTimeMs: podStart, port })),
}));

/** The production decider, counted: desired scale moving off the ready pods shows real work. */
function countedDecider(spec: RevisionSpec, nowMs: number): Decider {
  const inner = kpaDecider(spec, nowMs);
  return {
    decide(stable, panic, readyPods, now) {
      const d = inner.decide(stable, panic, readyPods, now);
      counts.decisions++;
      if (d.panicking) counts.panicking++;
      if (d.desiredPodCount !== readyPods) counts.scaleChanges++;
      return d;
    },
  };
}

const running = await runAutoscaler({
  config,
  source: new StaticRevisionSource(specs),
  createDecider: countedDecider,
  log,
  host: '127.0.0.1',
  statPort: 0,
  metricsPort: 0,
});

// Every successful revision scrape ends in one collector.record (no activator stats here).
const collector = running.collector;
const record = collector.record.bind(collector);
collector.record = (key, timeMs, stat) => {
  counts.scrapes++;
  return record(key, timeMs, stat);
};

// The histogram records whole timer intervals, resolution included: it is subtracted below.
const LAG_RESOLUTION_MS = 10;
const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS });
lag.enable();

createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'start') {
    for (const k of Object.keys(counts) as (keyof typeof counts)[]) counts[k] = 0;
    lag.reset();
    since = performance.now();
  } else if (line === 'report') {
    const seconds = (performance.now() - since) / 1000;
    const ms = (ns: number): number => Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS);
    const mem = process.memoryUsage();
    process.stdout.write(
      `KNTS_JSON ${JSON.stringify({
        seconds,
        revisions: specs.length,
        pods: specs.reduce((n, s) => n + s.pods.length, 0),
        ...counts,
        lagP50Ms: ms(lag.percentile(50)),
        lagP99Ms: ms(lag.percentile(99)),
        lagMaxMs: ms(lag.max),
        heapUsed: mem.heapUsed,
        heapTotal: mem.heapTotal,
        external: mem.external,
      })}\n`,
    );
  }
});

process.stdout.write(`KNTS_READY ${specs.length}\n`);
