// The activator's demand reports to the autoscaler (spec §2.7, "What is reported"): per
// revision, the request statistics of §1.7 over each 1 s period, plus one immediate message when
// a request arrives for a revision the reporter is not tracking, which is what lets the
// autoscaler scale a revision up from zero without waiting for the next tick. Pure: every call
// takes the time in milliseconds, so the simulator can drive it on a virtual clock; the caller
// owns the 1 s ticker and the websocket (stats-client.ts).
import { emptyStat, type WireStatMessage } from '../autoscaler/stat-proto.ts';
import { RequestStats } from '../queue-proxy/request-stats.ts';

/** The reporting period; request counts are sent per period, which is also per second. */
export const REPORT_PERIOD_MS = 1000;

export interface ConcurrencyReporterOptions {
  /** POD_NAME of this activator, sent as every Stat's pod_name. */
  readonly podName: string;
}

interface RevisionEntry {
  readonly namespace: string;
  readonly name: string;
  readonly stats: RequestStats;
  /** Requests counted by handleIn and not yet by handleOut. */
  inFlight: number;
  /**
   * 1 until the first periodic report: the immediate message already told the autoscaler about
   * the request that created the entry, so that report leaves it out rather than count it twice.
   */
  firstAdjustment: number;
}

export class ConcurrencyReporter {
  readonly #podName: string;
  readonly #entries = new Map<string, RevisionEntry>();

  constructor(opts: ConcurrencyReporterOptions) {
    this.#podName = opts.podName;
  }

  /**
   * Counts a request for the revision. Returns the immediate scale-from-zero message when the
   * revision had no entry (send it right away), otherwise undefined.
   */
  handleIn(namespace: string, name: string, nowMs: number): WireStatMessage | undefined {
    const key = revisionKey(namespace, name);
    let entry = this.#entries.get(key);
    let immediate: WireStatMessage | undefined;
    if (entry === undefined) {
      // The window starts with this request, so the first report averages over the time since.
      entry = { namespace, name, stats: new RequestStats(nowMs), inFlight: 0, firstAdjustment: 1 };
      this.#entries.set(key, entry);
      immediate = { namespace, name, stat: { ...emptyStat(), podName: this.#podName, averageConcurrentRequests: 1, requestCount: 1 } };
    }
    entry.stats.handleIn(nowMs, false);
    entry.inFlight++;
    return immediate;
  }

  /** A request counted by handleIn finished. Unknown revisions are ignored. */
  handleOut(namespace: string, name: string, nowMs: number): void {
    const entry = this.#entries.get(revisionKey(namespace, name));
    // An entry with requests in flight is never deleted, so a miss means an unmatched call.
    if (entry === undefined || entry.inFlight === 0) return;
    entry.stats.handleOut(nowMs, false);
    entry.inFlight--;
  }

  /**
   * Closes the period ending at `nowMs`: one message per tracked revision (send them as one
   * batch). Each message's averageConcurrentRequests is also the value for the
   * `kn.revision.request.concurrency` gauge. Revisions idle for the whole period, with nothing in
   * flight, are forgotten afterwards, so their next request sends a new immediate message.
   */
  report(nowMs: number): WireStatMessage[] {
    const messages: WireStatMessage[] = [];
    for (const [key, entry] of this.#entries) {
      const r = entry.stats.report(nowMs);
      const adj = entry.firstAdjustment;
      entry.firstAdjustment = 0;
      messages.push({
        namespace: entry.namespace,
        name: entry.name,
        stat: {
          ...emptyStat(),
          podName: this.#podName,
          averageConcurrentRequests: Math.max(r.averageConcurrency - adj, 0),
          // The period is 1 s, so the count in the window is already the per-second rate.
          requestCount: (r.requestCount - adj) / (REPORT_PERIOD_MS / 1000),
        },
      });
      // The in-flight check matters when a request arrived at the very instant of the report
      // (no time in use yet, so its average is 0) or the clock did not advance since the last.
      // Deleting from a Map while iterating it is safe and skips nothing still to be visited.
      if (r.averageConcurrency === 0 && entry.inFlight === 0) this.#entries.delete(key);
    }
    return messages;
  }

  /** Requests of the revision in flight now (0 when untracked). */
  inFlight(namespace: string, name: string): number {
    return this.#entries.get(revisionKey(namespace, name))?.inFlight ?? 0;
  }

  /** Whether the revision has an entry, i.e. its next request sends no immediate message. */
  tracks(namespace: string, name: string): boolean {
    return this.#entries.has(revisionKey(namespace, name));
  }

  /** Number of revisions tracked. */
  get size(): number {
    return this.#entries.size;
  }
}

// Namespaces and names are DNS labels, which cannot contain '/', so the key is unambiguous.
function revisionKey(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}
