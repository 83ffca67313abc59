// SERVING_READINESS_PROBE (spec §1.1, §1.4): decoding the user container's readiness probe(s)
// that the reconciler serialises as corev1.Probe JSON, into typed, runnable probes. Only what is
// needed to run is defaulted here (hosts 127.0.0.1, scheme HTTP, successThreshold 1); everything
// else the reconciler has already filled in, so anything missing or malformed is an error value.

export const READINESS_PROBE_ENV = 'SERVING_READINESS_PROBE';

export type Scheme = 'HTTP' | 'HTTPS';

export interface HTTPHeader {
  readonly name: string;
  readonly value: string;
}

export interface TCPSocketAction {
  readonly host: string;
  readonly port: number;
}

export interface HTTPGetAction {
  readonly host: string;
  readonly port: number;
  /** As written in the probe; the prober adds the leading slash and Go's escaping. */
  readonly path: string;
  readonly scheme: Scheme;
  readonly httpHeaders: readonly HTTPHeader[];
}

export interface GRPCAction {
  readonly port: number;
  /** grpc.health.v1 service name; "" asks about the server as a whole. */
  readonly service: string;
}

/** Exactly one handler, keyed by its corev1 field name. */
export type ProbeHandler =
  | { readonly tcpSocket: TCPSocketAction }
  | { readonly httpGet: HTTPGetAction }
  | { readonly grpc: GRPCAction };

/**
 * corev1 timing fields; absent ones are 0 (Go's zero value), except successThreshold which is
 * at least 1 (Knative's check `count >= threshold` makes 0 behave as 1). initialDelaySeconds and
 * failureThreshold are kubelet's business and only carried along.
 */
export interface ProbeTiming {
  readonly initialDelaySeconds: number;
  readonly timeoutSeconds: number;
  readonly periodSeconds: number;
  readonly successThreshold: number;
  readonly failureThreshold: number;
}

export type Probe = ProbeHandler & ProbeTiming;

export type ProbeSpecResult = { ok: true; probes: readonly Probe[] } | { ok: false; error: string };

const DEFAULT_HOST = '127.0.0.1';
const INT32_MAX = 2 ** 31 - 1;
// RFC 7230 token: what Kubernetes validation allows as an httpHeaders name.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

type JSONObject = { readonly [key: string]: unknown };

/** Thrown only inside this module to unwind nested field checks; parseReadinessProbe returns it as a value. */
class ShapeError extends Error {}

/**
 * Decodes the env value. "" means no probes (always ready). A JSON array is the
 * multi-container form and is accepted only when `multiContainer` is on; a single object is
 * accepted in both modes, since it is unambiguous.
 */
export function parseReadinessProbe(value: string, multiContainer: boolean): ProbeSpecResult {
  if (value === '') return { ok: true, probes: [] };
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch (err) {
    return { ok: false, error: `${READINESS_PROBE_ENV}: invalid JSON: ${(err as Error).message}` };
  }
  try {
    if (Array.isArray(json)) {
      if (!multiContainer) {
        fail('', 'a JSON array of probes needs ENABLE_MULTI_CONTAINER_PROBES=true');
      }
      return { ok: true, probes: json.map((p: unknown, i) => decodeProbe(p, `[${i}]`)) };
    }
    return { ok: true, probes: [decodeProbe(json, '')] };
  } catch (err) {
    if (err instanceof ShapeError) return { ok: false, error: `${READINESS_PROBE_ENV}: ${err.message}` };
    throw err;
  }
}

function decodeProbe(raw: unknown, at: string): Probe {
  const obj = object(raw, at, true);
  const handlers: ProbeHandler[] = [];
  const tcp = optionalObject(obj, 'tcpSocket', at);
  if (tcp) {
    const tcpAt = join(at, 'tcpSocket');
    handlers.push({ tcpSocket: { host: host(tcp, tcpAt), port: port(tcp, tcpAt) } });
  }
  const http = optionalObject(obj, 'httpGet', at);
  if (http) handlers.push({ httpGet: decodeHTTPGet(http, join(at, 'httpGet')) });
  const grpc = optionalObject(obj, 'grpc', at);
  if (grpc) {
    const service = optionalString(grpc, 'service', join(at, 'grpc')) ?? '';
    handlers.push({ grpc: { port: port(grpc, join(at, 'grpc')), service } });
  }
  if (obj['exec'] !== undefined && obj['exec'] !== null) {
    // The reconciler turns exec probes into tcpSocket ones; kubelet runs the exec itself.
    fail(join(at, 'exec'), 'exec probes are not run by queue-proxy (the reconciler converts them to tcpSocket)');
  }
  const [handler, extra] = handlers;
  if (handler === undefined || extra !== undefined) {
    fail(at, 'a probe must set exactly one of tcpSocket, httpGet, grpc');
  }
  return {
    ...handler,
    initialDelaySeconds: int32(obj, 'initialDelaySeconds', at),
    timeoutSeconds: int32(obj, 'timeoutSeconds', at),
    periodSeconds: int32(obj, 'periodSeconds', at),
    successThreshold: Math.max(1, int32(obj, 'successThreshold', at)),
    failureThreshold: int32(obj, 'failureThreshold', at),
  };
}

