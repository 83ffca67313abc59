// Readiness probing of the user container (spec §1.4; Knative pkg/queue/readiness/probe.go and
// pkg/queue/health): runs the decoded SERVING_READINESS_PROBE probes (TCP, HTTP(S) with optional
// h2c detection, gRPC health) in aggressive or standard mode, coalescing concurrent callers.
// Every attempt is bounded by an AbortSignal whose abort destroys its sockets, so no socket or
// timer outlives the attempt, and every failure becomes an error string, never a rejection.
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { GRPCAction, HTTPGetAction, HTTPHeader, Probe, TCPSocketAction } from './probe-spec.ts';

/** Knative's retryInterval, aggressiveProbeTimeout and PollTimeout. */
export const POLL_INTERVAL_MS = 50;
export const AGGRESSIVE_ATTEMPT_TIMEOUT_MS = 100;
export const POLL_TIMEOUT_MS = 10_000;
/** "kube-probe/" + Kubernetes major + "/" + minor, both empty in queue-proxy (spec §9.6). */
export const PROBE_USER_AGENT = 'kube-probe//';

const DEFAULT_TIMEOUT_SECONDS = 1;
const MAX_TIMER_MS = 2 ** 31 - 1;
const MAX_REDIRECTS = 10; // Go's http.Client default policy
const REDIRECT_STATUSES: ReadonlySet<number> = new Set([301, 302, 303, 307, 308]);
const MAX_GRPC_RESPONSE_BYTES = 64 * 1024;
const GRPC_CODES = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists',
  'PermissionDenied', 'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange',
  'Unimplemented', 'Internal', 'Unavailable', 'DataLoss', 'Unauthenticated',
];
const SERVING_STATUSES = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];
const SERVING = 1;

export interface ReadinessOptions {
  /** ENABLE_HTTP2_AUTO_DETECTION: HTTP probes try h2c (prior knowledge) before HTTP/1.1. */
  readonly http2AutoDetection?: boolean;
  /** Aggressive mode: time between attempt starts (default 50 ms). */
  readonly pollIntervalMs?: number;
  /** Aggressive mode: limit for each attempt (default 100 ms). */
  readonly attemptTimeoutMs?: number;
  /** Aggressive mode: how long one probe() keeps polling before failing (default 10 s). */
  readonly pollTimeoutMs?: number;
  /** Where failures are reported (default: a line on stderr). */
  readonly log?: (msg: string) => void;
}

type Outcome = { ok: true } | { ok: false; error: string };

/** One configured probe and what it remembers between calls. */
interface ProbeState {
  readonly probe: Probe;
  /** Consecutive successful aggressive attempts; any failure resets it. */
  successes: number;
  /** HTTP version the app answered a ready status on, once auto-detection has decided. */
  httpVersion: 1 | 2 | undefined;
}

export class ReadinessProber {
  readonly #states: readonly ProbeState[];
  readonly #autoDetect: boolean;
  readonly #pollIntervalMs: number;
  readonly #attemptTimeoutMs: number;
  readonly #pollTimeoutMs: number;
  readonly #log: (msg: string) => void;
  #inflight: Promise<boolean> | undefined;

  constructor(probes: readonly Probe[], options: ReadinessOptions = {}) {
    // Each probe keeps its own success counter; Knative shares one across its parallel
    // probes, which lets one container's successes count for another's.
    this.#states = probes.map((probe) => ({ probe, successes: 0, httpVersion: undefined }));
    this.#autoDetect = options.http2AutoDetection ?? false;
    this.#pollIntervalMs = options.pollIntervalMs ?? POLL_INTERVAL_MS;
    this.#attemptTimeoutMs = options.attemptTimeoutMs ?? AGGRESSIVE_ATTEMPT_TIMEOUT_MS;
    this.#pollTimeoutMs = options.pollTimeoutMs ?? POLL_TIMEOUT_MS;
    this.#log = options.log ?? ((msg) => void process.stderr.write(msg + '\n'));
  }

