// The KPA adapter (spec §3.6 items 3-8, §3.7): runs the Scaler driver for each revision against a
// ScaleTarget. It reconciles when a revision appears or changes (its pods), when the decider's
// desired scale or EBC changes (Knative re-enqueues the PA on decider status changes, not on every
// tick), when a requeueAfter elapses, and 1 s after an async activator prober finishes. Until a
// real ServerlessService exists, the SKS status is derived here: private service `<rev>-private`,
// public service `<rev>`, Ready iff pods are ready, ActivatorEndpointsPopulated iff no pod is
// ready or the mode is Proxy. Timers and the clock are injected; all reconcile I/O is the target's
// and the prober's.
import type { Logger } from 'pino';
import type { ActivatorProber } from './activator-probe.ts';
import { initialExcessBurstCapacity, realTimers, type DecisionRecord, type RevisionSource, type Timers } from './multiscaler.ts';
import { SCALE_UNKNOWN, Scaler, type Nanos, type PaStatus, type RevisionObservation, type ScaleDecision } from './scaler.ts';
import type { ScaleTarget, SksMode } from './scale-target.ts';

/** Async prober (knative.dev/networking prober.Manager, wait.PollImmediate): every 1 s up to 45 s. */
export const ASYNC_PROBE_INTERVAL_MS = 1000;
export const ASYNC_PROBE_TIMEOUT_MS = 45_000;
/** Knative's reenqueuePeriod after the async prober is done, success or not. */
export const PROBE_REENQUEUE_MS = 1000;
/** Retry after a reconcile that threw (a failed patch); Knative's workqueue backs off instead. */
export const ERROR_REENQUEUE_MS = 1000;

/** The decider status per revision; MultiScaler provides it. */
export interface DeciderStatusSource {
  latestScale(key: string): number | undefined;
  latestExcessBurstCapacity(key: string): number | undefined;
}

export interface KpaOptions {
  readonly source: RevisionSource;
  readonly deciders: DeciderStatusSource;
  readonly target: ScaleTarget;
  readonly probeActivator: ActivatorProber;
  /** config-deployment progress-deadline (ns), unless the RevisionSpec carries its own. */
  readonly progressDeadline: Nanos;
  readonly log?: Logger;
  readonly timers?: Timers;
  /** After each reconcile, with the new PA status. */
  readonly onReconcile?: (key: string, decision: ScaleDecision) => void;
}

interface Prober {
  readonly handle: unknown;
  readonly started: number;
  inFlight: Promise<void> | undefined;
}

interface RevisionState {
  /** Decider status last reconciled on: a decision only triggers a reconcile when it differs. */
  desired: number | undefined;
  ebc: number | undefined;
  requeue: { readonly handle: unknown; readonly at: number } | undefined;
  prober: Prober | undefined;
  running: Promise<void> | undefined;
  again: boolean;
  /** The SKS spec mode last written, and when ActivatorEndpointsPopulated last became True (ns). */
  mode: SksMode | undefined;
  proxySince: Nanos | undefined;
}

export class Kpa {
  readonly #o: KpaOptions;
  readonly #timers: Timers;
  readonly #scaler: Scaler;
  readonly #states = new Map<string, RevisionState>();
  #unsubscribe: (() => void) | undefined;

