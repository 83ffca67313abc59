// The activator's handler chain (spec §2.2), outermost first: kubelet health, the network and
// activator probes, revision identification (§2.3), the concurrency reporter (§2.7), the
// timeout handler, then the throttler (§2.4) and the proxy (§2.6). One `Exchange` per request
// carries its timers, queue place, pod reservation and phase timings, so that every way out
// (answer, timeout, client gone, pod failure) gives back exactly what it took.
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { dispatch, type UpstreamPair } from '../network/dispatch.ts';
import { HASH_HEADER, isKubeletProbe, NAMESPACE_HEADER, ORIGINAL_HOST_HEADER, PASSTHROUGH_LB_HEADER, PROBE_ACTIVATOR, PROBE_HEADER, PROBE_INGRESS, PROXY_ACTIVATOR, PROXY_HEADER, REVISION_HEADER } from '../network/headers.ts';
import { respond, writeHttpError, writePlain, type AnyResponse } from '../network/http-error.ts';
import { writeRawError, type Exchange as ProxyExchange } from '../network/proxy.ts';
import { STATUS_TEXT, writeTimeoutResponse, writeTimeoutToSocket } from '../network/timeout-response.ts';
import type { Waiter } from '../queue-proxy/breaker.ts';
import type { ActivatorRevision } from './backends.ts';
import { SHED_MESSAGES, type BufferLimits } from './buffer-limits.ts';
import { serverTiming, type ActivatorMetrics } from './metrics.ts';
import type { Pick, RevisionThrottler } from './throttler.ts';

export const TIMEOUT_MESSAGE = 'activator request timeout';
/** Seconds a shed client is told to wait before retrying. */
export const RETRY_AFTER_SECONDS = 1;

type AnyRequest = IncomingMessage | Http2ServerRequest;

/** A revision's throttler plus the requests waiting in it, oldest first (for the age gauge). */
export interface RevisionQueue {
  readonly throttler: RevisionThrottler;
  readonly waiting: Set<{ readonly started: number }>;
  /** Requests being proxied (the kn_revision_request_active gauge, read at scrape time). */
  active: number;
}

export interface ActivatorHandlerDeps {
  readonly revision: (namespace: string, name: string) => ActivatorRevision | undefined;
  /** The revision's throttler and queue, created on first use. */
  readonly queue: (rev: ActivatorRevision) => RevisionQueue;
  readonly report: { in(namespace: string, name: string, nowMs: number): void; out(namespace: string, name: string, nowMs: number): void };
  readonly upstreams: { for(dest: string): UpstreamPair };
  readonly limits: BufferLimits;
  readonly metrics: ActivatorMetrics | undefined;
  readonly health: { readonly terminating: () => boolean; readonly connected: () => boolean };
  readonly clusterDomain: string;
  /** config-network enable-mesh-pod-addressability: address pods through `<rev>-private.<ns>`. */
  readonly passthroughLb: boolean;
  readonly now: () => number;
  readonly log: Logger;
}

/**
 * Counts open requests so shutdown can wait for them. Upgraded connections (after the 101) are
 * counted but not waited for: Go's Server.Shutdown ignores hijacked connections, so Knative's
 * activator cuts its WebSockets when it exits after the drain.
 */
export class OpenRequests {
  #open = 0;
  #hijacked = 0;
  #waiters: (() => void)[] = [];
  /** Open requests, upgraded connections included. */
  get open(): number {
    return this.#open;
  }
  /** Open upgraded connections. */
  get hijacked(): number {
    return this.#hijacked;
  }
  add(): void {
    this.#open++;
  }
  /** An open request became an upgraded connection. */
  hijack(): void {
    this.#hijacked++;
    this.#wake();
  }
  done(hijacked: boolean): void {
    this.#open--;
    if (hijacked) this.#hijacked--;
    this.#wake();
  }
  /** Resolves when no request is open, upgraded connections aside. */
  idle(): Promise<void> {
    return this.#open === this.#hijacked ? Promise.resolve() : new Promise((resolve) => this.#waiters.push(resolve));
  }
  #wake(): void {
    if (this.#open === this.#hijacked && this.#waiters.length > 0) for (const w of this.#waiters.splice(0)) w();
  }
}

