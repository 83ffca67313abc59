// A revision's pods on this machine: what a Deployment and its ReplicaSet do in a cluster. It
// holds the desired replica count, starts pods up to it and terminates the surplus (unready
// pods first, then the newest), and reports every readiness change. Pods that die for good are
// replaced while the desired count says so; pods that fail to start are replaced with backoff.
import { randomBytes } from 'node:crypto';
import { childName } from '../config/k8s-names.ts';
import { PodProcess, RESTART_BACKOFF_MS, reservePort, WarmSidecar, type PodSpec } from './pod-process.ts';

export interface RevisionPodsOptions {
  readonly key: string;
  readonly name: string;
  /** Builds a pod's spec from its name. */
  readonly podSpec: (podName: string) => PodSpec;
  readonly onChange: (key: string) => void;
  readonly onLog: (podName: string, container: 'user-container' | 'queue-proxy', line: string) => void;
  readonly onError: (key: string, err: Error) => void;
  /** Keep a queue-proxy started while at zero, so a cold start waits only for the app. */
  readonly warmSidecar: () => boolean;
}

interface Spare {
  readonly name: string;
  readonly sidecar: Promise<WarmSidecar | undefined>;
}

/** `<rev>-deployment-<5 random chars>`, as a ReplicaSet names its pods (shortened for one machine). */
function podName(revision: string): string {
  const suffix = randomBytes(4).toString('hex').slice(0, 5);
  return `${childName(revision, '-deployment')}-${suffix}`;
}

export class RevisionPods {
  readonly #o: RevisionPodsOptions;
  readonly #pods = new Set<PodProcess>();
  #desired = 0;
  #closed = false;
  #spare: Spare | undefined;
  /** Pod starts and spare discards in flight: close() waits for them, as they may spawn or kill. */
  readonly #inFlight = new Set<Promise<void>>();
  /** Pod starts that failed in a row, and the timer that tries again. */
  #startFailures = 0;
  #retryTimer: NodeJS.Timeout | undefined;

  constructor(options: RevisionPodsOptions) {
    this.#o = options;
  }

  get desired(): number {
    return this.#desired;
  }

  /** Pods not terminating, oldest first. */
  get pods(): PodProcess[] {
    return [...this.#pods].filter((p) => p.phase !== 'terminating' && p.phase !== 'terminated');
  }

  get ready(): PodProcess[] {
    return this.pods.filter((p) => p.ready);
  }

  scale(replicas: number): void {
    if (this.#closed) return;
    this.#desired = Math.max(0, replicas);
    this.#reconcile();
  }

  #reconcile(): void {
    if (this.#closed) return;
    const live = this.pods;
    for (let i = live.length; i < this.#desired; i++) this.#startPod();
    if (live.length > this.#desired) {
      // Unready pods go first, then the newest: the oldest ready pods keep serving.
      const order = [...live].sort((a, b) => Number(a.ready) - Number(b.ready) || b.startedAtMs - a.startedAtMs);
      for (const p of order.slice(0, live.length - this.#desired)) void this.#terminate(p);
    }
    this.syncSpare();
  }

  /** Starts or drops the warm sidecar: wanted at zero, for a revision that may get traffic. */
  syncSpare(): void {
    const want = !this.#closed && this.#desired === 0 && this.#o.warmSidecar();
    if (want && this.#spare === undefined) {
      const name = podName(this.#o.name);
      const spec = this.#o.podSpec(name);
      const sidecar = reservePort()
        .then((port) => WarmSidecar.start(spec, port, (container, line) => this.#o.onLog(name, container, line)))
        .catch((err: Error) => {
          // Killed on purpose while it started (a shutdown) is no error.
          if (!this.#closed) this.#o.onError(this.#o.key, err);
          return undefined;
        });
      this.#spare = { name, sidecar };
    } else if (!want && this.#spare !== undefined) {
      const spare = this.#spare;
      this.#spare = undefined;
      this.#track(spare.sidecar.then((s) => s?.discard()));
    }
  }

  #track(p: Promise<void>): void {
    this.#inFlight.add(p);
    void p.finally(() => this.#inFlight.delete(p));
  }

  #startPod(): void {
    const spare = this.#spare;
    this.#spare = undefined;
    const pod = new PodProcess(this.#o.podSpec(spare?.name ?? podName(this.#o.name)), {
      onChange: (p) => {
        if (p.phase === 'ready') this.#startFailures = 0;
        if (p.phase === 'terminated') {
          this.#pods.delete(p);
          // A pod that died on its own is replaced while it is still wanted.
          this.#reconcile();
        }
        this.#o.onChange(this.#o.key);
      },
      onLog: (p, container, line) => this.#o.onLog(p.name, container, line),
    });
    this.#pods.add(pod);
    const started = (
      spare === undefined
        ? pod.start()
        : spare.sidecar.then(async (s) => {
            if (s !== undefined && s.child.exitCode === null && s.child.signalCode === null) return pod.start(s);
            // The spare died waiting: let go of its port and start the pod from scratch.
            await s?.discard();
            return pod.start();
          })
    ).then(
      () => this.#o.onChange(this.#o.key),
      (err: Error) => {
        if (!this.#closed) this.#o.onError(this.#o.key, err);
        this.#pods.delete(pod);
        pod.kill();
        this.#o.onChange(this.#o.key);
        // Replaced after a backoff, as Kubernetes backs off a pod that keeps failing.
        const delay = Math.min(RESTART_BACKOFF_MS.max, RESTART_BACKOFF_MS.initial * 2 ** this.#startFailures++);
        clearTimeout(this.#retryTimer);
        this.#retryTimer = setTimeout(() => this.#reconcile(), delay);
      },
    );
    this.#track(started);
  }

  async #terminate(pod: PodProcess): Promise<void> {
    await pod.stop();
    this.#pods.delete(pod);
    this.#o.onChange(this.#o.key);
  }

  /** Terminates every pod (graceful), e.g. when the revision is deleted or the runtime stops. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#desired = 0;
    clearTimeout(this.#retryTimer);
    this.syncSpare();
    await Promise.all([...[...this.#pods].map((p) => p.stop()), ...this.#inFlight]);
    this.#pods.clear();
  }

  /** Kills every pod now. */
  kill(): void {
    this.#closed = true;
    clearTimeout(this.#retryTimer);
    void this.#spare?.sidecar.then((s) => s?.discard());
    this.#spare = undefined;
    for (const p of this.#pods) p.kill();
  }
}