  constructor(options: KpaOptions) {
    this.#o = options;
    this.#timers = options.timers ?? realTimers;
    this.#scaler = new Scaler({
      target: options.target,
      now: () => this.#nowNs(),
      probeActivator: (key) => options.probeActivator(key, this.#scaler.status(key)?.serviceName ?? nameOf(key)),
    });
  }

  /** Reconciles every revision of the source and follows its changes (start after the MultiScaler). */
  start(): void {
    if (this.#unsubscribe) return;
    this.#unsubscribe = this.#o.source.subscribe((key) => this.#sync(key));
    for (const spec of this.#o.source.list()) this.#sync(spec.key);
  }

  /** Stops following the source and drops every timer and prober; in-flight reconciles finish. */
  close(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    for (const key of [...this.#states.keys()]) this.remove(key);
  }

  /** The MultiScaler's onDecision hook. */
  onDecision(record: DecisionRecord): void {
    const s = this.#states.get(record.key);
    if (s === undefined) return;
    if (s.desired === record.desiredPodCount && s.ebc === record.excessBurstCapacity) return;
    void this.reconcile(record.key);
  }

  /** Reconciles now, or once more after the one in flight (a workqueue coalesces the same way). */
  reconcile(key: string): Promise<void> {
    const s = this.#states.get(key);
    if (s === undefined) return Promise.resolve();
    if (s.running) {
      s.again = true;
      return s.running;
    }
    s.running = (async () => {
      do {
        s.again = false;
        await this.#reconcileOnce(key, s);
      } while (s.again && this.#states.get(key) === s);
      s.running = undefined;
    })();
    return s.running;
  }

  remove(key: string): void {
    const s = this.#states.get(key);
    if (s === undefined) return;
    this.#clearRequeue(s);
    if (s.prober) this.#timers.clearInterval(s.prober.handle);
    s.prober = undefined;
    this.#states.delete(key);
    this.#scaler.forget(key);
  }

  status(key: string): PaStatus | undefined {
    return this.#scaler.status(key);
  }

  /** Whether an async activator prober runs for the revision. */
  probing(key: string): boolean {
    return this.#states.get(key)?.prober !== undefined;
  }

  /** Resolves once no reconcile or probe is in flight (for tests on fake timers). */
  async settled(): Promise<void> {
    for (;;) {
      const busy = [...this.#states.values()].flatMap((s) => [s.running, s.prober?.inFlight]).filter((p) => p !== undefined);
      if (busy.length === 0) return;
      await Promise.all(busy);
    }
  }

  #nowNs(): Nanos {
    return this.#timers.now() * 1e6;
  }

  #sync(key: string): void {
    if (this.#o.source.get(key) === undefined) {
      this.remove(key);
      return;
    }
    if (!this.#states.has(key)) {
      this.#states.set(key, { desired: undefined, ebc: undefined, requeue: undefined, prober: undefined, running: undefined, again: false, mode: undefined, proxySince: undefined });
    }
    void this.reconcile(key);
  }

  async #reconcileOnce(key: string, s: RevisionState): Promise<void> {
    const spec = this.#o.source.get(key);
    if (spec === undefined) return;
    const desired = this.#o.deciders.latestScale(key) ?? SCALE_UNKNOWN;
    const ebc = this.#o.deciders.latestExcessBurstCapacity(key) ?? initialExcessBurstCapacity(spec.autoscaling);
    const readyPods = spec.pods.length;
    s.desired = desired;
    s.ebc = ebc;
    this.#updateProxySince(s, readyPods);
    const name = nameOf(key);
    const obs: RevisionObservation = {
      settings: spec.autoscaling,
      progressDeadline: spec.progressDeadline ?? this.#o.progressDeadline,
      reachability: spec.reachability ?? 'Reachable',
      desiredScale: desired,
      excessBurstCapacity: ebc,
      readyPods,
      sks: { privateServiceName: `${name}-private`, serviceName: name, ready: readyPods > 0, proxySince: s.proxySince },
    };
    let out: ScaleDecision;
    try {
      out = await this.#scaler.reconcile(key, obs);
    } catch (err) {
      this.#o.log?.error({ key, err: (err as Error).message }, 'scale reconcile failed');
      if (this.#states.get(key) === s) this.#requeue(key, s, ERROR_REENQUEUE_MS);
      return;
    }
    if (this.#states.get(key) !== s) {
      this.#scaler.forget(key); // removed while in flight
      return;
    }
    s.mode = out.mode;
    this.#updateProxySince(s, readyPods);
    this.#o.log?.debug({ key, want: out.want, replicas: out.replicas, mode: out.mode, numActivators: out.numActivators, active: out.status.active.status }, 'scale reconciled');
    if (out.requeueAfter !== undefined) this.#requeue(key, s, Math.ceil(out.requeueAfter / 1e6));
    // A new SKS spec changes its status, which re-enqueues the PA in Knative: do it at once.
    if (out.sksChanged) this.#requeue(key, s, 0);
    if (out.startAsyncProbe) this.#startProber(key, s);
    this.#o.onReconcile?.(key, out);
  }

  /** SKS ActivatorEndpointsPopulated: True with no ready pods or in Proxy mode (an SKS not yet written is Proxy). */
  #updateProxySince(s: RevisionState, readyPods: number): void {
    const populated = readyPods === 0 || s.mode !== 'Serve';
    if (!populated) s.proxySince = undefined;
    else if (s.proxySince === undefined) s.proxySince = this.#nowNs();
  }

  /** One pending requeue per revision; an earlier one wins, as in a delaying workqueue. */
  #requeue(key: string, s: RevisionState, ms: number): void {
    const at = this.#timers.now() + ms;
    if (s.requeue !== undefined) {
      if (s.requeue.at <= at) return;
      this.#clearRequeue(s);
    }
    const handle = this.#oneShot(() => {
      s.requeue = undefined;
      void this.reconcile(key);
    }, ms);
    s.requeue = { handle, at };
  }

  #clearRequeue(s: RevisionState): void {
    if (s.requeue) this.#timers.clearInterval(s.requeue.handle);
    s.requeue = undefined;
  }

  /** Probes at once, then every second until success or 45 s; then reconciles 1 s later. One per revision. */
  #startProber(key: string, s: RevisionState): void {
    if (s.prober) return;
    const started = this.#timers.now();
    const attempt = (): void => {
      const p = s.prober;
      if (p === undefined || p.inFlight) return;
      const serviceName = this.#scaler.status(key)?.serviceName ?? nameOf(key);
      p.inFlight = this.#o.probeActivator(key, serviceName).then(
        (ok) => finish(p, ok),
        () => finish(p, false),
      );
    };
    const finish = (p: Prober, ok: boolean): void => {
      p.inFlight = undefined;
      if (s.prober !== p) return; // removed meanwhile
      if (!ok && this.#timers.now() - p.started < ASYNC_PROBE_TIMEOUT_MS) return;
      this.#timers.clearInterval(p.handle);
      s.prober = undefined;
      this.#o.log?.info({ key, success: ok }, 'async activator prober done');
      this.#requeue(key, s, PROBE_REENQUEUE_MS);
    };
    s.prober = { handle: this.#timers.setInterval(attempt, ASYNC_PROBE_INTERVAL_MS), started, inFlight: undefined };
    attempt();
  }

  /** A one-shot timer from the injected interval timers. */
  #oneShot(fn: () => void, ms: number): unknown {
    const handle: unknown = this.#timers.setInterval(() => {
      this.#timers.clearInterval(handle);
      fn();
    }, ms);
    return handle;
  }
}

function nameOf(key: string): string {
  return key.slice(key.indexOf('/') + 1);
}
