// Load-balancing policies over a revision's pods (spec §2.4), chosen once per revision by its
// containerConcurrency: power of two choices (cc = 0), first available (1 ≤ cc ≤ 3) and round
// robin (cc > 3). A policy picks and reserves in one step; the caller gives the pod back with
// the tracker's `release()` when the request is over. Pure except for the injected random source.
import { Breaker } from '../queue-proxy/breaker.ts';

/** Knative's per-pod breaker queue depth (unused by policies, which never wait on a pod). */
const POD_QUEUE_DEPTH = 10_000;

/** One healthy pod destination (`ip:port`) as this activator sees it. */
export class PodTracker {
  readonly dest: string;
  /** cc > 0: at most cc requests from this activator at once. cc = 0: none. */
  readonly breaker: Breaker | undefined;
  /** Requests in flight to this pod through this activator (the p2c weight). */
  inFlight = 0;

  constructor(dest: string, cc: number) {
    this.dest = dest;
    this.breaker = cc > 0 ? new Breaker({ queueDepth: POD_QUEUE_DEPTH, maxConcurrency: cc, initialCapacity: cc }) : undefined;
  }

  /** Takes a slot if one is free now; never waits. */
  tryReserve(): boolean {
    if (this.breaker !== undefined && !this.breaker.tryAcquireNow()) return false;
    this.inFlight++;
    return true;
  }

  release(): void {
    this.inFlight--;
    this.breaker?.release();
  }
}

export type LbPolicyName = 'power-of-two-choices' | 'first-available' | 'round-robin';

export interface LbPolicy {
  readonly name: LbPolicyName;
  /** Picks and reserves a pod among `trackers` (sorted by dest), or undefined when none is free. */
  pick(trackers: readonly PodTracker[]): PodTracker | undefined;
}

export function policyFor(cc: number, random: () => number = Math.random): LbPolicy {
  if (cc === 0) return powerOfTwoChoices(random);
  if (cc <= 3) return firstAvailable;
  return roundRobin();
}

/** Two distinct random pods, the one with fewer requests in flight; ties by a coin flip. */
export function powerOfTwoChoices(random: () => number): LbPolicy {
  return {
    name: 'power-of-two-choices',
    pick(trackers) {
      const n = trackers.length;
      if (n === 0) return undefined;
      let chosen: PodTracker;
      if (n === 1) chosen = trackers[0] as PodTracker;
      else {
        const i = Math.floor(random() * n);
        // A second index distinct from the first: draw from the other n − 1 and skip i.
        let j = Math.floor(random() * (n - 1));
        if (j >= i) j++;
        const a = trackers[i] as PodTracker;
        const b = trackers[j] as PodTracker;
        if (a.inFlight === b.inFlight) chosen = random() < 0.5 ? a : b;
        else chosen = a.inFlight < b.inFlight ? a : b;
      }
      return chosen.tryReserve() ? chosen : undefined;
    },
  };
}

/** The first pod, in sorted order, with a free slot: keeps load on as few pods as possible. */
export const firstAvailable: LbPolicy = {
  name: 'first-available',
  pick(trackers) {
    for (const t of trackers) if (t.tryReserve()) return t;
    return undefined;
  },
};

/** Each pod once in circular order from a shared cursor; the next search starts after the pick. */
export function roundRobin(): LbPolicy {
  let next = 0;
  return {
    name: 'round-robin',
    pick(trackers) {
      const n = trackers.length;
      if (next >= n) next = 0;
      for (let k = 0; k < n; k++) {
        const idx = (next + k) % n;
        const t = trackers[idx] as PodTracker;
        if (t.tryReserve()) {
          next = idx + 1;
          return t;
        }
      }
      return undefined;
    },
  };
}