  /**
   * True when every probe passes. While a run is in flight, callers join it: a kubelet probe
   * giving up after 1 s leaves the poll running, and the next caller gets its result the
   * moment the app answers (what makes cold starts fast).
   */
  probe(): Promise<boolean> {
    if (this.#states.length === 0) return Promise.resolve(true);
    this.#inflight ??= this.#runAll().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  /**
   * Whether the app answered the first httpGet probe over h2c: undefined until auto-detection
   * has seen a ready status (and always without auto-detection or an HTTP probe).
   */
  get http2Detected(): boolean | undefined {
    const state = this.#states.find((s) => 'httpGet' in s.probe);
    return state?.httpVersion === undefined ? undefined : state.httpVersion === 2;
  }

  async #runAll(): Promise<boolean> {
    // All run to completion (none is cancelled by another's failure), as with Go's errgroup.
    const results = await Promise.all(this.#states.map((s) => this.#runOne(s)));
    return results.every(Boolean);
  }

  async #runOne(state: ProbeState): Promise<boolean> {
    const { probe } = state;
    if (probe.periodSeconds === 0) return this.#poll(state);
    // Standard mode: one attempt; thresholds and periods are kubelet's job.
    const seconds = probe.timeoutSeconds > 0 ? probe.timeoutSeconds : DEFAULT_TIMEOUT_SECONDS;
    const outcome = await this.#attempt(state, seconds * 1000);
    if (!outcome.ok) this.#log(outcome.error);
    return outcome.ok;
  }

  /** Aggressive mode: attempts start every interval, the first at once, until the poll timeout. */
  async #poll(state: ProbeState): Promise<boolean> {
    const deadline = performance.now() + this.#pollTimeoutMs;
    const threshold = state.probe.successThreshold;
    let failures = 0;
    let lastError: string | undefined;
    for (;;) {
      const started = performance.now();
      const outcome = await this.#attempt(state, this.#attemptTimeoutMs);
      if (outcome.ok) {
        state.successes++;
        if (state.successes >= threshold) return true;
      } else {
        state.successes = 0;
        failures++;
        lastError = outcome.error;
      }
      const now = performance.now();
      const next = Math.max(now, started + this.#pollIntervalMs);
      if (next >= deadline) break;
      await sleep(next - now);
    }
    // Individual failures are expected while the app starts; only the last one is reported.
    this.#log(
      lastError === undefined
        ? `aggressive probe error: ${state.successes} of ${threshold} consecutive successes ` +
          `within ${this.#pollTimeoutMs}ms`
        : `aggressive probe error (failed ${failures} times): ${lastError}`,
    );
    return false;
  }

  async #attempt(state: ProbeState, timeoutMs: number): Promise<Outcome> {
    const { probe } = state;
    let run: (signal: AbortSignal) => Promise<void>;
    if ('tcpSocket' in probe) run = (signal) => tcpProbe(probe.tcpSocket, signal);
    else if ('grpc' in probe) run = (signal) => grpcProbe(probe.grpc, timeoutMs, signal);
    else run = (signal) => this.#httpProbe(state, probe.httpGet, timeoutMs, signal);
    try {
      await bounded(timeoutMs, run);
      return { ok: true };
    } catch (err) {
      return { ok: false, error: errorMessage(err) };
    }
  }

  async #httpProbe(state: ProbeState, action: HTTPGetAction, timeoutMs: number, signal: AbortSignal): Promise<void> {
    // h2c is cleartext only; over TLS Go would negotiate h2 by ALPN, which changes nothing here.
    const detect = this.#autoDetect && action.scheme === 'HTTP';
    if (!detect || state.httpVersion !== undefined) {
      return expectReady(await httpGet(action, state.httpVersion ?? 1, signal));
    }
    // Half the budget for h2c, so an HTTP/1 server that swallows the preface still leaves time
    // for the HTTP/1.1 attempt.
    const h2 = await bounded(timeoutMs / 2, (s) => httpGet(action, 2, s), signal).then(
      (status) => ({ ok: true as const, status }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    if (h2.ok) {
      // The app spoke HTTP/2, so HTTP/1.1 would answer no better (or not at all): a non-ready
      // status fails the attempt without falling back.
      expectReady(h2.status);
      state.httpVersion = 2;
      return;
    }
    if (hasCode(h2.err, 'ECONNREFUSED')) throw h2.err; // nothing listens; HTTP/1.1 would fail too
    try {
      expectReady(await httpGet(action, 1, signal));
    } catch (err) {
      throw new Error(`h2c: ${errorMessage(h2.err)}; HTTP/1.1: ${errorMessage(err)}`, { cause: err });
    }
    state.httpVersion = 1;
  }
}

