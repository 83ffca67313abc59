// The queue-proxy's main handler chain (spec §1.3), outermost first: request log, drainer and
// probes, hijack (upgrade) tracking, timeouts, the Forwarded shim, stats and the breaker, user
// metrics, and the proxy to the app. One `Exchange` object per request carries its timers and
// state, so the hot path allocates little and every exit path releases what it took.
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { Duplex } from 'node:stream';
import { dispatch } from '../network/dispatch.ts';
import { synthesizeForwarded } from '../network/forwarded.ts';
import { STATUS_TEXT, writeTimeoutResponse, writeTimeoutToSocket } from '../network/timeout-response.ts';
import { HASH_HEADER, isHealthCheck, isKubeletProbe, isProbe, NAMESPACE_HEADER, ORIGINAL_HOST_HEADER, PROBE_HEADER, PROBE_INGRESS, PROBE_QUEUE, PROXY_ACTIVATOR, PROXY_HEADER, REVISION_HEADER } from '../network/headers.ts';
import { respond, writeHttpError, writePlain, type AnyResponse } from '../network/http-error.ts';
import { writeRawError, type Exchange as ProxyExchange, type Http1Upstream, type Http2Upstream } from '../network/proxy.ts';
import { ERR_QUEUE_FULL, type Breaker, type Waiter } from './breaker.ts';
import type { Drainer } from './drainer.ts';

export const TIMEOUT_MESSAGE = 'request timeout';

export interface Readiness {
  probe(): Promise<boolean>;
}

export interface StatsSink {
  handleIn(now: number, proxied: boolean): void;
  handleOut(now: number, proxied: boolean): void;
}

/** Per-request observers: user metrics and the request log. */
export interface RequestObserver {
  onStart?(req: IncomingMessage | Http2ServerRequest): void;
  onEnd(req: IncomingMessage | Http2ServerRequest, status: number, bytes: number, seconds: number, probe: boolean): void;
}

export interface HandlerDeps {
  readonly breaker: Breaker | undefined;
  readonly drainer: Drainer;
  readonly readiness: Readiness;
  readonly stats: StatsSink;
  readonly http1: Http1Upstream;
  readonly http2: Http2Upstream;
  readonly observers: readonly RequestObserver[];
  readonly now: () => number;
  /** Milliseconds; 0 disables the response-start and idle timers. */
  readonly timeoutMs: number;
  readonly responseStartTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly upgradeTimeoutExempt: boolean;
  readonly onUpstreamError?: (err: Error) => void;
}

/**
 * Counts open requests of one kind so shutdown can wait for them: plain in-flight requests
 * (no deadline, as Go's Shutdown) and upgraded ones (Knative's HijackTracker, bounded wait).
 */
export class OpenTracker {
  #open = 0;
  #waiters: (() => void)[] = [];
  get open(): number {
    return this.#open;
  }
  add(): void {
    this.#open++;
  }
  done(): void {
    this.#open--;
    if (this.#open === 0) for (const w of this.#waiters.splice(0)) w();
  }
  /** Resolves when nothing is open, or after `timeoutMs` when given. */
  idle(timeoutMs?: number): Promise<void> {
    if (this.#open === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = timeoutMs === undefined ? undefined : setTimeout(resolve, timeoutMs);
      this.#waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

type AnyRequest = IncomingMessage | Http2ServerRequest;

export class MainHandler {
  readonly deps: HandlerDeps;
  readonly hijacked = new OpenTracker();
  readonly inFlight = new OpenTracker();

  constructor(deps: HandlerDeps) {
    this.deps = deps;
  }

  /** Handles a request on the serving port (HTTP/1.1 or an HTTP/2 stream). */
  readonly handle = (req: AnyRequest, res: AnyResponse): void => {
    const headers = req.headers;
    if (isHealthCheck(headers) || headers[PROBE_HEADER] === PROBE_INGRESS) {
      // The request log sits outside the drainer in Knative, so answered probes are logged too.
      if (this.deps.observers.length > 0) this.#observeProbe(req, res);
      this.#answerProbe(req, res);
      return;
    }
    this.deps.drainer.onRequest();
    const ex = new Exchange(this, req, res, undefined);
    ex.start();
  };

  /** Handles an upgrade request (WebSocket) on the HTTP/1.1 port. */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    this.deps.drainer.onRequest();
    const ex = new Exchange(this, req, undefined, { socket, head });
    ex.start();
  };

  #observeProbe(req: AnyRequest, res: AnyResponse): void {
    const d = this.deps;
    const start = d.now();
    for (const o of d.observers) o.onStart?.(req);
    res.once('finish', () => {
      const seconds = (d.now() - start) / 1000;
      for (const o of d.observers) o.onEnd(req, res.statusCode, 0, seconds, true);
    });
  }

  // Drainer and probe answers (spec §1.3 step 3): true when the request was answered here.
  #answerProbe(req: AnyRequest, res: AnyResponse): boolean {
    const headers = req.headers;
    const d = this.deps;
    if (isHealthCheck(headers)) {
      if (d.drainer.draining) writeHttpError(res, 503, 'shutting down');
      else this.#health(req, res);
      return true;
    }
    const probe = headers[PROBE_HEADER];
    if (probe === PROBE_INGRESS) {
      if (d.drainer.draining) {
        writeHttpError(res, 503, 'shutting down');
        return true;
      }
      const hash = headers[HASH_HEADER];
      if (typeof hash !== 'string' || hash === '') {
        writeHttpError(res, 400, `a probe request must contain a non-empty "K-Network-Hash" header`);
        return true;
      }
      respond(res, 200, { 'k-network-hash': hash, 'content-length': 0 });
      return true;
    }
    return false;
  }

  #health(req: AnyRequest, res: AnyResponse): void {
    const value = req.headers[PROBE_HEADER];
    if (value !== PROBE_QUEUE) {
      writeHttpError(res, 400, `unexpected probe header value: ${typeof value === 'string' ? value : ''}`);
      return;
    }
    this.deps.readiness.probe().then(
      (ready) => {
        if (ready) writePlain(res, 200, PROBE_QUEUE);
        else respond(res, 503, { 'content-length': 0 });
      },
      () => respond(res, 503, { 'content-length': 0 }),
    );
  }
}