/** Go's html.EscapeString, for the probe error body. */
function htmlEscape(s: string): string {
  return s.replace(/[&'<>"]/g, (c) => ({ '&': '&amp;', "'": '&#39;', '<': '&lt;', '>': '&gt;', '"': '&#34;' })[c] ?? c);
}

const first = (v: string | string[] | undefined): string => (Array.isArray(v) ? (v[0] ?? '') : (v ?? ''));

/** Revision from `name.namespace.svc.<clusterDomain>[:port]` when the headers do not name one. */
export function revisionFromHost(host: string, clusterDomain: string): { namespace: string; name: string } | undefined {
  // Go's strings.SplitN(host, ".", 4): the fourth part keeps its dots.
  const parts = host.split('.');
  if (parts.length < 4 || parts[2] !== 'svc') return undefined;
  const domain = parts.slice(3).join('.').replace(/:[^:]*$/, '');
  if (domain !== clusterDomain) return undefined;
  return { name: parts[0] ?? '', namespace: parts[1] ?? '' };
}

export class ActivatorHandler {
  readonly deps: ActivatorHandlerDeps;
  readonly open = new OpenRequests();

  constructor(deps: ActivatorHandlerDeps) {
    this.deps = deps;
  }

  readonly handle = (req: AnyRequest, res: AnyResponse): void => {
    if (this.#answerProbes(req, res)) return;
    this.#route(req, res, undefined);
  };

  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    socket.on('error', destroyOnError);
    // Step 2 drops the probe hash from every request it does not answer, upgrades included.
    delete req.headers[HASH_HEADER];
    this.#route(req, undefined, { socket, head });
  };

  /** Steps 1–3: kubelet health, the ingress network probe and the activator probe. */
  #answerProbes(req: AnyRequest, res: AnyResponse): boolean {
    const headers = req.headers;
    if (isKubeletProbe(headers)) {
      const h = this.deps.health;
      if (h.terminating()) writePlain(res, 500, 'received SIGTERM from kubelet\n');
      else if (!h.connected()) writePlain(res, 500, 'connection has not yet been established\n');
      else respond(res, 200, { 'content-length': 0 });
      return true;
    }
    const probe = first(headers[PROBE_HEADER]);
    if (probe === PROBE_INGRESS) {
      const hash = first(headers[HASH_HEADER]);
      if (hash === '') writeHttpError(res, 400, 'a probe request must contain a non-empty "K-Network-Hash" header');
      else respond(res, 200, { [HASH_HEADER]: hash, 'content-length': 0 });
      return true;
    }
    delete headers[HASH_HEADER];
    if (probe !== '') {
      if (probe === PROBE_ACTIVATOR) writePlain(res, 200, PROBE_ACTIVATOR);
      else writeHttpError(res, 400, `unexpected probe header value: "${htmlEscape(probe)}"`);
      return true;
    }
    return false;
  }

  #route(req: AnyRequest, res: AnyResponse | undefined, upgrade: Upgrade | undefined): void {
    const headers = req.headers;
    let namespace = first(headers[NAMESPACE_HEADER]);
    let name = first(headers[REVISION_HEADER]);
    if (namespace === '' || name === '') {
      const fromHost = revisionFromHost(first(headers[':authority']) || first(headers.host), this.deps.clusterDomain);
      if (fromHost) ({ namespace, name } = fromHost);
    }
    const rev = namespace === '' || name === '' ? undefined : this.deps.revision(namespace, name);
    if (rev === undefined) {
      const body = `Error getting active endpoint: revision.serving.knative.dev "${name}" not found`;
      if (upgrade) {
        writeRawError(upgrade.socket, 404, 'Not Found', body + '\n');
        upgrade.socket.destroy();
      } else if (res) writeHttpError(res, 404, body);
      return;
    }
    new Exchange(this, req, res, upgrade, rev).start();
  }
}

