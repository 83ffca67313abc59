// Backend discovery and probing (spec §2.5): one watcher per revision turns the endpoints
// Kubernetes lists into the destinations the throttler may use. Pods are probed directly on
// /healthz as the queue-proxy answers the activator; when no pod can be reached directly but
// the failures look like a mesh sidecar in the way, the private service's ClusterIP is probed
// instead and, once it works, the revision is routed through it for good. This file owns the
// probe rounds, the re-probe timer, the ClusterIP fallback and the update it emits.
import { Agent, request, type IncomingMessage } from 'node:http';
import type { Logger } from 'pino';
import { ACTIVATOR_PROBE_UA, PASSTHROUGH_LB_HEADER, PROBE_HEADER, PROBE_QUEUE } from '../network/headers.ts';
import { revisionKey, type BackendSource, type RevisionEndpoints } from './backends.ts';

export const DEFAULT_PROBE_TIMEOUT_MS = 300;
export const DEFAULT_PROBE_FREQUENCY_MS = 200;
export const HEALTH_CHECK_PATH = '/healthz';
/** A queue-proxy answers `queue`; a few bytes more than that already proves it is not one. */
const MAX_PROBE_BODY_BYTES = 64;

/** config-network mesh-compatibility-mode. */
export type MeshMode = 'auto' | 'enabled' | 'disabled';

/** What the throttler gets for a revision. */
export interface BackendUpdate {
  /** Healthy pod destinations `ip:port`, sorted; empty in ClusterIP mode. */
  readonly dests: string[];
  /** `clusterIP:port` when the revision is routed through its private service. */
  readonly clusterIPDest?: string;
  /** Kubernetes-ready endpoints: the capacity of ClusterIP routing. */
  readonly readyBackends: number;
  /** Passed through from the endpoints (subsetting). */
  readonly activators?: readonly string[];
}

/** One probe GET. `signal` fires at the round's deadline or when the watcher stops. */
export interface ProbeRequest {
  readonly dest: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
}

/**
 * `ok` iff 200 with body exactly `queue`. `status` is set when an HTTP response arrived: it
 * tells a reachable server (no mesh) from a transport error or 502/503 (perhaps a mesh).
 */
export interface ProbeResult {
  readonly ok: boolean;
  readonly status?: number;
}

export type Prober = (req: ProbeRequest) => Promise<ProbeResult>;

export interface RevisionBackendsOptions {
  readonly source: BackendSource;
  readonly onUpdate: (namespace: string, name: string, update: BackendUpdate) => void;
  readonly log: Logger;
  readonly probeTimeoutMs?: number;
  readonly probeFrequencyMs?: number;
  readonly meshMode?: MeshMode;
  /** config-network enable-mesh-pod-addressability. */
  readonly passthroughLb?: boolean;
  /** Replaces the HTTP probe (unit tests). */
  readonly probe?: Prober;
}

const FAILED: ProbeResult = { ok: false };
const EMPTY: RevisionEndpoints = { ready: [], notReady: [] };

/** The real probe: GET http://<dest>/healthz over `agent`. Never rejects. */
export function httpProber(agent: Agent): Prober {
  return ({ dest, headers, signal }) =>
    new Promise<ProbeResult>((resolve) => {
      let url: URL;
      try {
        url = new URL(`http://${dest}${HEALTH_CHECK_PATH}`);
      } catch {
        resolve(FAILED);
        return;
      }
      const req = request(url, { method: 'GET', agent, headers, signal }, (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status !== 200) {
          // Drain so the connection goes back to the pool.
          res.resume();
          resolve({ ok: false, status });
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_PROBE_BODY_BYTES) {
            req.destroy();
            resolve({ ok: false, status });
            return;
          }
          chunks.push(chunk);
        });
        res.on('end', () => resolve({ ok: Buffer.concat(chunks).toString('utf8') === PROBE_QUEUE, status }));
        res.on('error', () => resolve({ ok: false, status }));
        res.on('aborted', () => resolve({ ok: false, status }));
      });
      req.on('error', () => resolve(FAILED));
      req.end();
    });
}

