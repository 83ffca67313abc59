// The scaler's output port: where a revision's replica count and SKS mode go. Kubernetes
// (a JSON patch on the Deployment's /spec/replicas, the SKS spec) and the embedded runtime
// (local processes) implement it; InMemoryScaleTarget records calls for tests and simulation.

export type SksMode = 'Proxy' | 'Serve';

export interface ScaleTarget {
  /** Sets the desired replica count; the scaler only calls it when the value changes. */
  setReplicas(revisionKey: string, replicas: number): Promise<void>;
  /** Puts the activator in the path (Proxy, with that many activators) or takes it out (Serve). */
  setMode(revisionKey: string, mode: SksMode, numActivators: number): Promise<void>;
  /** The current desired replicas; undefined when unset, which Kubernetes reads as 1. */
  getReplicas(revisionKey: string): Promise<number | undefined>;
}

export type ScaleTargetCall =
  | { readonly op: 'setReplicas'; readonly revisionKey: string; readonly replicas: number; readonly at: number }
  | { readonly op: 'setMode'; readonly revisionKey: string; readonly mode: SksMode; readonly numActivators: number; readonly at: number };

export interface InMemoryRevision {
  replicas: number | undefined;
  mode: SksMode | undefined;
  numActivators: number | undefined;
  /** Clock time of the last change of mode (the SKS's ProxyFor starts here when it is Proxy). */
  modeSince: number | undefined;
}

/** Holds each revision's replicas and mode in memory and logs every call, stamped by `now`. */
export class InMemoryScaleTarget implements ScaleTarget {
  readonly calls: ScaleTargetCall[] = [];
  readonly #revisions = new Map<string, InMemoryRevision>();
  readonly #now: () => number;

  constructor(now: () => number = () => 0) {
    this.#now = now;
  }

  /** The state of one revision, created empty (replicas unset, no mode) on first use. */
  revision(revisionKey: string): InMemoryRevision {
    let r = this.#revisions.get(revisionKey);
    if (!r) {
      r = { replicas: undefined, mode: undefined, numActivators: undefined, modeSince: undefined };
      this.#revisions.set(revisionKey, r);
    }
    return r;
  }

  setReplicas(revisionKey: string, replicas: number): Promise<void> {
    this.calls.push({ op: 'setReplicas', revisionKey, replicas, at: this.#now() });
    this.revision(revisionKey).replicas = replicas;
    return Promise.resolve();
  }

  setMode(revisionKey: string, mode: SksMode, numActivators: number): Promise<void> {
    const at = this.#now();
    this.calls.push({ op: 'setMode', revisionKey, mode, numActivators, at });
    const r = this.revision(revisionKey);
    if (r.mode !== mode) r.modeSince = at;
    r.mode = mode;
    r.numActivators = numActivators;
    return Promise.resolve();
  }

  getReplicas(revisionKey: string): Promise<number | undefined> {
    return Promise.resolve(this.#revisions.get(revisionKey)?.replicas);
  }
}
