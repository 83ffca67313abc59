// The stats scraper (spec §3.2, Knative `stats_scraper.go` and `http_scrape_client.go`).
// Pod scraping samples a revision's ready pods and GETs each one's :9090/metrics protobuf Stat
// with n parallel workers; service scraping GETs the private service n times over fresh
// connections (a mesh picks the pod). Either way the sample folds into one `service-scraper`
// Stat scaled to the whole revision. Thin I/O: the clock, the random source and the port are
// injected.
import { Agent, request, type IncomingMessage } from 'node:http';
import { decodeStat, type Stat } from './stat-proto.ts';
import { sampleSize } from './sample-size.ts';

export const SCRAPER_POD_NAME = 'service-scraper';
export const METRICS_PORT = 9090;
export const SCRAPE_TIMEOUT_MS = 3000;
export const PROTOBUF_CONTENT_TYPE = 'application/protobuf';
/**
 * Knative reads at most 6×10 + 256 + 20 bytes of a scrape (PR knative/serving#14523) and
 * unmarshals what it read: a longer body is truncated, so it fails unless its first 336 bytes
 * happen to be a complete Stat.
 */
export const MAX_SCRAPE_BODY_BYTES = 6 * 10 + 256 + 20;

/** A ready pod of the revision. */
export interface ScrapePod {
  readonly ip: string;
  /** Pod `status.startTime`, ms since the epoch: pods older than the stable window go first. */
  readonly startTimeMs: number;
  /** Overrides the scraper's port (local runs put many pods on 127.0.0.1). */
  readonly port?: number;
}

/** Knative's `scraperMaxRetries`: each service-scrape worker gives up after this many failures. */
export const SERVICE_SCRAPE_MAX_TRIES = 10;
const DUPLICATE_POD = 'did not receive stat from an unscraped pod';

/** How to reach a revision's private service (`<rev>-private.<ns>`) for service scraping. */
export interface ScrapeService {
  readonly host: string;
  /** Overrides the scraper's port. */
  readonly port?: number;
}

export type ScrapeResult =
  /** `stat` is null when there are no ready pods: nothing to record, and no error. */
  | { readonly ok: true; readonly stat: Stat | null; readonly sampled: number }
  | {
      readonly ok: false;
      /** `no-pods-scraped` when not a single pod answered (Knative then tries the service). */
      readonly reason: 'pods-exhausted' | 'no-pods-scraped';
      readonly error: string;
      /** Every failure was a 502/503, as a mesh sidecar would answer. */
      readonly mightBeMesh: boolean;
    };

type PodResult = { readonly ok: true; readonly stat: Stat } | { readonly ok: false; readonly error: string; readonly mightBeMesh: boolean };

/** What one GET targets: the address dialled and, with passthrough LB, the Host sent. */
interface Target {
  readonly ip: string;
  readonly port: number;
  readonly headers?: Readonly<Record<string, string>>;
}

export interface PodScraperOptions {
  readonly port?: number;
  readonly timeoutMs?: number;
  readonly maxBodyBytes?: number;
  /** Uniform in [0, 1), for the shuffle. */
  readonly random?: () => number;
}

export class PodScraper {
  readonly #agent: Agent;
  /** Service scrapes never reuse a connection, so kube-proxy or the mesh picks a pod each time. */
  readonly #freshAgent = new Agent({ keepAlive: false });
  readonly #port: number;
  readonly #timeoutMs: number;
  readonly #maxBody: number;
  readonly #random: () => number;
  readonly #inFlight = new Set<() => void>();
  #closed = false;

  constructor(options: PodScraperOptions = {}) {
    this.#port = options.port ?? METRICS_PORT;
    this.#timeoutMs = options.timeoutMs ?? SCRAPE_TIMEOUT_MS;
    this.#maxBody = options.maxBodyBytes ?? MAX_SCRAPE_BODY_BYTES;
    this.#random = options.random ?? Math.random;
    // Go's transport keeps up to 1000 idle connections; one per pod is all a scrape reuses.
    this.#agent = new Agent({ keepAlive: true, maxFreeSockets: 1, maxTotalSockets: Infinity, scheduling: 'lifo' });
  }