// ---- bounding and cancellation ----

/** Runs `run` with a signal aborted after `ms` (or with `parent`); the timer never outlives it. */
async function bounded<T>(ms: number, run: (signal: AbortSignal) => Promise<T>, parent?: AbortSignal): Promise<T> {
  const ctl = new AbortController();
  // setTimeout turns delays beyond 2^31-1 ms into 1 ms; a huge timeoutSeconds must not.
  const timer = setTimeout(() => ctl.abort(new Error(`timeout after ${Math.round(ms)}ms`)), Math.min(ms, MAX_TIMER_MS));
  const onParent = (): void => ctl.abort(parent?.reason);
  parent?.addEventListener('abort', onParent, { once: true });
  if (parent?.aborted) onParent();
  try {
    return await run(ctl.signal);
  } finally {
    clearTimeout(timer);
    parent?.removeEventListener('abort', onParent);
  }
}

interface Settle<T> {
  readonly resolve: (value: T) => void;
  readonly reject: (err: unknown) => void;
}

/**
 * A promise around callback I/O: `start` opens resources and returns their cleanup, which runs
 * exactly once when the promise settles or the signal aborts, whichever is first.
 */
function abortable<T>(signal: AbortSignal, start: (settle: Settle<T>) => () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let done = false;
    let cleanup: (() => void) | undefined;
    const finish = (complete: () => void): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      cleanup?.();
      complete();
    };
    const onAbort = (): void => finish(() => reject(signal.reason));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      cleanup = start({ resolve: (v) => finish(() => resolve(v)), reject: (e) => finish(() => reject(e)) });
    } catch (err) {
      finish(() => reject(err));
    }
    // start may have settled synchronously, before its cleanup was known.
    if (done) cleanup?.();
  });
}

// ---- TCP ----

function tcpProbe({ host, port }: TCPSocketAction, signal: AbortSignal): Promise<void> {
  const addr = joinHostPort(host, port);
  return abortable<void>(signal, ({ resolve, reject }) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => resolve());
    socket.on('error', reject);
    return () => socket.destroy();
  }).catch((err: unknown) => {
    throw wrap(`dial tcp ${addr}`, err);
  });
}

// ---- HTTP ----

interface Target {
  readonly secure: boolean;
  readonly host: string;
  readonly port: number;
  /** Request target: escaped path plus query. */
  readonly path: string;
}

interface Reply {
  readonly status: number;
  readonly location: string | undefined;
}

/**
 * GETs the probe URL following redirects as Go's http.Client does (301/302/303/307/308 with a
 * Location, at most 10), rather than counting a 3xx as success: Knative's prober is a plain Go
 * client, so a redirect to a failing URL fails. A 3xx that is not followed is in 200–399 and
 * passes. Returns the final status.
 */
async function httpGet(action: HTTPGetAction, version: 1 | 2, signal: AbortSignal): Promise<number> {
  let target: Target = {
    secure: action.scheme === 'HTTPS',
    host: action.host,
    port: action.port,
    path: escapePath(action.path.startsWith('/') ? action.path : '/' + action.path),
  };
  let headers = requestHeaders(action.httpHeaders);
  for (let redirects = 0; ; redirects++) {
    const url = targetURL(target);
    const once = target.secure || version === 1 ? http1Once : http2Once;
    let reply: Reply;
    try {
      reply = await once(target, headers, signal);
    } catch (err) {
      throw wrap(`Get "${url}"`, err);
    }
    if (!REDIRECT_STATUSES.has(reply.status) || reply.location === undefined) return reply.status;
    if (redirects === MAX_REDIRECTS) throw new Error(`Get "${url}": stopped after ${MAX_REDIRECTS} redirects`);
    const next = redirectTarget(url, reply.location);
    if (typeof next === 'string') throw new Error(`Get "${url}": ${next}`);
    // Like Go, credentials are not forwarded to another host.
    if (next.host !== target.host) headers = headers.filter(([name]) => !SENSITIVE_HEADERS.has(name.toLowerCase()));
    target = next;
  }
}

function expectReady(status: number): void {
  if (status < 200 || status >= 400) throw new Error(`HTTP probe did not respond Ready, got status code: ${status}`);
}

const SENSITIVE_HEADERS: ReadonlySet<string> = new Set(['authorization', 'www-authenticate', 'cookie', 'cookie2']);

