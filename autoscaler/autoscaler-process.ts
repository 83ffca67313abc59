// The autoscaler process (spec §3.1): the stat server (:8080, websocket stats and kubelet
// probes), prom-client metrics with each revision's decider gauges (:9090), the per-revision
// scrape loop (1 s) feeding the collector, and the MultiScaler deciding every 2 s. Config comes
// from ConfigMap YAML files; `runAutoscalerCli` is `knts autoscaler`.
import { KpaDecider } from './decider.ts';
export { AUTOSCALER_OPTIONS } from './autoscaler-options.ts';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { Gauge, Registry } from 'prom-client';
import type { CommandArgs } from '../cli/command.ts';
import { untilSignal } from '../cli/until-signal.ts';
import type { EffectiveConfig } from '../config/configmaps.ts';
import { loadConfigFiles } from '../config/load-files.ts';
import { createLogger } from '../config/logger.ts';
import { levelFor } from '../config/logging.ts';
import { clusterDomain } from '../config/cluster-domain.ts';
import { httpActivatorProber, type ActivatorProber } from './activator-probe.ts';
import { Collector, collectorSpecOf } from './collector.ts';
import { Kpa } from './kpa.ts';
import type { ScaleTarget } from './scale-target.ts';
import { MultiScaler, StaticRevisionSource, realTimers, type Decider, type DecisionRecord, type RevisionSource, type RevisionSpec, type Timers } from './multiscaler.ts';
import { PodScraper, type PodScraperOptions } from './scraper.ts';
import { privateServiceOf, ScrapeRoute } from './scrape-route.ts';
import { startStatServer, STAT_SERVER_PORT, type StatServer } from './stat-server.ts';

export const METRICS_SERVER_PORT = 9090;
export const SCRAPE_INTERVAL_MS = 1000;

// ---------------------------------------------------------------------------------------------
// Decider gauges.

/** Each revision's decider values as prom-client gauges, labelled by namespace and revision. */
export class DeciderGauges {
  readonly registry = new Registry();
  readonly #gauges: Record<'desired' | 'ebc' | 'panic' | 'stable' | 'panicValue' | 'target', Gauge>;

  constructor() {
    const labelNames = ['namespace_name', 'revision_name', 'metric'] as const;
    const gauge = (name: string, help: string): Gauge => new Gauge({ name, help, labelNames, registers: [this.registry] });
    this.#gauges = {
      desired: gauge('autoscaler_desired_pods', 'Number of pods the autoscaler wants to allocate'),
      ebc: gauge('autoscaler_excess_burst_capacity', 'Excess burst capacity observed over the stable window'),
      panic: gauge('autoscaler_panic_mode', '1 if the autoscaler is in panic mode, 0 otherwise'),
      stable: gauge('autoscaler_stable_value', 'Average of the scaling metric over the stable window'),
      panicValue: gauge('autoscaler_panic_value', 'Average of the scaling metric over the panic window'),
      target: gauge('autoscaler_target_value', 'The per-pod target of the scaling metric'),
    };
  }

  observe(r: DecisionRecord): void {
    const labels = { ...keyLabels(r.key), metric: r.metric };
    this.#gauges.desired.set(labels, r.desiredPodCount);
    this.#gauges.ebc.set(labels, r.excessBurstCapacity);
    this.#gauges.panic.set(labels, r.panicking ? 1 : 0);
    this.#gauges.stable.set(labels, r.stable);
    this.#gauges.panicValue.set(labels, r.panic);
    this.#gauges.target.set(labels, r.target);
  }

  remove(key: string): void {
    const { namespace_name, revision_name } = keyLabels(key);
    for (const g of Object.values(this.#gauges)) {
      for (const metric of ['concurrency', 'rps']) g.remove({ namespace_name, revision_name, metric });
    }
  }
}

function keyLabels(key: string): { namespace_name: string; revision_name: string } {
  const slash = key.indexOf('/');
  return { namespace_name: key.slice(0, slash), revision_name: key.slice(slash + 1) };
}

// ---------------------------------------------------------------------------------------------
// The process.

