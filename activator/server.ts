// Assembles a running activator (spec §2.1): the handler on 8012 and 8013 (HTTP/1.1 + h2c
// each), prom-client metrics on 9090, the revision throttlers fed by the backend watcher, the
// 1 s concurrency report over the autoscaler websocket, and the SIGTERM sequence of §2.8.
// main.ts adds the process: env, signals, exit code.
import { createServer } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { NetworkConfig } from '../config/network.ts';
import { listen } from '../network/listen.ts';
import { createDualServer, type DualServer } from '../network/h1-h2c-server.ts';
import { writePlain } from '../network/http-error.ts';
import { revisionKey, type ActivatorRevision, type BackendSource } from './backends.ts';
import { BufferLimits } from './buffer-limits.ts';
import { ConcurrencyReporter, REPORT_PERIOD_MS } from './concurrency-reporter.ts';
import type { ActivatorEnv } from './env.ts';
import { ActivatorHandler, type RevisionQueue } from './handler.ts';
import { ActivatorMetrics } from './metrics.ts';
import { RevisionBackends, type BackendUpdate } from './revision-backends.ts';
import { StatsClient, type StatsClientOptions } from './stats-client.ts';
import { RevisionThrottler } from './throttler.ts';
import { Upstreams } from './upstreams.ts';

/** Go's http.Server header limit (1 MiB + 4 KiB). */
export const MAX_HEADER_BYTES = (1 << 20) + 4096;

export interface ActivatorOptions {
  readonly env: ActivatorEnv;
  readonly source: BackendSource;
  readonly log: Logger;
  /** config-network, read once at startup as Knative does (mesh settings). */
  readonly network: Pick<NetworkConfig, 'meshCompatibilityMode' | 'enableMeshPodAddressability'>;
  readonly clusterDomain: string;
  /** Overrides for the websocket client (tests shorten the backoff). */
  readonly statsClient?: Partial<Omit<StatsClientOptions, 'url' | 'log'>>;
}

export interface RunningActivator {
  readonly ports: { readonly http: number; readonly h2c: number; readonly metrics: number };
  readonly handler: ActivatorHandler;
  readonly statsClient: StatsClient;
  readonly limits: BufferLimits;
  readonly backends: RevisionBackends;
  readonly metrics: ActivatorMetrics;
  /** The revision's throttler, if one exists. */
  throttler(namespace: string, name: string): RevisionThrottler | undefined;
  /** SIGTERM: fail health checks, keep serving for the drain timeout, then close. */
  shutdown(): Promise<void>;
  /** Closes everything now; in-flight requests are cut. */
  close(): Promise<void>;
}