interface Upgrade {
  readonly socket: Duplex;
  readonly head: Buffer;
}

/** One request's trip: reporter, timers, queue, pod pick and proxy. */
class Exchange implements ProxyExchange, Waiter {
  readonly h: ActivatorHandler;
  readonly req: AnyRequest;
  readonly res: AnyResponse | undefined;
  readonly upgrade: Upgrade | undefined;
  readonly rev: ActivatorRevision;
  readonly started: number;
  queued = false;
  abort?: () => void;
  #queue: RevisionQueue | undefined;
  #pick: Pick | undefined;
  #holdsSlot = false;
  #waiting = false;
  #watching = false;
  #bodyReserve = 0;
  #coldAtArrival = false;
  #grantedAt = -1;
  #queuedMs = 0;
  #capacityMs = 0;
  #responseAt = -1;
  #proxying = false;
  #hijacked = false;
  #done = false;
  #timedOut = false;
  #wrote = false;
  #lastWrite = 0;
  #status = 0;
  #timer: NodeJS.Timeout | undefined;
  #startTimer: NodeJS.Timeout | undefined;
  #idleTimer: NodeJS.Timeout | undefined;

  constructor(h: ActivatorHandler, req: AnyRequest, res: AnyResponse | undefined, upgrade: Upgrade | undefined, rev: ActivatorRevision) {
    this.h = h;
    this.req = req;
    this.res = res;
    this.upgrade = upgrade;
    this.rev = rev;
    this.started = h.deps.now();
  }

  start(): void {
    const d = this.h.deps;
    d.report.in(this.rev.namespace, this.rev.name, this.started);
    this.h.open.add();
    this.#armTimers();
    const q = d.queue(this.rev);
    this.#queue = q;
    const t = q.throttler;
    this.#coldAtArrival = t.capacity === 0;
    // Fast path: a free slot and nobody waiting.
    if (t.breaker.tryAcquireNow()) {
      this.#holdsSlot = true;
      this.#granted();
      return;
    }
    this.#enqueue();
  }

  #enqueue(): void {
    const d = this.h.deps;
    const q = this.#queue as RevisionQueue;
    if (!this.#waiting) {
      this.#bodyReserve = this.upgrade ? 0 : bodyReserveOf(this.req);
      const shed = d.limits.enter(q.throttler.breaker.pending, this.#bodyReserve);
      if (shed !== undefined) {
        d.metrics?.shed(this.rev.namespace, this.rev.name, shed);
        d.log.warn({ namespace: this.rev.namespace, revision: this.rev.name, reason: shed }, 'request shed: buffering limit reached');
        this.#fail(503, SHED_MESSAGES[shed], RETRY_AFTER);
        this.#finish();
        return;
      }
      this.#waiting = true;
      q.waiting.add(this);
      this.#watchClient();
    }
    const admission = q.throttler.breaker.acquire(this);
    if (admission === 'acquired') {
      this.#holdsSlot = true;
      this.#granted();
    }
  }

  /** The revision breaker granted a queued request. */
  grant(): void {
    this.#holdsSlot = true;
    if (this.#done) {
      this.#releaseSlot();
      return;
    }
    this.#granted();
  }