export interface AutoscalerOptions {
  readonly config: EffectiveConfig;
  readonly source: RevisionSource;
  readonly createDecider: (spec: RevisionSpec, nowMs: number) => Decider;
  readonly log: Logger;
  readonly host?: string;
  readonly statPort?: number;
  readonly metricsPort?: number;
  readonly timers?: Timers;
  readonly scraper?: PodScraperOptions;
  /** When set, the KPA drives it: replicas and SKS mode per revision (see kpa.ts). */
  readonly scaleTarget?: ScaleTarget;
  /** The activator probe; default HTTP GET on the public service (activator-probe.ts). */
  readonly probeActivator?: ActivatorProber;
  /** For the default probe's URL; default CLUSTER_DOMAIN, resolv.conf or cluster.local. */
  readonly clusterDomain?: string;
  /** Every decision, after the gauges and the KPA saw it (the embedded runtime's status). */
  readonly onDecision?: (record: DecisionRecord) => void;
}

export interface RunningAutoscaler {
  readonly ports: { readonly stats: number; readonly metrics: number };
  readonly collector: Collector;
  readonly multiScaler: MultiScaler;
  readonly gauges: DeciderGauges;
  /** Present when a scaleTarget was given. */
  readonly kpa: Kpa | undefined;
  close(): Promise<void>;
}

export async function runAutoscaler(o: AutoscalerOptions): Promise<RunningAutoscaler> {
  const timers = o.timers ?? realTimers;
  const collector = new Collector();
  const gauges = new DeciderGauges();
  let kpa: Kpa | undefined;
  const multiScaler = new MultiScaler({
    source: o.source,
    collector,
    createDecider: o.createDecider,
    log: o.log,
    timers,
    onDecision: (r) => {
      gauges.observe(r);
      kpa?.onDecision(r);
      o.onDecision?.(r);
    },
    onRemove: (key) => gauges.remove(key),
  });
  multiScaler.start();
  if (o.scaleTarget) {
    kpa = new Kpa({
      source: o.source,
      deciders: multiScaler,
      target: o.scaleTarget,
      probeActivator: o.probeActivator ?? httpActivatorProber(o.clusterDomain ?? clusterDomain()),
      progressDeadline: o.config.deployment.progressDeadline,
      log: o.log,
      timers,
    });
    // After the MultiScaler, so its runners exist when the KPA first reads the decider status.
    kpa.start();
  }

  const scraper = new PodScraper(o.scraper);
  const scraping = new Set<string>();
  const routes = new Map<string, ScrapeRoute>();
  const routeOptions = { mode: o.config.network.meshCompatibilityMode, passthroughLb: o.config.network.enableMeshPodAddressability };
  const scrapeAll = (): void => {
    const live = new Set<string>();
    for (const spec of o.source.list()) {
      live.add(spec.key);
      if (!collectorSpecOf(spec.autoscaling).hasScrapeTarget || scraping.has(spec.key)) continue;
      scraping.add(spec.key);
      let route = routes.get(spec.key);
      if (route === undefined) routes.set(spec.key, (route = new ScrapeRoute(routeOptions)));
      const stableWindowMs = spec.autoscaling.stableWindow / 1e6;
      const before = route.via;
      void route.scrape(scraper, spec.pods, spec.privateService ?? privateServiceOf(spec.key), stableWindowMs, timers.now()).then((r) => {
        scraping.delete(spec.key);
        if (route.via !== before) o.log.info({ key: spec.key }, 'direct pod scraping failed but the service worked: scraping the service from now on');
        if (!r.ok) o.log.warn({ key: spec.key, via: r.via, err: r.error }, 'failed to scrape metrics');
        else if (r.stat !== null) collector.record(spec.key, timers.now(), r.stat);
      });
    }
    for (const key of routes.keys()) if (!live.has(key)) routes.delete(key);
  };
  const scrapeTimer = timers.setInterval(scrapeAll, SCRAPE_INTERVAL_MS);

  let stats: StatServer | undefined;
  let metrics: Server | undefined;
  try {
    stats = await startStatServer({
      port: o.statPort ?? STAT_SERVER_PORT,
      ...(o.host === undefined ? {} : { host: o.host }),
      log: o.log,
      now: () => timers.now(),
      // Accept: record at the stat's own second, then maybe poke a revision at zero.
      onStat: (key, stat) => {
        collector.record(key, stat.timestamp * 1000, stat);
        multiScaler.poke(key, stat);
      },
    });
    metrics = await startMetricsServer(gauges.registry, o.metricsPort ?? METRICS_SERVER_PORT, o.host);
  } catch (err) {
    timers.clearInterval(scrapeTimer);
    kpa?.close();
    multiScaler.stop();
    scraper.close();
    await stats?.close();
    throw err;
  }
  const statServer = stats;
  const metricsServer = metrics;
  return {
    ports: { stats: statServer.port, metrics: (metricsServer.address() as AddressInfo).port },
    collector,
    multiScaler,
    gauges,
    kpa,
    async close(): Promise<void> {
      timers.clearInterval(scrapeTimer);
      kpa?.close();
      multiScaler.stop();
      scraper.close();
      metricsServer.closeAllConnections();
      await Promise.all([statServer.close(), new Promise<void>((resolve) => metricsServer.close(() => resolve()))]);
    },
  };
}