export async function startActivator(o: ActivatorOptions): Promise<RunningActivator> {
  const { env, source, log } = o;
  const now = (): number => performance.now();
  const limits = new BufferLimits(env.limits);
  const reporter = new ConcurrencyReporter({ podName: env.podName });
  const url = env.autoscalerUrl ?? `ws://autoscaler.${env.systemNamespace}.svc.${o.clusterDomain}:8080`;
  const statsClient = new StatsClient({ url, log, ...o.statsClient });
  const upstreams = new Upstreams(MAX_HEADER_BYTES);
  const queues = new Map<string, RevisionQueue>();
  const updates = new Map<string, BackendUpdate>();
  let terminating = false;

  const metrics = new ActivatorMetrics(
    {
      *queues(nowMs) {
        for (const [key, q] of queues) {
          const slash = key.indexOf('/');
          const oldest = q.waiting.values().next();
          yield { namespace: key.slice(0, slash), name: key.slice(slash + 1), length: q.waiting.size, oldestAgeMs: oldest.done ? 0 : nowMs - oldest.value.started, active: q.active };
        }
      },
    },
    now,
  );

  const queueFor = (rev: ActivatorRevision): RevisionQueue => {
    const key = revisionKey(rev.namespace, rev.name);
    let q = queues.get(key);
    if (q === undefined) {
      q = { throttler: new RevisionThrottler({ containerConcurrency: rev.containerConcurrency, ownIp: env.podIp }), waiting: new Set(), active: 0 };
      queues.set(key, q);
      const u = updates.get(key);
      if (u !== undefined) q.throttler.update(u, now());
    }
    return q;
  };

  const retainUpstreams = (): void => {
    const live = new Set<string>();
    for (const q of queues.values()) for (const d of q.throttler.destinations) live.add(d);
    for (const u of updates.values()) for (const d of u.dests) live.add(d);
    upstreams.retain(live);
  };

  const backends = new RevisionBackends({
    source,
    log,
    probeTimeoutMs: env.probeTimeoutMs,
    probeFrequencyMs: env.probeFrequencyMs,
    meshMode: o.network.meshCompatibilityMode,
    passthroughLb: o.network.enableMeshPodAddressability,
    onUpdate: (namespace, name, update) => {
      const key = revisionKey(namespace, name);
      const rev = source.revision(namespace, name);
      if (rev === undefined) {
        // The revision is gone (Knative deletes its throttler). Requests still waiting hold their
        // own reference to the old queue, now without capacity, and end by their timeout; a
        // revision of the same name created later starts afresh.
        updates.delete(key);
        queues.get(key)?.throttler.update({ dests: [], readyBackends: 0 }, now());
        queues.delete(key);
        metrics.forget(namespace, name);
      } else {
        updates.set(key, update);
        queueFor(rev).throttler.update(update, now());
      }
      log.debug({ namespace, revision: name, dests: update.dests, clusterIP: update.clusterIPDest }, 'backends updated');
      retainUpstreams();
    },
  });

  const handler = new ActivatorHandler({
    revision: (namespace, name) => source.revision(namespace, name),
    queue: queueFor,
    report: {
      in(namespace, name, nowMs) {
        const immediate = reporter.handleIn(namespace, name, nowMs);
        // The first request for an idle revision: tell the autoscaler now (scale from zero).
        if (immediate !== undefined) statsClient.send([immediate]);
      },
      out: (namespace, name, nowMs) => reporter.handleOut(namespace, name, nowMs),
    },
    upstreams,
    limits,
    metrics,
    health: { terminating: () => terminating, connected: () => statsClient.connected },
    clusterDomain: o.clusterDomain,
    passthroughLb: o.network.enableMeshPodAddressability,
    now,
    log,
  });

  const tick = setInterval(() => {
    const messages = reporter.report(now());
    for (const m of messages) metrics.concurrency(m.namespace, m.name, m.stat?.averageConcurrentRequests ?? 0);
    if (messages.length > 0) statsClient.send(messages);
  }, REPORT_PERIOD_MS);

  const makeServer = (): DualServer => {
    const s = createDualServer({
      http1: { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: 60_000, requestTimeout: 0, keepAliveTimeout: 65_000 },
      onRequest: handler.handle,
      onUpgrade: handler.handleUpgrade,
    });
    s.http1.on('clientError', (err: NodeJS.ErrnoException, socket) => {
      if (!socket.writable) return socket.destroy();
      const body = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
      socket.end(`HTTP/1.1 ${body}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
    });
    s.http2.on('sessionError', () => undefined);
    return s;
  };
  const http = makeServer();
  const h2c = makeServer();
  const metricsServer = createServer((req, res) => {
    if ((req.url ?? '/').split('?')[0] !== '/metrics') {
      writePlain(res, 404, '404 page not found\n');
      return;
    }
    metrics.registry.metrics().then(
      (body) => writePlain(res, 200, body, { 'content-type': metrics.registry.contentType }),
      (err: Error) => writePlain(res, 500, `${err.message}\n`),
    );
  });

  const servers = [http, h2c];
  let ports: RunningActivator['ports'];
  try {
    ports = {
      http: await listen(http.net, env.httpPort, env.listenHost),
      h2c: await listen(h2c.net, env.h2cPort, env.listenHost),
      metrics: await listen(metricsServer, env.metricsPort, env.listenHost),
    };
  } catch (err) {
    clearInterval(tick);
    for (const s of servers) s.net.close();
    metricsServer.close();
    throw err;
  }
  statsClient.start();
  backends.start();
  for (const r of source.list()) backends.sync(r.namespace, r.name);

  const closeServers = async (force: boolean): Promise<void> => {
    const closing = [...servers.map((s) => s.net), metricsServer].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
    const closeIdle = (): void => {
      for (const s of servers) s.http1.closeIdleConnections();
      metricsServer.closeIdleConnections();
    };
    closeIdle();
    for (const s of servers) for (const session of s.sessions) session.close();
    if (force) {
      for (const s of servers) for (const socket of s.sockets) socket.destroy();
      metricsServer.closeAllConnections();
    }
    const poll = setInterval(closeIdle, 100);
    await handler.open.idle();
    for (const s of servers) for (const socket of s.sockets) socket.destroy();
    await Promise.all(closing);
    clearInterval(poll);
  };
  const stopBackground = async (): Promise<void> => {
    clearInterval(tick);
    backends.close();
    upstreams.close();
    await statsClient.close();
  };

  return {
    ports,
    handler,
    statsClient,
    limits,
    backends,
    metrics,
    throttler: (namespace, name) => queues.get(revisionKey(namespace, name))?.throttler,
    async shutdown() {
      terminating = true;
      log.info({ drainMs: env.drainTimeoutMs }, 'received SIGTERM: failing health checks, draining');
      await new Promise((resolve) => setTimeout(resolve, env.drainTimeoutMs));
      await closeServers(false);
      await stopBackground();
      log.info('shutdown complete');
    },
    async close() {
      terminating = true;
      await Promise.all([closeServers(true), stopBackground()]);
    },
  };
}
