// Assembles a running queue-proxy from its environment: the serving port (HTTP/1.1 + h2c), the
// admin, autoscaler-metrics and optional user-metrics ports, the 1 s stats tick, and the
// shutdown sequence of spec §1.10. main.ts adds signals and the exit code.
import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { listen } from '../network/listen.ts';
import { createDualServer } from '../network/h1-h2c-server.ts';
import { Http1Upstream, Http2Upstream } from '../network/proxy.ts';
import { Breaker } from './breaker.ts';
import { Drainer } from './drainer.ts';
import type { QueueEnv } from './env.ts';
import { MainHandler, type RequestObserver } from './handler.ts';
import { parseReadinessProbe } from './probe-spec.ts';
import { ReadinessProber } from './readiness.ts';
import { RequestLog } from './request-log.ts';
import { RequestStats } from './request-stats.ts';
import { createAdminServer, createMetricsServer } from './side-servers.ts';
import { REPORTING_PERIOD_MS, StatsReporter } from './stats-reporter.ts';
import type { UserMetrics } from './user-metrics.ts';

/** Go's http.Server limit (1 MiB + 4 KiB); Node's default of 16 KiB breaks large cookies. */
export const MAX_HEADER_BYTES = (1 << 20) + 4096;

export interface RunningQueueProxy {
  readonly ports: { serving: number; admin: number; metrics: number; userMetrics?: number };
  readonly handler: MainHandler;
  readonly drainer: Drainer;
  readonly reporter: StatsReporter;
  /** SIGTERM arrived: drain, close, wait for upgraded connections. */
  shutdown(): Promise<void>;
  /** Marks that SIGTERM arrived (the admin drain then keeps draining). */
  terminating: boolean;
}

export type StartResult = { ok: true; qp: RunningQueueProxy } | { ok: false; error: string };