  #granted(): void {
    const q = this.#queue as RevisionQueue;
    const pick = q.throttler.pick();
    if (pick === undefined) {
      // The pods' own slots are taken (a capacity change raced the revision breaker): queue
      // again on a later turn. The slot is kept until then, so that giving it back cannot grant
      // (and fail) the next waiter inside this call, and so on down the queue.
      this.#watchClient();
      setImmediate(retryAfterFailedPick, this);
      return;
    }
    this.#pick = pick;
    this.#leaveQueue();
    const now = this.h.deps.now();
    this.#grantedAt = now;
    const waited = now - this.started;
    // The part of the wait before the revision had any capacity is the cold start.
    this.#queuedMs = this.#coldAtArrival ? Math.min(waited, Math.max(0, q.throttler.openedAtMs - this.started)) : 0;
    this.#capacityMs = waited - this.#queuedMs;
    this.#proxy(pick.dest);
  }

  onRetry(): void {
    if (this.#done) return;
    this.#releaseSlot();
    this.#enqueue();
  }

  #leaveQueue(): void {
    if (!this.#waiting) return;
    this.#waiting = false;
    this.#queue?.waiting.delete(this);
    this.h.deps.limits.leave(this.#bodyReserve);
  }

  #proxy(dest: string): void {
    const d = this.h.deps;
    this.#proxying = true;
    (this.#queue as RevisionQueue).active++;
    const headers = this.req.headers;
    delete headers[REVISION_HEADER];
    delete headers[NAMESPACE_HEADER];
    headers[PROXY_HEADER] = PROXY_ACTIVATOR;
    const h2 = (this.req as IncomingMessage).httpVersionMajor === 2;
    const hostKey = h2 ? ':authority' : 'host';
    const original = first(headers[hostKey]);
    if (headers[ORIGINAL_HOST_HEADER] === undefined && original !== '') headers[ORIGINAL_HOST_HEADER] = original;
    // Pods are addressed by IP; with passthrough LB the mesh routes the private service name to
    // exactly this pod.
    if (d.passthroughLb) {
      headers[hostKey] = `${this.rev.name}-private.${this.rev.namespace}`;
      headers[PASSTHROUGH_LB_HEADER] = 'true';
    } else headers[hostKey] = dest;
    dispatch(this.req, this.res, this.upgrade, d.upstreams.for(dest), this);
  }

  // --- proxy callbacks ---
  onResponseStart(status: number): void {
    const now = this.h.deps.now();
    this.#status = status;
    this.#wrote = true;
    this.#lastWrite = now;
    this.#responseAt = now;
    if (this.#startTimer !== undefined) {
      clearTimeout(this.#startTimer);
      this.#startTimer = undefined;
    }
    if (this.upgrade && status === 101) {
      this.#hijacked = true;
      this.h.open.hijack();
    }
    const res = this.res;
    if (res && !res.headersSent) res.setHeader('server-timing', serverTiming(this.#queuedMs, this.#capacityMs, now - this.#grantedAt));
  }

  onWrite(): void {
    this.#lastWrite = this.h.deps.now();
  }

  onUpstreamError(err: Error, message: string): void {
    this.h.deps.log.debug({ err: err.message, revision: this.rev.name }, 'error reverse proxying request');
    if (this.#timedOut) return;
    this.#fail(502, message);
  }

  onEnd(): void {
    this.#finish();
  }

  // --- timeouts (the queue-proxy's timeout handler with the activator's message) ---
  // Timer callbacks are module functions given the exchange as their argument, so arming a
  // timer allocates no closure per request.
  #armTimers(): void {
    const r = this.rev;
    this.#timer = setTimeout(fireHardTimeout, r.timeoutSeconds * 1000, this);
    if (r.responseStartTimeoutSeconds > 0) this.#startTimer = setTimeout(fireStartTimeout, r.responseStartTimeoutSeconds * 1000, this);
    if (r.idleTimeoutSeconds > 0) this.#idleTimer = setTimeout(fireIdleCheck, r.idleTimeoutSeconds * 1000, this);
  }

  onHardTimeout(): void {
    this.#timer = undefined;
    this.#timeout();
  }

  onStartTimeout(): void {
    this.#startTimer = undefined;
    if (!this.#wrote) this.#timeout();
  }

  onIdleCheck(): void {
    this.#idleTimer = undefined;
    const limit = this.rev.idleTimeoutSeconds * 1000;
    // Nothing written yet counts as "infinitely long ago", as Knative's zero last-write time.
    const idleFor = this.#wrote ? this.h.deps.now() - this.#lastWrite : Infinity;
    if (idleFor >= limit) this.#timeout();
    else this.#idleTimer = setTimeout(fireIdleCheck, limit - idleFor, this);
  }

  #timeout(): void {
    if (this.#done || this.#timedOut) return;
    this.#timedOut = true;
    // Cancel the pod side first, as Knative cancels the request context.
    this.abort?.();
    if (this.upgrade) writeTimeoutToSocket(this.upgrade.socket, this.#wrote, TIMEOUT_MESSAGE);
    else if (this.res && writeTimeoutResponse(this.res, TIMEOUT_MESSAGE)) this.#status = 504;
    this.#finish();
  }

  #fail(status: number, message: string, headers?: Readonly<Record<string, string>>): void {
    this.#status = status;
    if (this.upgrade) {
      writeRawError(this.upgrade.socket, status, STATUS_TEXT[status] ?? '', message + '\n');
      this.upgrade.socket.destroy();
    } else if (this.res) {
      if (headers !== undefined && !this.res.headersSent) for (const [k, v] of Object.entries(headers)) this.res.setHeader(k, v);
      writeHttpError(this.res, status, message);
    }
  }

  /**
   * A request about to wait (queued, or queueing again after a failed pick) must free its place
   * when the client leaves. Once proxying, the proxy sees the close and ends the exchange, so the
   * fast path registers nothing.
   */
  #watchClient(): void {
    if (this.#watching) return;
    this.#watching = true;
    const target = this.upgrade ? this.upgrade.socket : this.res;
    target?.once('close', () => {
      if (!this.#done && !this.#proxying) this.#finish();
    });
  }

  #releaseSlot(): void {
    if (!this.#holdsSlot) return;
    this.#holdsSlot = false;
    this.#queue?.throttler.breaker.release();
  }

  /** Every way out ends here, once: gives back the timers, queue place, pod and slot it holds. */
  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    const d = this.h.deps;
    clearTimeout(this.#timer);
    if (this.#startTimer !== undefined) clearTimeout(this.#startTimer);
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    const q = this.#queue;
    if (this.queued) q?.throttler.breaker.cancel(this);
    this.#leaveQueue();
    const now = d.now();
    if (this.#pick !== undefined) {
      q?.throttler.done(this.#pick);
      this.#pick = undefined;
    }
    this.#releaseSlot();
    d.report.out(this.rev.namespace, this.rev.name, now);
    this.h.open.done(this.#hijacked);
    if (this.#proxying && q !== undefined) {
      q.active--;
      const { namespace, name } = this.rev;
      const proxyMs = now - this.#grantedAt;
      d.metrics?.observePhases(namespace, name, this.#queuedMs, this.#capacityMs, proxyMs);
      if (d.log.isLevelEnabled('debug')) {
        const firstByteMs = this.#responseAt < 0 ? undefined : this.#responseAt - this.#grantedAt;
        d.log.debug({ namespace, revision: name, status: this.#status, queuedMs: this.#queuedMs, capacityMs: this.#capacityMs, proxyMs, firstByteMs }, 'request phases');
      }
    }
  }
}

const RETRY_AFTER: Readonly<Record<string, string>> = { 'retry-after': String(RETRY_AFTER_SECONDS) };
const fireHardTimeout = (ex: Exchange): void => ex.onHardTimeout();
const fireStartTimeout = (ex: Exchange): void => ex.onStartTimeout();
const fireIdleCheck = (ex: Exchange): void => ex.onIdleCheck();
const retryAfterFailedPick = (ex: Exchange): void => ex.onRetry();

function destroyOnError(this: Duplex): void {
  this.destroy();
}

/** What a request waiting with an unread body may hold in memory (see BufferLimitsConfig). */
function bodyReserveOf(req: AnyRequest): number {
  const headers = req.headers;
  const hwm = req.readableHighWaterMark;
  const declared = headers['content-length'];
  if (declared !== undefined) return Math.min(Number(declared) || 0, hwm);
  if ((req as IncomingMessage).httpVersionMajor === 2) return req.readableEnded ? 0 : hwm;
  return headers['transfer-encoding'] !== undefined ? hwm : 0;
}
