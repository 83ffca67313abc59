// The cluster side of the embedded runtime: each revision's pods (local processes) and its SKS
// mode, exposed through the interfaces the real components consume. The autoscaler's KPA drives
// it as a ScaleTarget (replicas, Proxy/Serve), the autoscaler reads it as a RevisionSource (ready
// pods to scrape), and the activator reads it as a BackendSource (pod addresses and readiness),
// just as they would read Deployments, ServerlessServices and Endpoints in Kubernetes.
import type { Logger } from 'pino';
import type { EffectiveConfig } from '../config/configmaps.ts';
import { resolveRevisionAutoscaling } from '../config/revision-autoscaling.ts';
import { progressDeadlineOf } from '../autoscaler/scaler.ts';
import type { RevisionSource, RevisionSpec as AutoscaledRevision } from '../autoscaler/multiscaler.ts';
import type { ScaleTarget, SksMode } from '../autoscaler/scale-target.ts';
import type { ActivatorRevision, BackendSource, RevisionEndpoints } from '../activator/backends.ts';
import type { RevisionSpec } from '../webhook/types.ts';
import { queueEnv, servingContainer } from './queue-env.ts';
import type { PodSpec } from './pod-process.ts';
import { RevisionPods } from './revision-pods.ts';

/** A revision as the runtime runs it (defaulted spec; immutable once created). */
export interface LocalRevision {
  readonly namespace: string;
  readonly name: string;
  readonly configuration: string;
  readonly service: string;
  readonly spec: RevisionSpec;
  readonly annotations: Readonly<Record<string, string>>;
  readonly labels: Readonly<Record<string, string>>;
  /** The folder of the YAML file: the app's working directory. */
  readonly cwd: string;
  /** Referenced by a route (PA reachability): unreferenced revisions scale to zero. */
  readonly reachable: boolean;
}

export interface LocalClusterOptions {
  readonly config: () => EffectiveConfig;
  /** How to start a queue-proxy: node and its entry script. */
  readonly queueProxy: { readonly execPath: string; readonly args: readonly string[] };
  readonly log: Logger;
  /** Pod output: `[pod container] line`. */
  readonly podLog: (pod: string, container: string, line: string) => void;
  readonly drainQuietPeriod?: string;
}

interface Entry {
  rev: LocalRevision;
  readonly pods: RevisionPods;
  mode: SksMode;
  numActivators: number;
  /** The autoscaler's settings for it as last announced (config-autoscaler edits change them). */
  settings: string;
}

const keyOf = (namespace: string, name: string): string => `${namespace}/${name}`;

export class LocalCluster {
  readonly #o: LocalClusterOptions;
  readonly #entries = new Map<string, Entry>();
  readonly #listeners = new Set<(key: string) => void>();
  #closed = false;
  /** Pods of deleted revisions, still draining. */
  readonly #closing = new Set<Promise<void>>();
  readonly scaleTarget: ScaleTarget;
  readonly backends: BackendSource;
  readonly revisions: RevisionSource;