type HeaderList = readonly (readonly [string, string])[];

/**
 * User-Agent first, then the probe's headers added in order. Go writes only the first
 * User-Agent value and ignores a Host header field (the Host comes from the URL), so custom
 * ones of those are dropped rather than sent.
 */
function requestHeaders(extra: readonly HTTPHeader[]): HeaderList {
  const list: [string, string][] = [['User-Agent', PROBE_USER_AGENT]];
  for (const { name, value } of extra) {
    const canonical = canonicalHeaderKey(name);
    if (canonical !== 'User-Agent' && canonical !== 'Host') list.push([canonical, value]);
  }
  return list;
}

/** Go's CanonicalMIMEHeaderKey for token names: `x-custom-header` → `X-Custom-Header`. */
function canonicalHeaderKey(name: string): string {
  return name.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

function http1Once(target: Target, headers: HeaderList, signal: AbortSignal): Promise<Reply> {
  const outgoing: Record<string, string[]> = {};
  for (const [name, value] of headers) (outgoing[name] ??= []).push(value);
  return abortable<Reply>(signal, ({ resolve, reject }) => {
    // agent: false gives a fresh connection with Connection: close (Go's DisableKeepAlives).
    const options: https.RequestOptions = {
      host: target.host,
      port: target.port,
      path: target.path,
      method: 'GET',
      headers: outgoing,
      agent: false,
    };
    // Like kubelet, HTTPS probes do not verify the certificate.
    const req = target.secure ? https.request({ ...options, rejectUnauthorized: false }) : http.request(options);
    req.on('response', (res) => {
      // Only the status matters; the body is dropped with the connection, never read.
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
      res.destroy();
    });
    req.on('error', reject);
    req.end();
    return () => req.destroy();
  });
}

// HTTP/2 forbids connection-specific fields; Go's transport drops them too.
const H2_DROPPED: ReadonlySet<string> = new Set([
  'connection',
  'proxy-connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
]);

function http2Once(target: Target, headers: HeaderList, signal: AbortSignal): Promise<Reply> {
  const outgoing: Record<string, string | string[]> = { ':method': 'GET', ':path': target.path };
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    if (H2_DROPPED.has(key)) continue;
    const prev = outgoing[key];
    outgoing[key] = prev === undefined ? value : [...(Array.isArray(prev) ? prev : [prev]), value];
  }
  return abortable<Reply>(signal, ({ resolve, reject }) => {
    // An http:// authority means prior-knowledge h2c: the preface is sent straight away.
    const session = http2.connect(`http://${joinHostPort(target.host, target.port)}`);
    session.on('error', reject);
    const req = session.request(outgoing, { endStream: true });
    req.on('response', (h) => resolve({ status: Number(h[':status']), location: firstValue(h['location']) }));
    req.on('error', reject);
    req.on('close', () => reject(new Error(`HTTP/2 stream closed without a response (code ${req.rstCode})`)));
    return () => session.destroy();
  });
}

function targetURL(t: Target): string {
  return `${t.secure ? 'https' : 'http'}://${joinHostPort(t.host, t.port)}${t.path}`;
}

/** Resolves a Location against the current URL; a string is the error. */
function redirectTarget(base: string, location: string): Target | string {
  let url: URL;
  try {
    url = new URL(location, base);
  } catch {
    return `failed to parse Location header ${JSON.stringify(location)}`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `unsupported protocol scheme ${JSON.stringify(url.protocol.slice(0, -1))}`;
  }
  const secure = url.protocol === 'https:';
  return {
    secure,
    host: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port: url.port === '' ? (secure ? 443 : 80) : Number(url.port),
    path: url.pathname + url.search,
  };
}

/**
 * Go builds the URL from a url.URL whose Path is the probe path, so every byte outside
 * unreserved and `$&+,/:;=@` is percent-encoded, `?`, `#` and `%` included.
 */