/** Resolves with the probe's result, or FAILED as soon as `signal` fires, whichever is first. */
function bounded(probe: Prober, dest: string, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<ProbeResult> {
  if (signal.aborted) return Promise.resolve(FAILED);
  return new Promise((resolve) => {
    const onAbort = (): void => resolve(FAILED);
    signal.addEventListener('abort', onAbort, { once: true });
    const done = (r: ProbeResult): void => {
      signal.removeEventListener('abort', onAbort);
      resolve(r);
    };
    probe({ dest, headers, signal }).then(done, () => done(FAILED));
  });
}

/** A transport error or a 502/503 is what a mesh sidecar refusing a direct pod call looks like. */
const meshCompatible = (r: ProbeResult): boolean => r.status === undefined || r.status === 502 || r.status === 503;

const sameSet = (a: readonly string[], b: readonly string[]): boolean => {
  if (a.length !== b.length) return false;
  const s = new Set(a);
  return b.every((x) => s.has(x));
};

const sameEndpoints = (a: RevisionEndpoints, b: RevisionEndpoints): boolean =>
  sameSet(a.ready, b.ready) && sameSet(a.notReady, b.notReady) && a.clusterIP === b.clusterIP && sameList(a.activators, b.activators);

const sameList = (a: readonly string[] | undefined, b: readonly string[] | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.length === b.length && a.every((x, i) => x === b[i]));

const sameUpdate = (a: BackendUpdate, b: BackendUpdate): boolean =>
  sameList(a.dests, b.dests) && a.clusterIPDest === b.clusterIPDest && a.readyBackends === b.readyBackends && sameList(a.activators, b.activators);

interface WatcherConfig {
  readonly probe: Prober;
  readonly timeoutMs: number;
  readonly frequencyMs: number;
  readonly meshMode: MeshMode;
  readonly passthroughLb: boolean;
  readonly log: Logger;
  readonly emit: (update: BackendUpdate) => void;
}

/** One revision's state. Probe rounds run one at a time; a change during a round queues another. */
class RevisionWatcher {
  readonly #namespace: string;
  readonly #name: string;
  readonly #cfg: WatcherConfig;
  readonly #headers: Readonly<Record<string, string>>;
  #endpoints: RevisionEndpoints = EMPTY;
  readonly #healthy = new Set<string>();
  /** False once the ClusterIP worked where pods did not: pods are never probed again. */
  #podsAddressable = true;
  #clusterIPHealthy = false;
  #last: BackendUpdate | undefined;
  #running = false;
  #pending = false;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  /** Aborts the round in flight; its results are then discarded. */
  #cancel: AbortController | undefined;
  /** Pods dropped or demoted while a round was in flight: that round's verdict on them is stale. */
  readonly #reset = new Set<string>();

  constructor(namespace: string, name: string, cfg: WatcherConfig) {
    this.#namespace = namespace;
    this.#name = name;
    this.#cfg = cfg;
    const headers: Record<string, string> = { [PROBE_HEADER]: PROBE_QUEUE, 'user-agent': ACTIVATOR_PROBE_UA };
    if (cfg.passthroughLb) {
      // The mesh must deliver to the addressed pod rather than balance over the service.
      headers['host'] = `${name}-private.${namespace}`;
      headers[PASSTHROUGH_LB_HEADER] = 'true';
    }
    this.#headers = headers;
  }

  get healthy(): readonly string[] {
    return [...this.#healthy].sort();
  }

  get last(): BackendUpdate | undefined {
    return this.#last;
  }

  /**
   * Pods are probed one by one unless mesh mode `enabled` says they cannot be reached directly.
   * Passthrough LB makes pods addressable through the mesh, so it keeps pod probing on even
   * then (the ClusterIP would never be used with it anyway).
   */
  get #probesPods(): boolean {
    return this.#podsAddressable && (this.#cfg.meshMode !== 'enabled' || this.#cfg.passthroughLb);
  }

  setEndpoints(next: RevisionEndpoints): void {
    if (this.#closed) return;
    const prev = this.#endpoints;
    if (this.#last !== undefined && sameEndpoints(prev, next)) return;
    this.#endpoints = next;
    const ready = new Set(next.ready);
    const all = new Set([...next.ready, ...next.notReady]);

    if (all.size === 0) {
      // Scaled to zero: nothing to route to, and the ClusterIP must prove itself again.
      this.#clusterIPHealthy = false;
      this.#healthy.clear();
      this.#cancelRound();
      this.#clearTimer();
      this.#emit();
      return;
    }
    if (next.clusterIP === undefined) this.#clusterIPHealthy = false;

    // Gone pods are dropped (the healthy set only ever holds listed pods); an IP that comes back
    // is a new pod and starts over.
    for (const d of [...prev.ready, ...prev.notReady]) {
      if (!all.has(d)) this.#drop(d);
    }
    // A pod Kubernetes took out of ready may be draining: it must pass a probe again.
    for (const d of prev.ready) {
      if (!ready.has(d) && all.has(d)) this.#drop(d);
    }
    if (this.#probesPods && this.#cfg.meshMode !== 'auto') {
      for (const d of ready) this.#healthy.add(d);
    }
    this.#emit();
    this.#kick();
  }

  close(): void {
    this.#closed = true;
    this.#clearTimer();
    this.#cancelRound();
  }

  #drop(dest: string): void {
    this.#healthy.delete(dest);
    this.#reset.add(dest);
  }

  #update(): BackendUpdate {
    const { ready, notReady, clusterIP, activators } = this.#endpoints;
    const act = activators === undefined ? {} : { activators };
    if (ready.length + notReady.length === 0) return { dests: [], readyBackends: 0, ...act };
    if (this.#clusterIPHealthy && clusterIP !== undefined) return { dests: [], clusterIPDest: clusterIP, readyBackends: ready.length, ...act };
    return { dests: this.healthy.slice(), readyBackends: ready.length, ...act };
  }

  /** Reports the state when it differs from what was last reported (always the first time). */
  #emit(): void {
    const u = this.#update();
    if (this.#last !== undefined && sameUpdate(this.#last, u)) return;
    this.#last = u;
    this.#cfg.log.debug({ revision: revisionKey(this.#namespace, this.#name), dests: u.dests, clusterIP: u.clusterIPDest, readyBackends: u.readyBackends }, 'backends changed');
    this.#cfg.emit(u);
  }

  #needsProbe(): boolean {
    const { ready, notReady, clusterIP } = this.#endpoints;
    if (ready.length + notReady.length === 0 || this.#clusterIPHealthy) return false;
    if (this.#probesPods) return ready.some((d) => !this.#healthy.has(d)) || notReady.some((d) => !this.#healthy.has(d));
    return clusterIP !== undefined;
  }

  /** Runs a round now, or right after the one in flight. */
  #kick(): void {
    this.#pending = true;
    if (this.#running || this.#closed) return;
    this.#clearTimer();
    void this.#loop();
  }

  async #loop(): Promise<void> {
    this.#running = true;
    while (this.#pending && !this.#closed) {
      this.#pending = false;
      if (this.#needsProbe()) await this.#round();
    }
    this.#running = false;
    this.#arm();
  }

  /** Re-probes every probeFrequency while some endpoint is still not healthy. */
  #arm(): void {
    if (this.#closed || this.#timer !== undefined || !this.#needsProbe()) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#kick();
    }, this.#cfg.frequencyMs);
    // Probing alone must not keep a process alive.
    this.#timer.unref();
  }

  #clearTimer(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #cancelRound(): void {
    this.#cancel?.abort();
  }

  async #round(): Promise<void> {
    const cancel = new AbortController();
    this.#cancel = cancel;
    this.#reset.clear();
    try {
      if (this.#probesPods) {
        const { ready, notReady } = this.#endpoints;
        const targets = [...new Set([...ready, ...notReady])].filter((d) => !this.#healthy.has(d));
        const results = await this.#probeAll(targets, cancel.signal);
        if (cancel.signal.aborted) return;
        const present = new Set([...this.#endpoints.ready, ...this.#endpoints.notReady]);
        let directlyReachable = false;
        targets.forEach((dest, i) => {
          const r = results[i] ?? FAILED;
          if (!meshCompatible(r)) directlyReachable = true;
          // Probe optimisation: a pod passing the probe is healthy even if Kubernetes lists it
          // only as not ready (its readiness probe has simply not run yet).
          if (r.ok && present.has(dest) && !this.#reset.has(dest)) this.#healthy.add(dest);
        });
        this.#emit();
        if (this.#healthy.size > 0 || directlyReachable) return;
        if (this.#cfg.passthroughLb || this.#cfg.meshMode === 'disabled') return;
      }
      await this.#probeClusterIP(cancel.signal);
    } finally {
      if (this.#cancel === cancel) this.#cancel = undefined;
    }
  }

  /** No pod answered directly, but a mesh might be why: try the private service. */
  async #probeClusterIP(cancel: AbortSignal): Promise<void> {
    const clusterIP = this.#endpoints.clusterIP;
    if (clusterIP === undefined) return;
    const [r] = await this.#probeAll([clusterIP], cancel);
    if (cancel.aborted || r?.ok !== true || this.#endpoints.clusterIP !== clusterIP) return;
    const { ready, notReady } = this.#endpoints;
    if (ready.length + notReady.length === 0) return;
    if (this.#podsAddressable) this.#cfg.log.info({ revision: revisionKey(this.#namespace, this.#name), clusterIP }, 'pods are not directly addressable, routing via the ClusterIP');
    this.#podsAddressable = false;
    this.#clusterIPHealthy = true;
    this.#healthy.clear();
    this.#emit();
  }

  /** Probes `dests` in parallel under one deadline. */
  #probeAll(dests: readonly string[], cancel: AbortSignal): Promise<ProbeResult[]> {
    const signal = AbortSignal.any([cancel, AbortSignal.timeout(this.#cfg.timeoutMs)]);
    return Promise.all(dests.map((d) => bounded(this.#cfg.probe, d, this.#headers, signal)));
  }
}

/** Watches every revision the source reports and keeps its healthy destinations current. */
export class RevisionBackends {
  readonly #source: BackendSource;
  readonly #onUpdate: RevisionBackendsOptions['onUpdate'];
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #frequencyMs: number;
  readonly #meshMode: MeshMode;
  readonly #passthroughLb: boolean;
  readonly #ownAgent: Agent | undefined;
  readonly #probe: Prober;
  readonly #watchers = new Map<string, RevisionWatcher>();
  #unsubscribe: (() => void) | undefined;
  #closed = false;

  constructor(options: RevisionBackendsOptions) {
    this.#source = options.source;
    this.#onUpdate = options.onUpdate;
    this.#log = options.log;
    this.#timeoutMs = options.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
    this.#frequencyMs = options.probeFrequencyMs ?? DEFAULT_PROBE_FREQUENCY_MS;
    this.#meshMode = options.meshMode ?? 'auto';
    this.#passthroughLb = options.passthroughLb ?? false;
    if (options.probe !== undefined) {
      this.#probe = options.probe;
    } else {
      // Probes keep their connections alive between rounds. Knative shares them with the proxy's
      // transport; here the proxy is undici (network/), so probes have an agent of their own.
      this.#ownAgent = new Agent({ keepAlive: true });
      this.#probe = httpProber(this.#ownAgent);
    }
  }

  /** Follows the source's changes. Revisions it already knows need a `sync` each. */
  start(): void {
    if (this.#closed || this.#unsubscribe !== undefined) return;
    this.#unsubscribe = this.#source.subscribe((namespace, name) => this.sync(namespace, name));
  }

  /** Reads the revision's endpoints and probes what changed. A deleted revision's watcher goes. */
  sync(namespace: string, name: string): void {
    if (this.#closed) return;
    const key = revisionKey(namespace, name);
    const endpoints = this.#source.endpoints(namespace, name);
    let w = this.#watchers.get(key);
    if (endpoints === undefined) {
      if (w === undefined) return;
      w.close();
      this.#watchers.delete(key);
      // Tell the consumer the revision has no destinations left, so it forgets the revision.
      // Always, even when the last update was already empty (a revision deleted at zero).
      this.#notify(namespace, name, { dests: [], readyBackends: 0 });
      return;
    }
    if (w === undefined) {
      w = new RevisionWatcher(namespace, name, {
        probe: this.#probe,
        timeoutMs: this.#timeoutMs,
        frequencyMs: this.#frequencyMs,
        meshMode: this.#meshMode,
        passthroughLb: this.#passthroughLb,
        log: this.#log,
        emit: (update) => this.#notify(namespace, name, update),
      });
      this.#watchers.set(key, w);
    }
    w.setEndpoints(endpoints);
  }

  #notify(namespace: string, name: string, update: BackendUpdate): void {
    try {
      this.#onUpdate(namespace, name, update);
    } catch (err) {
      this.#log.error({ err, revision: revisionKey(namespace, name) }, 'backend update listener failed');
    }
  }

  /** The revision's healthy pod destinations, sorted (empty in ClusterIP mode). */
  healthy(namespace: string, name: string): readonly string[] {
    return this.#watchers.get(revisionKey(namespace, name))?.healthy ?? [];
  }

  /** The last update emitted for the revision. */
  current(namespace: string, name: string): BackendUpdate | undefined {
    return this.#watchers.get(revisionKey(namespace, name))?.last;
  }

  /** Stops watching: timers cleared, probes in flight aborted, kept-alive connections closed. */
  close(): void {
    this.#closed = true;
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
    this.#ownAgent?.destroy();
  }
}