  constructor(options: LocalClusterOptions) {
    this.#o = options;
    const self = this;
    this.scaleTarget = {
      setReplicas(key, replicas) {
        const e = self.#entries.get(key);
        if (e && e.pods.desired !== replicas) {
          self.#o.log.info({ revision: key, replicas }, 'scaling');
          e.pods.scale(replicas);
        }
        return Promise.resolve();
      },
      setMode(key, mode, numActivators) {
        const e = self.#entries.get(key);
        if (e && (e.mode !== mode || e.numActivators !== numActivators)) {
          if (e.mode !== mode) self.#o.log.info({ revision: key, mode }, 'SKS mode');
          e.mode = mode;
          e.numActivators = numActivators;
          self.#emit(key);
        }
        return Promise.resolve();
      },
      getReplicas(key) {
        return Promise.resolve(self.#entries.get(key)?.pods.desired);
      },
    };
    this.backends = {
      list: () => [...this.#entries.values()].map((e) => ({ namespace: e.rev.namespace, name: e.rev.name })),
      revision: (namespace, name) => {
        const e = this.#entries.get(keyOf(namespace, name));
        return e === undefined ? undefined : activatorRevision(e.rev);
      },
      endpoints: (namespace, name) => {
        const e = this.#entries.get(keyOf(namespace, name));
        return e === undefined ? undefined : this.#endpoints(e);
      },
      subscribe: (listener) => this.#subscribe((key) => listener(key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1))),
    };
    this.revisions = {
      list: () => [...this.#entries.values()].map((e) => this.#autoscaled(e)),
      get: (key) => {
        const e = this.#entries.get(key);
        return e === undefined ? undefined : this.#autoscaled(e);
      },
      subscribe: (listener) => this.#subscribe(listener),
    };
  }

  /**
   * Makes the set of revisions exactly `revs`: new ones get pods, gone ones are terminated.
   * Revisions whose reachability or autoscaler settings (from the current config) changed are
   * announced, so the autoscaler picks the change up.
   */
  setRevisions(revs: readonly LocalRevision[]): void {
    if (this.#closed) return;
    const keep = new Set<string>();
    for (const rev of revs) {
      const key = keyOf(rev.namespace, rev.name);
      keep.add(key);
      const e = this.#entries.get(key);
      if (e === undefined) {
        this.#add(key, rev);
        continue;
      }
      const reachabilityChanged = e.rev.reachable !== rev.reachable;
      if (reachabilityChanged) {
        e.rev = rev;
        e.pods.syncSpare();
      }
      const settings = this.#settings(rev);
      if (reachabilityChanged || settings !== e.settings) {
        e.settings = settings;
        this.#emit(key);
      }
    }
    for (const [key, e] of this.#entries) {
      if (keep.has(key)) continue;
      this.#entries.delete(key);
      this.#o.log.info({ revision: key }, 'revision deleted');
      this.#emit(key);
      const closing = e.pods.close();
      this.#closing.add(closing);
      void closing.finally(() => this.#closing.delete(closing));
    }
  }

  #add(key: string, rev: LocalRevision): void {
    const config = this.#o.config();
    const pods = new RevisionPods({
      key,
      name: rev.name,
      podSpec: (podName) => this.#podSpec(rev, podName),
      onChange: (k) => this.#emit(k),
      onLog: (pod, container, line) => this.#o.podLog(pod, container, line),
      onError: (k, err) => this.#o.log.error({ revision: k, err: err.message }, 'pod failed to start'),
      // Only revisions that can get traffic keep a queue-proxy ready at zero.
      warmSidecar: () => this.#entries.get(key)?.rev.reachable === true,
    });
    this.#entries.set(key, { rev, pods, mode: 'Proxy', numActivators: 0, settings: this.#settings(rev) });
    this.#o.log.info({ revision: key }, 'revision created');
    // The Deployment starts at the initial scale; from then on the KPA decides (0 if unreachable).
    const a = resolveRevisionAutoscaling(rev.annotations, config.autoscaler, rev.spec.containerConcurrency ?? 0);
    pods.scale(rev.reachable ? a.initialScale : 0);
    this.#emit(key);
  }

  #podSpec(rev: LocalRevision, podName: string): PodSpec {
    const c = servingContainer(rev.spec);
    const env: Record<string, string> = { PATH: process.env['PATH'] ?? '', HOME: process.env['HOME'] ?? '' };
    for (const e of c?.env ?? []) if (e.value !== undefined) env[e.name] = e.value;
    Object.assign(env, { K_REVISION: rev.name, K_CONFIGURATION: rev.configuration, K_SERVICE: rev.service });
    const config = this.#o.config();
    return {
      name: podName,
      argv: [...(c?.command ?? []), ...(c?.args ?? [])],
      env,
      cwd: rev.cwd,
      queueProxy: {
        ...this.#o.queueProxy,
        env: (userPort) =>
          queueEnv({
            namespace: rev.namespace,
            revision: rev.name,
            configuration: rev.configuration,
            service: rev.service,
            podName,
            spec: rev.spec,
            annotations: rev.annotations,
            config,
            userPort,
            drainQuietPeriod: this.#o.drainQuietPeriod ?? '1s',
          }),
      },
      gracePeriodMs: (rev.spec.timeoutSeconds ?? 300) * 1000,
    };
  }

  #endpoints(e: Entry): RevisionEndpoints {
    const ready: string[] = [];
    const notReady: string[] = [];
    for (const p of e.pods.pods) {
      if (p.ports === undefined) continue;
      (p.ready ? ready : notReady).push(`127.0.0.1:${p.ports.serving}`);
    }
    return { ready, notReady };
  }

  #settings(rev: LocalRevision): string {
    const config = this.#o.config();
    return JSON.stringify([resolveRevisionAutoscaling(rev.annotations, config.autoscaler, rev.spec.containerConcurrency ?? 0), progressDeadlineOf(rev.annotations, config.deployment)]);
  }

  #autoscaled(e: Entry): AutoscaledRevision {
    const config = this.#o.config();
    const rev = e.rev;
    return {
      key: keyOf(rev.namespace, rev.name),
      autoscaling: resolveRevisionAutoscaling(rev.annotations, config.autoscaler, rev.spec.containerConcurrency ?? 0),
      pods: e.pods.ready.map((p) => ({ ip: '127.0.0.1', port: p.ports?.metrics ?? 0, startTimeMs: p.startedAtMs })),
      reachability: rev.reachable ? 'Reachable' : 'Unreachable',
      progressDeadline: progressDeadlineOf(rev.annotations, config.deployment),
    };
  }

