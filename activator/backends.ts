// What the activator learns about revisions and their pods (spec §2.3, §2.5): the revision
// itself (cc, timeouts, protocol) and, per revision, the pod addresses Kubernetes lists in the
// private Endpoints, the private service's cluster IP and the activators in the public
// Endpoints. The embedded runtime and Kubernetes implement `BackendSource`; the static source
// here serves tests and files.

/** The parts of a Revision the activator reads. */
export interface ActivatorRevision {
  readonly namespace: string;
  readonly name: string;
  /** spec.containerConcurrency; 0 = unlimited. */
  readonly containerConcurrency: number;
  /** spec.timeoutSeconds (T), responseStartTimeoutSeconds (S, 0 = none), idleTimeoutSeconds (I, 0 = none). */
  readonly timeoutSeconds: number;
  readonly responseStartTimeoutSeconds: number;
  readonly idleTimeoutSeconds: number;
  /** `h2c` when the user port is named h2c: pods are then addressed on the `http2` port (8013). */
  readonly protocol: 'http1' | 'h2c';
  /** Revision annotations (full duplex, service/configuration labels for metrics). */
  readonly annotations?: Readonly<Record<string, string>>;
  readonly labels?: Readonly<Record<string, string>>;
}

/** A revision's endpoints as Kubernetes lists them. Addresses are `ip:port`. */
export interface RevisionEndpoints {
  /** Private Endpoints, ready addresses on the port named http (or http2). */
  readonly ready: readonly string[];
  /** Private Endpoints, not-ready addresses. */
  readonly notReady: readonly string[];
  /** `clusterIP:port` of the private service, the fallback destination behind a mesh. */
  readonly clusterIP?: string;
  /**
   * Activator IPs in the revision's public Endpoints (Proxy mode subset). Undefined or empty:
   * no membership known, so this activator uses every pod (index −1).
   */
  readonly activators?: readonly string[];
}

export interface BackendSource {
  /** Every revision known now (the activator syncs them at start). */
  list(): Iterable<{ readonly namespace: string; readonly name: string }>;
  revision(namespace: string, name: string): ActivatorRevision | undefined;
  endpoints(namespace: string, name: string): RevisionEndpoints | undefined;
  /** `listener(namespace, name)` after a revision or its endpoints change. Returns an unsubscribe. */
  subscribe(listener: (namespace: string, name: string) => void): () => void;
}

export const revisionKey = (namespace: string, name: string): string => `${namespace}/${name}`;

const NO_ENDPOINTS: RevisionEndpoints = { ready: [], notReady: [] };

/** An in-memory BackendSource: tests and callers set revisions and endpoints directly. */
export class StaticBackendSource implements BackendSource {
  readonly #revisions = new Map<string, ActivatorRevision>();
  readonly #endpoints = new Map<string, RevisionEndpoints>();
  readonly #listeners = new Set<(namespace: string, name: string) => void>();

  list(): Iterable<ActivatorRevision> {
    return this.#revisions.values();
  }

  revision(namespace: string, name: string): ActivatorRevision | undefined {
    return this.#revisions.get(revisionKey(namespace, name));
  }

  endpoints(namespace: string, name: string): RevisionEndpoints | undefined {
    const key = revisionKey(namespace, name);
    return this.#endpoints.get(key) ?? (this.#revisions.has(key) ? NO_ENDPOINTS : undefined);
  }

  setRevision(rev: ActivatorRevision): void {
    this.#revisions.set(revisionKey(rev.namespace, rev.name), rev);
    this.#emit(rev.namespace, rev.name);
  }

  setEndpoints(namespace: string, name: string, endpoints: RevisionEndpoints): void {
    this.#endpoints.set(revisionKey(namespace, name), endpoints);
    this.#emit(namespace, name);
  }

  deleteRevision(namespace: string, name: string): void {
    const key = revisionKey(namespace, name);
    this.#revisions.delete(key);
    this.#endpoints.delete(key);
    this.#emit(namespace, name);
  }

  subscribe(listener: (namespace: string, name: string) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(namespace: string, name: string): void {
    for (const l of this.#listeners) l(namespace, name);
  }
}