interface Upgrade {
  readonly socket: Duplex;
  readonly head: Buffer;
}

/** One request's trip through the chain: timers, stats, breaker slot and upstream. */
class Exchange implements ProxyExchange, Waiter {
  readonly h: MainHandler;
  readonly req: AnyRequest;
  readonly res: AnyResponse | undefined;
  readonly upgrade: Upgrade | undefined;
  readonly started: number;
  readonly probe: boolean;
  readonly proxied: boolean;
  queued = false;
  abort?: () => void;
  #counted = false;
  #holdsSlot = false;
  #done = false;
  #timedOut = false;
  #wrote = false;
  #lastWrite = 0;
  #status = 0;
  #bytes = 0;
  #timer: NodeJS.Timeout | undefined;
  #startTimer: NodeJS.Timeout | undefined;

  constructor(h: MainHandler, req: AnyRequest, res: AnyResponse | undefined, upgrade: Upgrade | undefined) {
    this.h = h;
    this.req = req;
    this.res = res;
    this.upgrade = upgrade;
    this.started = h.deps.now();
    this.probe = isProbe(req.headers);
    this.proxied = req.headers[PROXY_HEADER] === PROXY_ACTIVATOR;
  }

  start(): void {
    const d = this.h.deps;
    for (const o of d.observers) o.onStart?.(this.req);
    this.#armTimers();
    const fwd = synthesizeForwarded(this.req.headers);
    if (fwd !== undefined) this.req.headers['forwarded'] = fwd;
    // Kubelet probes bypass stats and the breaker.
    if (!isKubeletProbe(this.req.headers)) {
      d.stats.handleIn(this.started, this.proxied);
      this.#counted = true;
    }
    const original = this.req.headers[ORIGINAL_HOST_HEADER];
    if (typeof original === 'string') {
      this.req.headers['host'] = original;
      if (this.req.headers[':authority'] !== undefined) this.req.headers[':authority'] = original;
      delete this.req.headers[ORIGINAL_HOST_HEADER];
    }
    // Upgraded connections count as hijacked while open, so shutdown can wait for them.
    if (this.upgrade) this.h.hijacked.add();
    else this.h.inFlight.add();
    this.#watchClient();
    const b = d.breaker;
    if (b === undefined || !this.#counted) {
      this.#proxy();
      return;
    }
    const admission = b.acquire(this);
    if (admission === 'acquired') {
      this.#holdsSlot = true;
      this.#proxy();
    } else if (admission === 'full') {
      this.#fail(503, ERR_QUEUE_FULL);
      this.#finish();
    }
  }

  /** Breaker grant for a queued request. */
  grant(): void {
    this.#holdsSlot = true;
    if (this.#done) {
      this.#releaseSlot();
      return;
    }
    this.#proxy();
  }