export async function startQueueProxy(env: QueueEnv, log: Logger): Promise<StartResult> {
  const probes = parseReadinessProbe(env.readinessProbe, env.enableMultiContainerProbes);
  if (!probes.ok) return { ok: false, error: probes.error };

  const started = performance.now();
  const now = (): number => performance.now();
  const stats = new RequestStats(started);
  const reporter = new StatsReporter(stats, env.pod, started);
  const drainer = new Drainer(env.drainQuietPeriodMs);
  const breaker = env.containerConcurrency > 0 ? Breaker.forContainerConcurrency(env.containerConcurrency) : undefined;
  // With a breaker, more than cc connections are never in use at once.
  const http1 = new Http1Upstream({
    host: env.userHost,
    port: env.userPort,
    ...(env.containerConcurrency > 0 ? { maxConnections: env.containerConcurrency } : {}),
    maxHeaderSize: MAX_HEADER_BYTES,
  });
  const http2 = new Http2Upstream(env.userHost, env.userPort);
  const readiness = new ReadinessProber(probes.probes, {
    http2AutoDetection: env.enableHttp2AutoDetection,
    log: (msg: string) => log.warn(msg),
  });

  const observers: RequestObserver[] = [];
  let userMetrics: UserMetrics | undefined;
  if (env.requestMetrics.protocol === 'prometheus') {
    // Loaded only when enabled: prom-client alone adds about 20 MB of RSS.
    const { UserMetrics } = await import('./user-metrics.ts');
    userMetrics = new UserMetrics(
      { namespace: env.namespace, service: env.service, configuration: env.configuration, revision: env.revision, pod: env.pod },
      () => breaker?.inFlight,
    );
    observers.push(userMetrics);
  }
  if (env.enableRequestLog) {
    try {
      observers.push(
        new RequestLog(env.requestLogTemplate, { Name: env.revision, Namespace: env.namespace, Service: env.service, Configuration: env.configuration, PodName: env.pod, PodIP: env.podIp }, env.enableProbeRequestLog),
      );
    } catch (err) {
      return { ok: false, error: `OBSERVABILITY_CONFIG: requestLogTemplate: ${(err as Error).message}` };
    }
  }

  const handler = new MainHandler({
    breaker,
    drainer,
    readiness,
    stats,
    http1,
    http2,
    observers,
    now,
    timeoutMs: env.revisionTimeoutSeconds * 1000,
    responseStartTimeoutMs: env.responseStartTimeoutSeconds * 1000,
    idleTimeoutMs: env.idleTimeoutSeconds * 1000,
    upgradeTimeoutExempt: env.upgradeTimeoutExempt,
    onUpstreamError: (err) => log.debug({ err: err.message }, 'error reverse proxying request'),
  });

  const main = createDualServer({
    http1: { maxHeaderSize: MAX_HEADER_BYTES, headersTimeout: 60_000, requestTimeout: 0, keepAliveTimeout: 65_000 },
    http2: { maxSessionMemory: 64 },
    onRequest: handler.handle,
    onUpgrade: handler.handleUpgrade,
  });
  // Garbage or oversized headers: answer as Go's server does, and never crash.
  main.http1.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return socket.destroy();
    const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
    const body = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
    socket.end(`HTTP/1.1 ${body}\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n${body}`);
  });
  main.http2.on('sessionError', () => undefined);

  const admin = createAdminServer({ drainer, terminating: () => qp.terminating });
  const metrics = createMetricsServer(reporter);
  const userMetricsServer = userMetrics?.createServer();

  const tick = setInterval(() => reporter.report(now()), REPORTING_PERIOD_MS);
  tick.unref();

  let servingPort: number;
  let adminPort: number;
  let metricsPort: number;
  let userMetricsPort: number | undefined;
  try {
    servingPort = await listen(main.net, env.servingPort, env.listenHost);
    adminPort = await listen(admin, env.adminPort, env.listenHost);
    metricsPort = await listen(metrics, env.metricsPort, env.listenHost);
    if (userMetricsServer) userMetricsPort = await listen(userMetricsServer, env.userMetricsPort, env.listenHost);
  } catch (err) {
    clearInterval(tick);
    for (const s of [main.net, admin, metrics, userMetricsServer]) s?.close();
    return { ok: false, error: `listen: ${(err as Error).message}` };
  }

  const closeAll = async (): Promise<void> => {
    clearInterval(tick);
    const closing = [main.net, admin, metrics, userMetricsServer].map(
      (s) => new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve())),
    );
    // Like Go's Shutdown: keep closing connections as they go idle, so in-flight requests
    // finish and keep-alive ones do not hold the close open.
    const closeIdle = (): void => {
      main.http1.closeIdleConnections();
      admin.closeIdleConnections();
      metrics.closeIdleConnections();
      userMetricsServer?.closeIdleConnections();
    };
    closeIdle();
    const poll = setInterval(closeIdle, 100);
    for (const session of main.sessions) session.close();
    await Promise.all(closing);
    clearInterval(poll);
    http1.close();
    http2.close();
  };

  const qp: RunningQueueProxy = {
    ports: { serving: servingPort, admin: adminPort, metrics: metricsPort, ...(userMetricsPort !== undefined ? { userMetrics: userMetricsPort } : {}) },
    handler,
    drainer,
    reporter,
    terminating: false,
    async shutdown() {
      qp.terminating = true;
      log.info('received TERM signal, draining');
      await drainer.drain();
      log.info('drained; shutting down servers');
      const closed = closeAll();
      // As Go's Shutdown: in-flight requests finish (no deadline); then upgraded connections
      // get up to the hijacked timeout; whatever is still open after that is cut.
      await handler.inFlight.idle();
      await handler.hijacked.idle(env.hijackedDrainTimeoutMs);
      for (const s of main.sockets) s.destroy();
      await closed;
      log.info('shutdown complete');
    },
  };
  return { ok: true, qp };
}