  /** The SKS mode in effect: Proxy whenever no pod is ready (spec §7.4). */
  effectiveMode(key: string): SksMode {
    const e = this.#entries.get(key);
    if (e === undefined) return 'Proxy';
    return e.mode === 'Serve' && e.pods.ready.length > 0 ? 'Serve' : 'Proxy';
  }

  /** Ready pods' queue-proxy addresses (`127.0.0.1:port`), for Serve mode. */
  readyAddresses(key: string): string[] {
    return this.#entries.get(key)?.pods.ready.flatMap((p) => (p.ports ? [`127.0.0.1:${p.ports.serving}`] : [])) ?? [];
  }

  status(key: string): { desired: number; ready: number; pods: number; mode: SksMode } | undefined {
    const e = this.#entries.get(key);
    if (e === undefined) return undefined;
    return { desired: e.pods.desired, ready: e.pods.ready.length, pods: e.pods.pods.length, mode: this.effectiveMode(key) };
  }

  keys(): string[] {
    return [...this.#entries.keys()];
  }

  #subscribe(listener: (key: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(key: string): void {
    for (const l of this.#listeners) {
      try {
        l(key);
      } catch (err) {
        this.#o.log.error({ revision: key, err: (err as Error).message }, 'cluster listener failed');
      }
    }
  }

  /** Graceful: every pod drains. */
  async close(): Promise<void> {
    this.#closed = true;
    const all = [...this.#entries.values()];
    this.#entries.clear();
    await Promise.all([...all.map((e) => e.pods.close()), ...this.#closing]);
  }

  kill(): void {
    for (const e of this.#entries.values()) e.pods.kill();
  }
}

function activatorRevision(rev: LocalRevision): ActivatorRevision {
  const c = servingContainer(rev.spec);
  return {
    namespace: rev.namespace,
    name: rev.name,
    containerConcurrency: rev.spec.containerConcurrency ?? 0,
    timeoutSeconds: rev.spec.timeoutSeconds ?? 300,
    responseStartTimeoutSeconds: rev.spec.responseStartTimeoutSeconds ?? 0,
    idleTimeoutSeconds: rev.spec.idleTimeoutSeconds ?? 0,
    protocol: c?.ports?.[0]?.name === 'h2c' ? 'h2c' : 'http1',
    annotations: rev.annotations,
    labels: rev.labels,
  };
}