function escapePath(path: string): string {
  let out = '';
  for (const byte of Buffer.from(path, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~$&+,/:;=@]/.test(c) ? c : '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

// ---- gRPC health (grpc.health.v1.Health/Check over h2c) ----

function grpcProbe({ port, service }: GRPCAction, timeoutMs: number, signal: AbortSignal): Promise<void> {
  const addr = joinHostPort('127.0.0.1', port);
  return abortable<void>(signal, ({ resolve, reject }) => {
    const session = http2.connect(`http://${addr}`);
    session.on('error', reject);
    const req = session.request({
      ':method': 'POST',
      ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc',
      te: 'trailers',
      'user-agent': PROBE_USER_AGENT,
      'grpc-timeout': `${Math.max(1, Math.round(timeoutMs))}m`,
    });
    let headers: http2.IncomingHttpHeaders = {};
    let trailers: http2.IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('response', (h) => (headers = h));
    req.on('trailers', (t) => (trailers = t));
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_GRPC_RESPONSE_BYTES) reject(new Error(`response larger than ${MAX_GRPC_RESPONSE_BYTES} bytes`));
      else chunks.push(chunk);
    });
    req.on('end', () => {
      const error = healthError(headers, trailers, Buffer.concat(chunks));
      if (error === undefined) resolve();
      else reject(new Error(error));
    });
    req.on('error', reject);
    req.on('close', () => reject(new Error(`HTTP/2 stream closed without a response (code ${req.rstCode})`)));
    req.end(grpcFrame(healthCheckRequest(service)));
    return () => session.destroy();
  }).catch((err: unknown) => {
    throw wrap(`grpc probe ${addr}`, err);
  });
}

/** The failure of a finished Health/Check call, or undefined when the service is SERVING. */
function healthError(
  headers: http2.IncomingHttpHeaders,
  trailers: http2.IncomingHttpHeaders,
  body: Buffer,
): string | undefined {
  const status = firstValue(headers[':status']);
  if (status !== '200') return `unexpected HTTP status ${status ?? '(none)'}`;
  // A failed call may come as trailers-only: grpc-status in the headers.
  const code = firstValue(trailers['grpc-status'] ?? headers['grpc-status']);
  if (code === undefined) return 'response has no grpc-status';
  if (code !== '0') {
    const desc = firstValue(trailers['grpc-message'] ?? headers['grpc-message']) ?? '';
    return `rpc error: code = ${GRPC_CODES[Number(code)] ?? `Code(${code})`} desc = ${percentDecode(desc)}`;
  }
  if (body.length < 5) return 'response has no message';
  if (body[0] !== 0) return 'compressed response message not supported';
  const length = body.readUInt32BE(1);
  if (body.length < 5 + length) return 'truncated response message';
  const serving = servingStatus(body.subarray(5, 5 + length));
  if (typeof serving === 'string') return `bad HealthCheckResponse: ${serving}`;
  if (serving === SERVING) return undefined;
  return `service unhealthy (responded with ${JSON.stringify(SERVING_STATUSES[serving] ?? String(serving))})`;
}

/** HealthCheckRequest{service = 1}; proto3 omits an empty string. */
function healthCheckRequest(service: string): Buffer {
  const name = Buffer.from(service, 'utf8');
  return name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, ...varint(name.length)]), name]);
}

/** gRPC length-prefixed message: flag 0 (uncompressed), 4-byte big-endian length, bytes. */
function grpcFrame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** HealthCheckResponse.status (field 1, varint; absent = 0 UNKNOWN), or a decoding error. */
function servingStatus(msg: Uint8Array): number | string {
  let pos = 0;
  let status = 0;
  const readVarint = (): number | undefined => {
    let value = 0;
    for (let shift = 0; shift < 70 && pos < msg.length; shift += 7) {
      const b = msg[pos++] ?? 0;
      value += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return value;
    }
    return undefined;
  };
  while (pos < msg.length) {
    const key = readVarint();
    if (key === undefined) return 'truncated field key';
    const field = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) {
      const v = readVarint();
      if (v === undefined) return 'truncated varint';
      if (field === 1) status = v;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else if (wire === 2) {
      const len = readVarint();
      if (len === undefined) return 'truncated length';
      pos += len;
    } else return `unsupported wire type ${wire}`;
    if (pos > msg.length) return 'truncated field';
  }
  return status;
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

// ---- small helpers ----

function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

function firstValue(v: string | string[] | number | undefined): string | undefined {
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v[0] : String(v);
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Prefixes context, keeping the original as `cause` (its `code` is still inspectable). */
function wrap(context: string, err: unknown): Error {
  return new Error(`${context}: ${errorMessage(err)}`, { cause: err });
}

function hasCode(err: unknown, code: string): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) {
    if ((e as NodeJS.ErrnoException).code === code) return true;
  }
  return false;
}