  #proxy(): void {
    const d = this.h.deps;
    const headers = this.req.headers;
    delete headers[REVISION_HEADER];
    delete headers[NAMESPACE_HEADER];
    dispatch(this.req, this.res, this.upgrade, d, this);
  }

  // --- proxy callbacks ---
  onResponseStart(status: number): void {
    this.#status = status;
    this.#wrote = true;
    this.#lastWrite = this.h.deps.now();
    if (this.#startTimer !== undefined) {
      clearTimeout(this.#startTimer);
      this.#startTimer = undefined;
    }
  }

  onWrite(bytes: number): void {
    this.#lastWrite = this.h.deps.now();
    this.#bytes += bytes;
  }

  onUpstreamError(err: Error, message: string): void {
    this.h.deps.onUpstreamError?.(err);
    if (this.#timedOut) return;
    this.#fail(502, message);
  }

  onEnd(): void {
    this.#finish();
  }

  // --- timers (spec §1.6) ---
  #armTimers(): void {
    const d = this.h.deps;
    const exempt = this.upgrade !== undefined && d.upgradeTimeoutExempt;
    this.#timer = setTimeout(fireHardTimeout, d.timeoutMs, this);
    if (d.responseStartTimeoutMs > 0 && !exempt) this.#startTimer = setTimeout(fireStartTimeout, d.responseStartTimeoutMs, this);
    if (d.idleTimeoutMs > 0 && !exempt) this.#armIdle(d.idleTimeoutMs);
  }

  #idleTimer: NodeJS.Timeout | undefined;

  #armIdle(ms: number): void {
    this.#idleTimer = setTimeout(fireIdleCheck, ms, this);
  }

  // Timer callbacks are module functions given the exchange as their argument, so arming a
  // timer allocates no closure per request.
  onHardTimeout(): void {
    this.#timeout();
  }

  onStartTimeout(): void {
    this.#startTimer = undefined;
    if (!this.#wrote) this.#timeout();
  }

  onIdleCheck(): void {
    const d = this.h.deps;
    // Nothing written yet counts as "infinitely long ago", as Knative's zero last-write time.
    const idleFor = this.#wrote ? d.now() - this.#lastWrite : Infinity;
    if (idleFor >= d.idleTimeoutMs) this.#timeout();
    else this.#armIdle(d.idleTimeoutMs - idleFor);
  }

  #timeout(): void {
    if (this.#done || this.#timedOut) return;
    this.#timedOut = true;
    const b = this.h.deps.breaker;
    if (this.queued && b) b.cancel(this);
    // Cancel the app side first, as Knative cancels the request context.
    this.abort?.();
    if (this.upgrade) writeTimeoutToSocket(this.upgrade.socket, this.#wrote, TIMEOUT_MESSAGE);
    else if (this.res && writeTimeoutResponse(this.res, TIMEOUT_MESSAGE)) this.#status = 504;
    this.#finish();
  }

  #fail(status: number, message: string): void {
    this.#status = status;
    if (this.upgrade) writeRawError(this.upgrade.socket, status, STATUS_TEXT[status] ?? '', message + '\n');
    else if (this.res) writeHttpError(this.res, status, message);
  }

  #watchClient(): void {
    // A client that leaves while queued frees its place; while proxying, the proxy notices.
    // Without a breaker nothing can be queued, so nothing needs watching here.
    if (this.h.deps.breaker === undefined) return;
    const target = this.upgrade ? this.upgrade.socket : this.res;
    target?.once('close', () => this.#onClientClose());
  }

  #onClientClose(): void {
    if (this.#done) return;
    const b = this.h.deps.breaker;
    if (this.queued && b) {
      b.cancel(this);
      this.#finish();
    } else if (!this.#holdsSlot && b && this.#counted) {
      this.#finish();
    }
  }

  #releaseSlot(): void {
    if (!this.#holdsSlot) return;
    this.#holdsSlot = false;
    this.h.deps.breaker?.release();
  }

  #finish(): void {
    if (this.#done) return;
    this.#done = true;
    const d = this.h.deps;
    clearTimeout(this.#timer);
    if (this.#startTimer !== undefined) clearTimeout(this.#startTimer);
    if (this.#idleTimer !== undefined) clearTimeout(this.#idleTimer);
    this.#releaseSlot();
    const now = d.now();
    if (this.#counted) d.stats.handleOut(now, this.proxied);
    if (this.upgrade) this.h.hijacked.done();
    else this.h.inFlight.done();
    const status = this.#status || (this.res?.statusCode ?? 0);
    for (const o of d.observers) o.onEnd(this.req, status, this.#bytes, (now - this.started) / 1000, this.probe);
  }
}

const fireHardTimeout = (ex: Exchange): void => ex.onHardTimeout();
const fireStartTimeout = (ex: Exchange): void => ex.onStartTimeout();
const fireIdleCheck = (ex: Exchange): void => ex.onIdleCheck();
