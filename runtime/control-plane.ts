// The embedded runtime's moving parts, wired as in a cluster: the local cluster (pods as
// processes), the real autoscaler (scraping each pod's queue-proxy on :9090-equivalent ports,
// deciding, driving the cluster as its ScaleTarget), the real activator (fed by the cluster as
// its BackendSource, reporting to the autoscaler over the websocket), and the ingress on a
// public and an internal (cluster-local) port. Everything talks over loopback.
import { extname } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import type { EffectiveConfig } from '../config/configmaps.ts';
import { pinoLevel } from '../config/logging.ts';
import { createDualServer, type DualServer } from '../network/h1-h2c-server.ts';
import { listen } from '../network/listen.ts';
import { probeActivatorHttp } from '../autoscaler/activator-probe.ts';
import { kpaDecider, runAutoscaler, type RunningAutoscaler } from '../autoscaler/autoscaler-process.ts';
import type { DecisionRecord } from '../autoscaler/multiscaler.ts';
import { loopbackActivatorEnv } from '../activator/env.ts';
import { startActivator, MAX_HEADER_BYTES, type RunningActivator } from '../activator/server.ts';
import { Upstreams } from '../activator/upstreams.ts';
import { Ingress, type HostRule } from './ingress.ts';
import { LocalCluster, type LocalRevision } from './local-cluster.ts';

export interface ControlPlaneOptions {
  readonly host: string;
  readonly port: number;
  /** The cluster-local ingress port (0 = ephemeral). */
  readonly internalPort: number;
  readonly config: () => EffectiveConfig;
  readonly log: Logger;
  readonly podLog: (pod: string, container: string, line: string) => void;
  /** Activator pod probe period; Knative's 200 ms, shorter locally for faster cold starts. */
  readonly probeFrequencyMs?: number;
}

export interface ControlPlane {
  readonly cluster: LocalCluster;
  readonly ingress: Ingress;
  readonly autoscaler: RunningAutoscaler;
  readonly activator: RunningActivator;
  readonly ports: { readonly ingress: number; readonly internal: number; readonly activator: number; readonly autoscaler: number };
  /** The latest decision per revision key. */
  readonly decisions: ReadonlyMap<string, DecisionRecord>;
  apply(revisions: readonly LocalRevision[], rules: readonly HostRule[]): void;
  close(): Promise<void>;
}

/** The queue-proxy entry next to this module: `.ts` from a checkout, `.js` from dist/. */
function queueProxyScript(): string {
  const ext = extname(fileURLToPath(import.meta.url));
  return fileURLToPath(new URL(`../queue-proxy/main${ext}`, import.meta.url));
}

/**
 * A component's logger: at the config-logging level when one is set for it; otherwise the
 * data-plane components stay at warn, so a terminal running `knts serve` shows the runtime's own
 * lines and the apps' output rather than a decision every 2 s per revision.
 */
function componentLog(log: Logger, config: EffectiveConfig, component: string): Logger {
  const level = config.logging.levels[component];
  return log.child({ subsystem: component }, { level: level === undefined ? 'warn' : pinoLevel(level) });
}

export async function startControlPlane(o: ControlPlaneOptions): Promise<ControlPlane> {
  const log = o.log;
  const cluster = new LocalCluster({
    config: o.config,
    queueProxy: { execPath: process.execPath, args: [queueProxyScript()] },
    log: log.child({ subsystem: 'cluster' }),
    podLog: o.podLog,
  });
  const decisions = new Map<string, DecisionRecord>();
  let activatorPort = 0;
  const autoscaler = await runAutoscaler({
    config: o.config(),
    source: cluster.revisions,
    createDecider: kpaDecider,
    log: componentLog(log, o.config(), 'autoscaler'),
    host: '127.0.0.1',
    statPort: 0,
    metricsPort: 0,
    scaleTarget: cluster.scaleTarget,
    // The revision's public service leads to the activator exactly when the SKS is in Proxy
    // mode; then the real activator must answer the probe.
    probeActivator: async (key) => cluster.effectiveMode(key) === 'Proxy' && activatorPort > 0 && probeActivatorHttp(`http://127.0.0.1:${activatorPort}/healthz`, 2000),
    onDecision: (r) => decisions.set(r.key, r),
  });
  const activator = await startActivator({
    env: loopbackActivatorEnv(`ws://127.0.0.1:${autoscaler.ports.stats}`, { probeFrequencyMs: o.probeFrequencyMs ?? 50 }),
    source: cluster.backends,
    log: componentLog(log, o.config(), 'activator'),
    network: o.config().network,
    clusterDomain: 'cluster.local',
  });
  activatorPort = activator.ports.http;

  const upstreams = new Upstreams(MAX_HEADER_BYTES);
  const ingress = new Ingress({
    upstreams,
    log: log.child({ subsystem: 'ingress' }),
    activator: () => `127.0.0.1:${activatorPort}`,
    routing: {
      destinationsFor: (namespace, revision) => {
        const key = `${namespace}/${revision}`;
        return cluster.effectiveMode(key) === 'Serve' ? { via: 'pods', pods: cluster.readyAddresses(key) } : { via: 'activator' };
      },
    },
  });
  const servers: DualServer[] = [];
  const serve = async (internal: boolean, port: number): Promise<number> => {
    const h = ingress.handler(internal);
    const s = createDualServer({ http1: { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 0 }, onRequest: h.request, onUpgrade: h.upgrade });
    s.http1.on('clientError', (_err, socket) => socket.destroy());
    s.http2.on('sessionError', () => undefined);
    servers.push(s);
    return listen(s.net, port, o.host);
  };
  let ports: ControlPlane['ports'];
  try {
    ports = { ingress: await serve(false, o.port), internal: await serve(true, o.internalPort), activator: activatorPort, autoscaler: autoscaler.ports.stats };
  } catch (err) {
    for (const s of servers) s.net.close();
    await Promise.all([activator.close(), autoscaler.close()]);
    throw err;
  }

  return {
    cluster,
    ingress,
    autoscaler,
    activator,
    ports,
    decisions,
    apply(revisions, rules) {
      cluster.setRevisions(revisions);
      ingress.setRules(rules);
      const live = new Set(revisions.map((r) => `${r.namespace}/${r.name}`));
      for (const k of decisions.keys()) if (!live.has(k)) decisions.delete(k);
    },
    async close() {
      for (const s of servers) {
        s.net.close();
        for (const sock of s.sockets) sock.destroy();
      }
      // Pods drain meanwhile, and none is started or replaced any more (on Ctrl-C the terminal
      // signals every pod too).
      const pods = cluster.close();
      // The activator first: it reports to the autoscaler, and would try to reconnect.
      await activator.close();
      await autoscaler.close();
      upstreams.close();
      await pods;
    },
  };
}