function decodeHTTPGet(obj: JSONObject, at: string): HTTPGetAction {
  const schemeRaw = optionalString(obj, 'scheme', at) ?? '';
  const scheme = schemeRaw === '' ? 'HTTP' : schemeRaw.toUpperCase();
  if (scheme !== 'HTTP' && scheme !== 'HTTPS') {
    fail(join(at, 'scheme'), `${JSON.stringify(schemeRaw)} must be HTTP or HTTPS`);
  }
  const headersRaw = obj['httpHeaders'];
  const httpHeaders: HTTPHeader[] = [];
  if (headersRaw !== undefined && headersRaw !== null) {
    if (!Array.isArray(headersRaw)) fail(join(at, 'httpHeaders'), `must be an array, got ${typeName(headersRaw)}`);
    headersRaw.forEach((h: unknown, i) => {
      const hAt = `${at}.httpHeaders[${i}]`;
      const entry = object(h, hAt, false);
      const name = optionalString(entry, 'name', hAt) ?? '';
      const value = optionalString(entry, 'value', hAt) ?? '';
      if (!HEADER_NAME.test(name)) fail(`${hAt}.name`, `${JSON.stringify(name)} is not a valid HTTP header name`);
      if (/[\r\n\0]/.test(value)) fail(`${hAt}.value`, 'must not contain CR, LF or NUL');
      httpHeaders.push({ name, value });
    });
  }
  return { host: host(obj, at), port: port(obj, at), path: optionalString(obj, 'path', at) ?? '', scheme, httpHeaders };
}

// ---- field readers: each names the offending field in its error ----

/** Throws the error for the field at `at` ("" is the whole value). */
function fail(at: string, message: string): never {
  throw new ShapeError(at === '' ? message : `${at}: ${message}`);
}

function join(at: string, key: string): string {
  return at === '' ? key : `${at}.${key}`;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

function object(v: unknown, at: string, top: boolean): JSONObject {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) {
    fail(at, `${top ? 'expected a JSON object (corev1.Probe)' : 'must be an object'}, got ${typeName(v)}`);
  }
  return v as JSONObject;
}

/** null counts as absent, as in Go's encoding/json. */
function optionalObject(obj: JSONObject, key: string, at: string): JSONObject | undefined {
  const v = obj[key];
  return v === undefined || v === null ? undefined : object(v, join(at, key), false);
}

function optionalString(obj: JSONObject, key: string, at: string): string | undefined {
  const v = obj[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') fail(join(at, key), `must be a string, got ${typeName(v)}`);
  return v;
}

function int32(obj: JSONObject, key: string, at: string): number {
  const v = obj[key];
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > INT32_MAX) {
    fail(join(at, key), `${JSON.stringify(v)} must be a non-negative integer`);
  }
  return v;
}

function host(obj: JSONObject, at: string): string {
  const h = optionalString(obj, 'host', at) ?? '';
  return h === '' ? DEFAULT_HOST : h;
}

/**
 * corev1 ports are IntOrString (gRPC's is a plain int32; accepting a numeric string there too
 * is harmless). Named ports are resolved to numbers by the reconciler, so one reaching
 * queue-proxy is an error, as is a missing port (the reconciler always fills it in).
 */
function port(obj: JSONObject, at: string): number {
  const v = obj['port'];
  const where = join(at, 'port');
  if (v === undefined || v === null) fail(where, 'is required');
  if (typeof v === 'string' && !/^[0-9]+$/.test(v)) {
    fail(where, `${JSON.stringify(v)} must be a port number (named ports are resolved by the reconciler)`);
  }
  if (typeof v !== 'number' && typeof v !== 'string') fail(where, `must be a number or a numeric string, got ${typeName(v)}`);
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 65535) fail(where, `${JSON.stringify(v)} must be between 1 and 65535`);
  return n;
}