/** prom-client text on /metrics; /healthz answers 200 for the process's own liveness. */
async function startMetricsServer(registry: Registry, port: number, host: string | undefined): Promise<Server> {
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz') {
      res.writeHead(200, { 'content-length': 0 });
      res.end();
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('404 page not found\n');
      return;
    }
    registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(body);
      },
      (err: Error) => {
        res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
        res.end(`${err.message}\n`);
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return server;
}

// ---------------------------------------------------------------------------------------------
// `knts autoscaler`.


/** The production decider for each revision, created with its ready pods at that moment. */
export const kpaDecider = (spec: RevisionSpec, nowMs: number): Decider => {
  const d = new KpaDecider(spec.autoscaling, spec.pods.length, nowMs, spec.reachability !== 'Unreachable');
  return {
    decide: (stable, panic, readyPods, now) => d.decide(stable, panic, readyPods, now),
    update: (next) => d.update(next.autoscaling, next.reachability !== 'Unreachable'),
  };
};

function portValue(v: unknown, name: string): number | string {
  const n = Number(v);
  return typeof v === 'string' && /^\d+$/.test(v) && n <= 65535 ? n : `--${name}: ${JSON.stringify(v)} is not a port number (0-65535)`;
}

/** `knts autoscaler [CONFIG.yaml...]`: runs until SIGTERM or SIGINT. */
export async function runAutoscalerCli(
  args: CommandArgs,
  createDecider: (spec: RevisionSpec, nowMs: number) => Decider = kpaDecider,
  source: RevisionSource = new StaticRevisionSource(),
): Promise<number> {
  const loaded = await loadConfigFiles(args.positionals);
  if (!loaded.ok) {
    for (const e of loaded.errors) args.stderr.write(`error: ${e}\n`);
    return 1;
  }
  for (const w of loaded.warnings) args.stderr.write(`warning: ${w}\n`);
  const statPort = portValue(args.values['port'] ?? String(STAT_SERVER_PORT), 'port');
  const metricsPort = portValue(args.values['metrics-port'] ?? String(METRICS_SERVER_PORT), 'metrics-port');
  for (const p of [statPort, metricsPort]) {
    if (typeof p === 'string') {
      args.stderr.write(`autoscaler: ${p}\n`);
      return 1;
    }
  }
  const host = args.values['host'];
  const log = createLogger('autoscaler', levelFor(loaded.value.logging, 'autoscaler'));
  let running: RunningAutoscaler;
  try {
    running = await runAutoscaler({
      config: loaded.value,
      source,
      createDecider,
      log,
      statPort: statPort as number,
      metricsPort: metricsPort as number,
      ...(typeof host === 'string' ? { host } : {}),
    });
  } catch (err) {
    log.error({ err: (err as Error).message }, 'autoscaler failed to start');
    args.stderr.write(`autoscaler: ${(err as Error).message}\n`);
    return 1;
  }
  const exit = untilSignal(log, () => running.close());
  log.info({ ports: running.ports }, 'autoscaler listening');
  return exit;
}
