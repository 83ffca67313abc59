// Child entry point for bench/activator.ts: the real activator (startActivator, its environment
// loopbackActivatorEnv's: Knative's defaults, probe timeout 300 ms, re-probe every 200 ms,
// buffering limits 10,000 per revision, on 127.0.0.1 with ephemeral ports and no drain delay)
// over a StaticBackendSource that the parent drives on stdin, so the activator has a process (and
// a core) of its own. Only the command channel is added; every request goes through the
// production handler chain.
// Usage: node bench/activator-child.ts <autoscaler-ws-url>
// Environment variables named KNTS_*, PROBE_* or MAX_IDLE_* override those settings (one set to
// the image's default changes nothing); KNTS_BENCH_LOG sets the log level (default warn).
// Prints `KNTS_READY {"http":…,"h2c":…,"metrics":…}`. Commands on stdin (bench/child-protocol.ts),
// `<id> <command> [args]`, each answered by `KNTS_OK <id> <json>` (or `KNTS_ERR <id> <message>`):
//   rev <name> <cc> <timeoutSeconds>     sets revision bench/<name> (HTTP/1)
//   endpoints <name> <ready> <notReady>  comma-separated ip:port lists, `-` for none → {at}: the
//                                        clock time (timeOrigin + now) just before the change
//   stats                                → {queued, shed, open, rss, heapUsed, heapTotal, external, arrayBuffers}
//   clock                                → {now}
import { pino } from 'pino';
import { StaticBackendSource } from '../activator/backends.ts';
import { loopbackActivatorEnv, parseActivatorEnv, type ActivatorEnv } from '../activator/env.ts';
import { startActivator } from '../activator/server.ts';
import { clock, serveCommands } from './child-protocol.ts';
import { exitWithParent, statusBytes } from './harness.ts';

/** The namespace of every bench revision (bench/activator.ts sends it in Knative-Serving-Namespace). */
const BENCH_NAMESPACE = 'bench';
const BENCH_POD = 'activator-bench';

exitWithParent();

const autoscalerUrl = process.argv[2];
if (autoscalerUrl === undefined) {
  process.stderr.write('usage: node bench/activator-child.ts <autoscaler-ws-url>\n');
  process.exit(2);
}

/**
 * The settings that KNTS_*, PROBE_* and MAX_IDLE_* variables in this process's environment
 * change, parsed as the image parses them: the fields they move off the image's defaults.
 */
function envOverrides(): Partial<ActivatorEnv> {
  const vars = Object.fromEntries(Object.entries(process.env).filter(([k]) => /^(KNTS_|PROBE_|MAX_IDLE_)/.test(k) && k !== 'KNTS_BENCH_LOG'));
  if (Object.keys(vars).length === 0) return {};
  const parse = (env: NodeJS.ProcessEnv): Readonly<Record<string, unknown>> => {
    const r = parseActivatorEnv({ POD_NAME: BENCH_POD, POD_IP: '127.0.0.1', ...env });
    if (!r.ok) throw new Error(`activator env: ${r.errors.join('; ')}`);
    return { ...r.env };
  };
  const defaults = parse({});
  return Object.fromEntries(Object.entries(parse(vars)).filter(([k, v]) => JSON.stringify(v) !== JSON.stringify(defaults[k]))) as Partial<ActivatorEnv>;
}

const source = new StaticBackendSource();
const act = await startActivator({
  env: loopbackActivatorEnv(autoscalerUrl, { podName: BENCH_POD, ...envOverrides() }),
  source,
  // Warn level, as a production activator not being debugged; to stderr, away from the commands.
  log: pino({ name: 'activator', level: process.env['KNTS_BENCH_LOG'] ?? 'warn' }, pino.destination(2)),
  network: { meshCompatibilityMode: 'auto', enableMeshPodAddressability: false },
  clusterDomain: 'cluster.local',
});

const list = (csv: string | undefined): string[] => (csv === undefined || csv === '-' ? [] : csv.split(','));

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
        // VmRSS from /proc, as the parent reads it: process.memoryUsage().rss is the same figure.
        rss: statusBytes(process.pid, 'VmRSS'),
        heapUsed: mem.heapUsed,
        heapTotal: mem.heapTotal,
        external: mem.external,
        arrayBuffers: mem.arrayBuffers,
      };
    }
    default:
      throw new Error(`unknown command ${cmd}`);
  }
}

serveCommands(run);

process.stdout.write(`KNTS_READY ${JSON.stringify(act.ports)}\n`);