  /**
   * Scrapes a sample of `pods` (the revision's ready pods) and returns their scaled sum. `nowMs`
   * and `stableWindowMs` split old pods from young ones.
   */
  async scrape(pods: readonly ScrapePod[], stableWindowMs: number, nowMs: number, passthrough?: ScrapeService): Promise<ScrapeResult> {
    const total = pods.length;
    if (total === 0) return { ok: true, stat: null, sampled: 0 };
    const n = sampleSize(total);
    const order = scrapeOrder(pods, n, stableWindowMs, nowMs, this.#random);

    const stats: Stat[] = [];
    const errors: PodResult[] = [];
    let next = 0;
    let exhausted = false;
    // n workers share one cursor; each stops at its first success and moves on after a failure.
    const worker = async (): Promise<void> => {
      for (;;) {
        const pod = order[next++];
        if (pod === undefined) {
          exhausted = true;
          return;
        }
        const port = pod.port ?? this.#port;
        // Passthrough LB: the mesh must deliver to the addressed pod, not balance the service.
        const headers = passthrough === undefined ? undefined : { host: hostPort(passthrough.host, port), 'knative-direct-lb': 'true' };
        const r = await this.#get({ ip: pod.ip, port, ...(headers === undefined ? {} : { headers }) }, this.#agent);
        if (r.ok) {
          stats.push(r.stat);
          return;
        }
        errors.push(r);
      }
    };
    await Promise.all(Array.from({ length: n }, worker));

    if (exhausted) {
      const mightBeMesh = errors.length > 0 && errors.every((e) => !e.ok && e.mightBeMesh);
      const last = errors.at(-1);
      const detail = last !== undefined && !last.ok ? `: ${last.error}` : '';
      return stats.length > 0
        ? { ok: false, reason: 'pods-exhausted', error: `pods exhausted${detail}`, mightBeMesh }
        : { ok: false, reason: 'no-pods-scraped', error: `no pods scraped${detail}`, mightBeMesh };
    }
    return { ok: true, stat: scaleSample(stats, n, total), sampled: n };
  }

  /**
   * Scrapes through the revision's private service: n workers, each GETting the service over a
   * fresh connection until it sees a pod it has not seen (at most 10 failures each). Stats of
   * pods up for a stable window (`process_uptime`) are preferred; young ones fill up the sample.
   * `readyPods` is the revision's ready pod count, the population the sample stands for.
   */
  async scrapeService(service: ScrapeService, readyPods: number, stableWindowMs: number): Promise<ScrapeResult> {
    if (readyPods === 0) return { ok: true, stat: null, sampled: 0 };
    const n = sampleSize(readyPods);
    const target: Target = { ip: service.host, port: service.port ?? this.#port };
    const seen = new Set<string>();
    const old: Stat[] = [];
    const young: Stat[] = [];
    const cutoffSeconds = stableWindowMs / 1000;
    // errgroup semantics: the first error a worker gives up with is the scrape's error.
    let firstError: string | undefined;
    let firstIsDuplicate = false;
    const worker = async (): Promise<void> => {
      for (let tries = 1; ; tries++) {
        const r = await this.#get(target, this.#freshAgent);
        const duplicate = r.ok && seen.has(r.stat.podName);
        if (r.ok && !duplicate) {
          seen.add(r.stat.podName);
          if (r.stat.processUptime >= cutoffSeconds) {
            old.push(r.stat);
            return;
          }
          // A young pod: keep it, but go on looking for an old one while there is room.
          if (young.length >= n) return;
          young.push(r.stat);
          continue;
        }
        if (tries >= SERVICE_SCRAPE_MAX_TRIES) {
          if (firstError === undefined) {
            firstError = r.ok ? DUPLICATE_POD : r.error;
            firstIsDuplicate = duplicate;
          }
          return;
        }
      }
    };
    await Promise.all(Array.from({ length: n }, worker));
    // Seeing only pods already scraped is no failure when the other workers filled the sample.
    if (firstError !== undefined && (!firstIsDuplicate || old.length + young.length < n)) {
      return { ok: false, reason: 'no-pods-scraped', error: `unsuccessful scrape, sampleSize=${n}: ${firstError}`, mightBeMesh: false };
    }
    const sample = [...old, ...young.slice(0, Math.max(0, n - old.length))];
    return { ok: true, stat: scaleSample(sample, n, readyPods), sampled: n };
  }

  /** Aborts scrapes in flight and closes the kept-alive connections. */
  close(): void {
    this.#closed = true;
    for (const abort of this.#inFlight) abort();
    this.#agent.destroy();
    this.#freshAgent.destroy();
  }

  #get(target: Target, agent: Agent): Promise<PodResult> {
    if (this.#closed) return Promise.resolve({ ok: false, error: 'scraper closed', mightBeMesh: false });
    const { ip, port } = target;
    const url = `http://${hostPort(ip, port)}/metrics`;
    return new Promise((resolve) => {
      let settled = false;
      const req = request({ host: ip, port, path: '/metrics', method: 'GET', agent, headers: { accept: PROTOBUF_CONTENT_TYPE, ...target.headers } });
      const finish = (r: PodResult, keepSocket: boolean): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        this.#inFlight.delete(abort);
        // A body we stopped reading leaves the connection unusable: drop it, as Go does.
        if (!keepSocket) req.destroy();
        resolve(r);
      };
      const fail = (error: string, mightBeMesh = false): void => finish({ ok: false, error, mightBeMesh }, false);
      const abort = (): void => fail(`GET ${url}: aborted`);
      // Go's http.Client timeout: the whole exchange, body included.
      const timer = setTimeout(() => fail(`GET ${url}: timeout after ${this.#timeoutMs}ms`), this.#timeoutMs);
      this.#inFlight.add(abort);
      req.on('error', (err) => fail(`GET ${url}: ${err.message}`));
      req.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status >= 300) {
          fail(`GET request for URL "${url}" returned HTTP status ${status}`, status === 502 || status === 503);
          return;
        }
        if (res.headers['content-type'] !== PROTOBUF_CONTENT_TYPE) {
          fail(`GET ${url}: unsupported metric type (Content-Type ${JSON.stringify(res.headers['content-type'] ?? '')})`);
          return;
        }
        const chunks: Buffer[] = [];
        let size = 0;
        let truncated = false;
        const done = (): void => {
          try {
            finish({ ok: true, stat: decodeStat(Buffer.concat(chunks, size)) }, !truncated);
          } catch (err) {
            fail(`GET ${url}: unmarshalling failed: ${(err as Error).message}`);
          }
        };
        res.on('data', (chunk: Buffer) => {
          if (settled) return;
          const room = this.#maxBody - size;
          if (chunk.length < room) {
            chunks.push(chunk);
            size += chunk.length;
            return;
          }
          // The limit is reached: decode what fits and never look at the rest (Go's LimitReader).
          chunks.push(chunk.subarray(0, room));
          size += room;
          truncated = true;
          done();
        });
        res.on('end', () => {
          if (!truncated) done();
        });
        res.on('error', (err) => fail(`GET ${url}: reading body failed: ${err.message}`));
        res.on('aborted', () => fail(`GET ${url}: reading body failed: connection closed`));
      });
      req.end();
    });
  }
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/**
 * The order the workers take pods in: old pods (up for at least a stable window) then young
 * ones. Whichever group the sample is drawn from is shuffled: young pods when there are fewer
 * old pods than the sample, else old ones.
 */
export function scrapeOrder(pods: readonly ScrapePod[], n: number, stableWindowMs: number, nowMs: number, random: () => number): ScrapePod[] {
  const old: ScrapePod[] = [];
  const young: ScrapePod[] = [];
  for (const p of pods) (nowMs - p.startTimeMs >= stableWindowMs ? old : young).push(p);
  shuffle(old.length < n ? young : old, random);
  return [...old, ...young];
}

/** Go's rand.Shuffle: Fisher–Yates from the end. */
function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
}

/** Sum, divide by the sample size, multiply by the population: Knative's order of operations. */
export function scaleSample(stats: readonly Stat[], sampled: number, population: number): Stat {
  let concurrency = 0;
  let proxiedConcurrency = 0;
  let requests = 0;
  let proxiedRequests = 0;
  for (const s of stats) {
    concurrency += s.averageConcurrentRequests;
    proxiedConcurrency += s.averageProxiedConcurrentRequests;
    requests += s.requestCount;
    proxiedRequests += s.proxiedRequestCount;
  }
  return {
    podName: SCRAPER_POD_NAME,
    averageConcurrentRequests: (concurrency / sampled) * population,
    averageProxiedConcurrentRequests: (proxiedConcurrency / sampled) * population,
    requestCount: (requests / sampled) * population,
    proxiedRequestCount: (proxiedRequests / sampled) * population,
    processUptime: 0,
    timestamp: 0,
  };
}
