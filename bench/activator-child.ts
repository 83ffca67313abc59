// Child entry point for bench/activator.ts: the real activator (startActivator, its environment
// from parseActivatorEnv with Knative's defaults: probe timeout 300 ms, re-probe every 200 ms,
// buffering limits 10,000 per revision) over a StaticBackendSource that the parent drives on
// stdin, so the activator has a process (and a core) of its own. Only the command channel is
// added; every request goes through the production handler chain.
// Usage: node bench/activator-child.ts <autoscaler-ws-url>
// Environment variables named KNTS_*, PROBE_* or MAX_IDLE_* override the bench defaults;
// KNTS_BENCH_LOG sets the log level (default warn).
// Prints `KNTS_READY {"http":…,"h2c":…,"metrics":…}`. Commands on stdin, `<id> <command> [args]`,
// each answered by `KNTS_OK <id> <json>` (or `KNTS_ERR <id> <message>`):
//   rev <name> <cc> <timeoutSeconds>     sets revision bench/<name> (HTTP/1)
//   endpoints <name> <ready> <notReady>  comma-separated ip:port lists, `-` for none → {at}: the
//                                        clock time (timeOrigin + now) just before the change
//   stats                                → {queued, shed, open, rss, heapUsed, heapTotal, external, arrayBuffers}
//   clock                                → {now}
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { pino } from 'pino';
import { StaticBackendSource } from '../activator/backends.ts';
import { parseActivatorEnv } from '../activator/env.ts';
import { startActivator } from '../activator/server.ts';
import { exitWithParent } from './harness.ts';

/** The namespace of every bench revision (bench/activator.ts sends it in Knative-Serving-Namespace). */
const BENCH_NAMESPACE = 'bench';

exitWithParent();

const autoscalerUrl = process.argv[2];
if (autoscalerUrl === undefined) {
  process.stderr.write('usage: node bench/activator-child.ts <autoscaler-ws-url>\n');
  process.exit(2);
}

const clock = (): number => performance.timeOrigin + performance.now();

const overrides = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(KNTS_|PROBE_|MAX_IDLE_)/.test(k) && k !== 'KNTS_BENCH_LOG'));
const parsed = parseActivatorEnv({
  POD_NAME: 'activator-bench',
  POD_IP: '127.0.0.1',
  KNTS_AUTOSCALER_URL: autoscalerUrl,
  KNTS_LISTEN_HOST: '127.0.0.1',
  KNTS_HTTP_PORT: '0',
  KNTS_H2C_PORT: '0',
  KNTS_METRICS_PORT: '0',
  KNTS_DRAIN_TIMEOUT: '0s',
  ...overrides,
});
if (!parsed.ok) {
  process.stderr.write(`activator env: ${parsed.errors.join('; ')}\n`);
  process.exit(2);
}

const source = new StaticBackendSource();
const act = await startActivator({
  env: parsed.env,
  source,
  // Warn level, as a production activator not being debugged; to stderr, away from the commands.
  log: pino({ name: 'activator', level: process.env['KNTS_BENCH_LOG'] ?? 'warn' }, pino.destination(2)),
  network: { meshCompatibilityMode: 'auto', enableMeshPodAddressability: false },
  clusterDomain: 'cluster.local',
});

const list = (csv: string | undefined): string[] => (csv === undefined || csv === '-' ? [] : csv.split(','));

/** VmRSS from /proc (bytes): process.memoryUsage().rss is the same figure, read here for symmetry. */
function rss(): number {
  const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

function run(cmd: string | undefined, args: string[]): unknown {
  switch (cmd) {
    case 'rev': {
      const [name, cc, timeout] = args;
      if (name === undefined) throw new Error('rev: name missing');
      source.setRevision({
        namespace: BENCH_NAMESPACE,
        name,
        containerConcurrency: Number(cc ?? 0),
        timeoutSeconds: Number(timeout ?? 300),
        responseStartTimeoutSeconds: 0,
        idleTimeoutSeconds: 0,
        protocol: 'http1',
      });
      return {};
    }
    case 'endpoints': {
      const [name, ready, notReady] = args;
      if (name === undefined) throw new Error('endpoints: name missing');
      const at = clock();
      source.setEndpoints(BENCH_NAMESPACE, name, { ready: list(ready), notReady: list(notReady) });
      return { at };
    }
    case 'stats': {
      const mem = process.memoryUsage();
      return {
        queued: act.limits.queued,
        shed: act.limits.shed,
        open: act.handler.open.open,
        rss: rss(),
        heapUsed: mem.heapUsed,
        heapTotal: mem.heapTotal,
        external: mem.external,
        arrayBuffers: mem.arrayBuffers,
      };
    }
    case 'clock':
      return { now: clock() };
    default:
      throw new Error(`unknown command ${cmd}`);
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const [id, cmd, ...args] = line.trim().split(/\s+/);
  if (id === undefined || id === '') return;
  try {
    process.stdout.write(`KNTS_OK ${id} ${JSON.stringify(run(cmd, args))}\n`);
  } catch (err) {
    process.stdout.write(`KNTS_ERR ${id} ${JSON.stringify((err as Error).message)}\n`);
  }
});

process.stdout.write(`KNTS_READY ${JSON.stringify(act.ports)}\n`);
