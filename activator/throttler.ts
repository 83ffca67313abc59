// The per-revision throttler (spec §2.4): a revision-level breaker whose capacity follows the
// pods assigned to this activator, per-pod trackers, activator subsetting and the LB policy.
// Pure and synchronous: backend updates come in with the time, the handler drives acquire,
// pick and release. Queued requests survive every capacity change.
import { Breaker } from '../queue-proxy/breaker.ts';
import { PodTracker, policyFor, type LbPolicy } from './lb-policy.ts';

/** Go's MaxInt32: "unlimited" for the revision breaker. */
export const MAX_CAPACITY = 2 ** 31 - 1;

/** What the backend watcher tells the throttler (structurally revision-backends' update). */
export interface ThrottlerUpdate {
  /** Healthy pod destinations, `ip:port`. */
  readonly dests: readonly string[];
  /** Set in ClusterIP (mesh) mode: every request goes there, no per-pod accounting. */
  readonly clusterIPDest?: string;
  /** Kubernetes-ready endpoints, the ClusterIP mode's capacity basis. */
  readonly readyBackends: number;
  /** Activator IPs of the revision's public Endpoints. */
  readonly activators?: readonly string[];
}

/** This activator's place among the activators serving a revision. */
export interface Membership {
  /** −1 while unknown: then every pod is used. */
  readonly index: number;
  readonly count: number;
}

/**
 * The index of `ownIp` among `activators` sorted as strings, or undefined when this activator
 * is not among them (the update is then ignored: this activator is not in the path).
 */
export function membershipOf(activators: readonly string[], ownIp: string): Membership | undefined {
  const sorted = [...new Set(activators)].sort();
  const index = sorted.indexOf(ownIp);
  return index < 0 ? undefined : { index, count: sorted.length };
}

/**
 * The trackers this activator uses out of all of them (sorted by dest). Each activator takes an
 * equal slice; the remnant pods go one each to the first activators; with more activators than
 * pods each takes one pod, shared.
 */
export function assignSlice<T>(trackers: readonly T[], m: Membership, cc: number): T[] {
  const n = trackers.length;
  if (cc === 0 || m.index < 0 || n <= 1 || m.count <= 1) return [...trackers];
  if (m.count > n) return [trackers[m.index % n] as T];
  const slice = Math.floor(n / m.count);
  const out = trackers.slice(m.index * slice, (m.index + 1) * slice);
  const remnants = n % m.count;
  if (remnants > 0 && m.index < remnants) out.push(trackers[n - remnants + m.index] as T);
  return out;
}

/** The revision breaker's capacity (spec §2.4 "Capacity"). */
export function revisionCapacity(cc: number, assignedPods: number, clusterIP: boolean, readyBackends: number, activators: number): number {
  const backends = clusterIP ? readyBackends : assignedPods;
  if (backends === 0) return 0;
  let capacity = cc * backends;
  if (clusterIP && capacity > 0) capacity = Math.max(1, Math.floor(capacity / Math.max(1, activators)));
  if (cc === 0 || capacity > MAX_CAPACITY) return MAX_CAPACITY;
  return capacity;
}

/** Where one request goes: a pod (with its reservation) or the cluster IP. */
export interface Pick {
  readonly dest: string;
  readonly tracker: PodTracker | undefined;
}

export interface RevisionThrottlerOptions {
  readonly containerConcurrency: number;
  /** This activator's POD_IP, for subsetting. */
  readonly ownIp: string;
  readonly random?: () => number;
}

export class RevisionThrottler {
  readonly cc: number;
  readonly breaker: Breaker;
  readonly policy: LbPolicy;
  readonly #ownIp: string;
  readonly #trackers = new Map<string, PodTracker>();
  #sorted: PodTracker[] = [];
  #assigned: PodTracker[] = [];
  #clusterIPDest: string | undefined;
  #membership: Membership = { index: -1, count: 1 };
  /** When capacity last went from 0 to open: the end of a cold start for requests queued before. */
  #openedAtMs = -Infinity;

  constructor(o: RevisionThrottlerOptions) {
    this.cc = o.containerConcurrency;
    this.#ownIp = o.ownIp;
    this.policy = policyFor(this.cc, o.random);
    // Waiting is bounded by the handler's own queue limits, so the breaker's depth is generous.
    this.breaker = new Breaker({ queueDepth: Number.MAX_SAFE_INTEGER - MAX_CAPACITY, maxConcurrency: MAX_CAPACITY, initialCapacity: 0 });
  }

  get capacity(): number {
    return this.breaker.capacity;
  }

  get membership(): Membership {
    return this.#membership;
  }

  /** The pods this activator routes to (sorted), or the cluster IP in mesh mode. */
  get destinations(): readonly string[] {
    return this.#clusterIPDest !== undefined ? [this.#clusterIPDest] : this.#assigned.map((t) => t.dest);
  }

  get openedAtMs(): number {
    return this.#openedAtMs;
  }

  /** Applies new backends; queued requests stay queued and are granted as capacity allows. */
  update(u: ThrottlerUpdate, nowMs: number): void {
    if (u.activators !== undefined && u.activators.length > 0) {
      const m = membershipOf(u.activators, this.#ownIp);
      if (m !== undefined) this.#membership = m;
    }
    const wanted = new Set(u.dests);
    for (const dest of this.#trackers.keys()) if (!wanted.has(dest)) this.#trackers.delete(dest);
    for (const dest of wanted) if (!this.#trackers.has(dest)) this.#trackers.set(dest, new PodTracker(dest, this.cc));
    this.#sorted = [...this.#trackers.values()].sort((a, b) => (a.dest < b.dest ? -1 : a.dest > b.dest ? 1 : 0));
    // Every tracker's breaker back to cc before the reassignment, as Knative does.
    if (this.cc > 0) for (const t of this.#sorted) t.breaker?.updateConcurrency(this.cc);
    this.#assigned = assignSlice(this.#sorted, this.#membership, this.cc);
    this.#clusterIPDest = u.clusterIPDest;
    const capacity = revisionCapacity(this.cc, this.#assigned.length, u.clusterIPDest !== undefined, u.readyBackends, this.#membership.count);
    if (this.breaker.capacity === 0 && capacity > 0) this.#openedAtMs = nowMs;
    this.breaker.updateConcurrency(capacity);
  }

  /**
   * Chooses a destination for a request that holds a revision slot. Undefined when the pods'
   * own slots are all taken (a race between the revision breaker and the pods): the caller
   * gives the slot back and queues again.
   */
  pick(): Pick | undefined {
    if (this.#clusterIPDest !== undefined) return { dest: this.#clusterIPDest, tracker: undefined };
    const t = this.policy.pick(this.#assigned);
    return t === undefined ? undefined : { dest: t.dest, tracker: t };
  }

  /** The request that got `pick` is over. The revision slot is released separately. */
  done(pick: Pick): void {
    pick.tracker?.release();
  }
}
