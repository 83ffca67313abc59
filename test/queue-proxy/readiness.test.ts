// Readiness probing (spec §1.4): SERVING_READINESS_PROBE decoding, and the prober against real
// TCP, HTTP/1.1, HTTPS, h2c and gRPC servers on 127.0.0.1 with ephemeral ports. Aggressive-mode
// durations are shrunk through the constructor options; timing checks use wide margins.
import test, { type ExecutionContext } from 'ava';
import * as http from 'node:http';
import * as http2 from 'node:http2';
import * as https from 'node:https';
import * as net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseReadinessProbe, type Probe } from '../../queue-proxy/probe-spec.ts';
import { ReadinessProber, type ReadinessOptions } from '../../queue-proxy/readiness.ts';

// ---- SERVING_READINESS_PROBE decoding ----

const timing = { initialDelaySeconds: 0, timeoutSeconds: 0, periodSeconds: 0, successThreshold: 1, failureThreshold: 0 };

const validRows: readonly (readonly [string, boolean, readonly Probe[]])[] = [
  ['', false, []],
  // The webhook's default probe, exactly as the reconciler serialises it.
  [
    '{"tcpSocket":{"port":8080,"host":"127.0.0.1"},"successThreshold":1}',
    false,
    [{ tcpSocket: { host: '127.0.0.1', port: 8080 }, ...timing }],
  ],
  [
    '{"httpGet":{"path":"/healthz","port":"8081","scheme":"HTTPS","httpHeaders":[{"name":"X-A","value":"1"}]},' +
      '"initialDelaySeconds":2,"timeoutSeconds":3,"periodSeconds":4,"successThreshold":5,"failureThreshold":6}',
    false,
    [
      {
        httpGet: { host: '127.0.0.1', port: 8081, path: '/healthz', scheme: 'HTTPS', httpHeaders: [{ name: 'X-A', value: '1' }] },
        initialDelaySeconds: 2,
        timeoutSeconds: 3,
        periodSeconds: 4,
        successThreshold: 5,
        failureThreshold: 6,
      },
    ],
  ],
  ['{"httpGet":{"port":8080,"host":null}}', false, [{ httpGet: { host: '127.0.0.1', port: 8080, path: '', scheme: 'HTTP', httpHeaders: [] }, ...timing }]],
  ['{"grpc":{"port":9000},"successThreshold":0}', false, [{ grpc: { port: 9000, service: '' }, ...timing }]],
  [
    '[{"tcpSocket":{"port":8080}},{"grpc":{"port":9000,"service":"sidecar"},"periodSeconds":1}]',
    true,
    [
      { tcpSocket: { host: '127.0.0.1', port: 8080 }, ...timing },
      { grpc: { port: 9000, service: 'sidecar' }, ...timing, periodSeconds: 1 },
    ],
  ],
  ['{"tcpSocket":{"port":8080}}', true, [{ tcpSocket: { host: '127.0.0.1', port: 8080 }, ...timing }]],
  ['[]', true, []],
];

for (const [value, multi, want] of validRows) {
  test(`probe spec ${JSON.stringify(value)} (multi-container ${multi})`, (t) => {
    t.deepEqual(parseReadinessProbe(value, multi), { ok: true, probes: want });
  });
}

const P = 'SERVING_READINESS_PROBE: ';
const invalidRows: readonly (readonly [string, boolean, string])[] = [
  ['5', false, P + 'expected a JSON object (corev1.Probe), got a number'],
  ['null', true, P + 'expected a JSON object (corev1.Probe), got null'],
  ['[{"tcpSocket":{"port":8080}}]', false, P + 'a JSON array of probes needs ENABLE_MULTI_CONTAINER_PROBES=true'],
  ['[{"tcpSocket":{"port":8080}},"x"]', true, P + '[1]: expected a JSON object (corev1.Probe), got a string'],
  ['{}', false, P + 'a probe must set exactly one of tcpSocket, httpGet, grpc'],
  ['{"tcpSocket":{"port":1},"httpGet":{"port":1}}', false, P + 'a probe must set exactly one of tcpSocket, httpGet, grpc'],
  ['{"exec":{"command":["true"]}}', false, P + 'exec: exec probes are not run by queue-proxy (the reconciler converts them to tcpSocket)'],
  ['{"httpGet":{"port":"http"}}', false, P + 'httpGet.port: "http" must be a port number (named ports are resolved by the reconciler)'],
  ['{"tcpSocket":{"port":0}}', false, P + 'tcpSocket.port: 0 must be between 1 and 65535'],
  ['{"tcpSocket":{"port":"70000"}}', false, P + 'tcpSocket.port: "70000" must be between 1 and 65535'],
  ['{"tcpSocket":{"port":true}}', false, P + 'tcpSocket.port: must be a number or a numeric string, got a boolean'],
  ['{"tcpSocket":{}}', false, P + 'tcpSocket.port: is required'],
  ['{"tcpSocket":{"port":1,"host":5}}', false, P + 'tcpSocket.host: must be a string, got a number'],
  ['{"tcpSocket":[]}', false, P + 'tcpSocket: must be an object, got an array'],
  ['{"httpGet":{"port":1,"scheme":"FTP"}}', false, P + 'httpGet.scheme: "FTP" must be HTTP or HTTPS'],
  ['{"httpGet":{"port":1,"httpHeaders":[{"name":"a b","value":""}]}}', false, P + 'httpGet.httpHeaders[0].name: "a b" is not a valid HTTP header name'],
  ['{"httpGet":{"port":1,"httpHeaders":{}}}', false, P + 'httpGet.httpHeaders: must be an array, got an object'],
  ['[{"tcpSocket":{"port":1}},{"tcpSocket":{"port":1},"periodSeconds":-1}]', true, P + '[1].periodSeconds: -1 must be a non-negative integer'],
  ['{"tcpSocket":{"port":1},"timeoutSeconds":0.5}', false, P + 'timeoutSeconds: 0.5 must be a non-negative integer'],
];

for (const [value, multi, message] of invalidRows) {
  test(`invalid probe spec ${value} (multi-container ${multi})`, (t) => {
    t.deepEqual(parseReadinessProbe(value, multi), { ok: false, error: message });
  });
}

test('invalid JSON names the variable and the parse error', (t) => {
  const r = parseReadinessProbe('{"tcpSocket":', false);
  t.false(r.ok);
  if (!r.ok) t.regex(r.error, /^SERVING_READINESS_PROBE: invalid JSON: \S/);
});

// ---- servers ----

interface Served {
  readonly port: number;
  /** TCP connections accepted so far. */
  readonly connections: () => number;
  /** Connections not yet closed. */
  readonly open: () => number;
}

/** Listens on 127.0.0.1 (ephemeral port unless given) and closes everything at teardown. */
async function serve(t: ExecutionContext, server: net.Server, port = 0): Promise<Served> {
  const sockets = new Set<net.Socket>();
  let connections = 0;
  server.on('connection', (socket: net.Socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { port: (server.address() as net.AddressInfo).port, connections: () => connections, open: () => sockets.size };
}

/** Accepts connections and reads them, but never answers. */
function silentServer(): net.Server {
  return net.createServer((socket) => socket.resume());
}

/** Resolves once `done()` holds, or fails the test after `ms`. */
async function eventually(t: ExecutionContext, done: () => boolean, what: string, ms = 3000): Promise<void> {
  const deadline = performance.now() + ms;
  while (!done() && performance.now() < deadline) await sleep(10);
  t.true(done(), what);
}

/** A port with nothing listening (just released by the kernel). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function probes(spec: unknown): readonly Probe[] {
  const r = parseReadinessProbe(JSON.stringify(spec), Array.isArray(spec));
  if (!r.ok) throw new Error(r.error);
  return r.probes;
}

function prober(spec: unknown, options: ReadinessOptions = {}): { prober: ReadinessProber; logs: string[] } {
  const logs: string[] = [];
  return { prober: new ReadinessProber(probes(spec), { log: (m) => logs.push(m), ...options }), logs };
}

// Standard mode with a timeout far above any loaded machine's latency, where timing is not the subject.
const standard = { periodSeconds: 1, timeoutSeconds: 5 };

// ---- TCP ----

test('no probes: always ready', async (t) => {
  t.true(await new ReadinessProber([]).probe());
});

test('TCP: ready when a connection opens, and the connection is closed', async (t) => {
  const srv = await serve(t, silentServer());
  const { prober: p } = prober({ tcpSocket: { port: srv.port }, ...standard });
  t.true(await p.probe());
  t.is(srv.connections(), 1);
  await eventually(t, () => srv.open() === 0, 'every connection is closed');
});

test('TCP: not ready when nothing listens (standard mode logs the error once)', async (t) => {
  const port = await freePort();
  const { prober: p, logs } = prober({ tcpSocket: { port }, ...standard });
  t.false(await p.probe());
  t.is(logs.length, 1);
  t.regex(logs[0] ?? '', new RegExp(`^dial tcp 127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
});

// ---- HTTP ----

/** An HTTP/1.1 server whose answer depends on the path; records every request. */
async function httpApp(t: ExecutionContext, handler: http.RequestListener): Promise<Served & { requests: http.IncomingMessage[] }> {
  const requests: http.IncomingMessage[] = [];
  const server = http.createServer((req, res) => {
    requests.push(req);
    handler(req, res);
  });
  return { ...(await serve(t, server)), requests };
}

function statusApp(req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = req.url ?? '/';
  const code = Number(/^\/status\/(\d+)/.exec(url)?.[1] ?? 200);
  if (url.startsWith('/redirect/')) res.writeHead(302, { location: url.slice('/redirect'.length) });
  else if (url === '/loop') res.writeHead(302, { location: '/loop' });
  else res.writeHead(code);
  res.end('body');
}

const httpRows: readonly (readonly [string, boolean])[] = [
  ['/status/200', true],
  ['/status/204', true],
  ['/status/399', true],
  ['/redirect/status/200', true],
  ['/redirect/redirect/status/200', true],
  ['/redirect/status/500', false],
  ['/status/404', false],
  ['/status/500', false],
  ['/status/302', true], // a 3xx without Location is returned as is, like Go
];

for (const [path, ready] of httpRows) {
  test(`HTTP: GET ${path} → ${ready ? 'ready' : 'not ready'}`, async (t) => {
    const srv = await httpApp(t, statusApp);
    const { prober: p, logs } = prober({ httpGet: { port: srv.port, path }, ...standard });
    t.is(await p.probe(), ready);
    if (!ready) t.regex(logs[0] ?? '', /HTTP probe did not respond Ready, got status code: \d+/);
    await eventually(t, () => srv.open() === 0, 'every connection is closed');
  });
}

test('HTTP: a redirect loop stops after 10 redirects', async (t) => {
  const srv = await httpApp(t, statusApp);
  const { prober: p, logs } = prober({ httpGet: { port: srv.port, path: '/loop' }, ...standard });
  t.false(await p.probe());
  t.is(srv.requests.length, 11);
  t.is(logs[0], `Get "http://127.0.0.1:${srv.port}/loop": stopped after 10 redirects`);
});

test('HTTP: User-Agent is exactly kube-probe//, custom headers are added, the path is escaped like Go', async (t) => {
  const srv = await httpApp(t, statusApp);
  const httpHeaders = [
    { name: 'x-custom-header', value: 'a' },
    { name: 'X-Multi', value: '1' },
    { name: 'x-multi', value: '2' },
    { name: 'User-Agent', value: 'not-kubelet' },
  ];
  const { prober: p } = prober({ httpGet: { port: srv.port, path: 'a b?c', httpHeaders }, ...standard });
  t.true(await p.probe());
  const req = srv.requests[0];
  t.is(req?.url, '/a%20b%3Fc');
  t.is(req?.method, 'GET');
  t.is(req?.headers['user-agent'], 'kube-probe//');
  t.deepEqual(req?.rawHeaders.filter((h) => h.toLowerCase() === 'user-agent'), ['User-Agent']);
  t.is(req?.headers['x-custom-header'], 'a');
  t.deepEqual(req?.rawHeaders.filter((h) => h.toLowerCase() === 'x-custom-header'), ['X-Custom-Header']);
  t.is(req?.headers['x-multi'], '1, 2');
  t.is(req?.headers['connection'], 'close');
});

test('HTTP: an empty path requests /', async (t) => {
  const srv = await httpApp(t, statusApp);
  const { prober: p } = prober({ httpGet: { port: srv.port }, ...standard });
  t.true(await p.probe());
  t.is(srv.requests[0]?.url, '/');
});

// A self-signed test certificate (CN knts-test); the prober must not verify it.
const TEST_KEY = `-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgeKhghs3Sew4QVzb7
2LidyEjji6ZUBB2iQsJPoQVqRwKhRANCAARY16he8EUE6317VHGKmurq/KFtbzEg
FreOiI5q0XiE+jTiavqq4zo1X7ydm0+8zrkaHIXp4SwL+8JYQ+G1e6nl
-----END PRIVATE KEY-----
`;
const TEST_CERT = `-----BEGIN CERTIFICATE-----
MIIBfjCCASWgAwIBAgIUFAWvxVbi3Y5JHbruyxIjTkznb8YwCgYIKoZIzj0EAwIw
FDESMBAGA1UEAwwJa250cy10ZXN0MCAXDTI2MTEyMjA0MTIwMVoYDzIxMjYxMDI5
MDQxMjAxWjAUMRIwEAYDVQQDDAlrbnRzLXRlc3QwWTATBgcqhkjOPQIBBggqhkjO
PQMBBwNCAARY16he8EUE6317VHGKmurq/KFtbzEgFreOiI5q0XiE+jTiavqq4zo1
X7ydm0+8zrkaHIXp4SwL+8JYQ+G1e6nlo1MwUTAdBgNVHQ4EFgQUbTZPcA47JoFM
pS6EmVF1jS7mkscwHwYDVR0jBBgwFoAUbTZPcA47JoFMpS6EmVF1jS7mkscwDwYD
VR0TAQH/BAUwAwEB/zAKBggqhkjOPQQDAgNHADBEAiB3RlikbXLPlDAT1MBeL2dp
1zGrPds03TmdfGYWzm0mrgIgfxwyQNzuRT5JU6KF52Ouz2fneliciavyKMSZVAnZ
sLk=
-----END CERTIFICATE-----
`;

test('HTTPS: a self-signed certificate is accepted', async (t) => {
  const paths: string[] = [];
  const server = https.createServer({ key: TEST_KEY, cert: TEST_CERT }, (req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(200).end();
  });
  const srv = await serve(t, server);
  const { prober: p, logs } = prober({ httpGet: { port: srv.port, path: '/ready', scheme: 'HTTPS' }, ...standard });
  t.true(await p.probe(), logs.join('\n'));
  t.deepEqual(paths, ['/ready']);
});

// ---- modes ----

test('standard mode: exactly one attempt, its failure logged once', async (t) => {
  const srv = await httpApp(t, statusApp);
  const { prober: p, logs } = prober({ httpGet: { port: srv.port, path: '/status/503' }, ...standard });
  t.false(await p.probe());
  await sleep(150);
  t.is(srv.requests.length, 1);
  t.deepEqual(logs, ['HTTP probe did not respond Ready, got status code: 503']);
});

test('standard mode: the attempt is bounded by timeoutSeconds', async (t) => {
  const srv = await serve(t, silentServer());
  const { prober: p, logs } = prober({ httpGet: { port: srv.port }, periodSeconds: 5, timeoutSeconds: 1 });
  const start = performance.now();
  t.false(await p.probe());
  const elapsed = performance.now() - start;
  t.true(elapsed >= 900 && elapsed < 3000, `took ${elapsed}ms`);
  t.regex(logs[0] ?? '', /timeout after 1000ms/);
});

test('aggressive mode: ready soon after the app starts listening partway through the poll', async (t) => {
  const port = await freePort();
  const { prober: p, logs } = prober({ httpGet: { port } }, { pollTimeoutMs: 5000 });
  const start = performance.now();
  const ready = p.probe();
  await sleep(200);
  const srv = await serve(t, http.createServer(statusApp), port);
  const listening = performance.now();
  t.true(await ready, logs.join('\n'));
  const done = performance.now();
  t.true(done - start >= 200);
  t.true(done - listening < 1000, `ready ${done - listening}ms after listening`);
  t.true(srv.connections() >= 1);
  t.deepEqual(logs, []);
});

test('aggressive mode: gives up after the poll timeout and logs the last error', async (t) => {
  const port = await freePort();
  const { prober: p, logs } = prober({ tcpSocket: { port } }, { pollTimeoutMs: 500 });
  const start = performance.now();
  t.false(await p.probe());
  const elapsed = performance.now() - start;
  t.true(elapsed >= 450 && elapsed < 4000, `took ${elapsed}ms`);
  t.is(logs.length, 1);
  t.regex(logs[0] ?? '', /^aggressive probe error \(failed \d+ times\): dial tcp 127\.0\.0\.1:\d+: connect ECONNREFUSED/);
  const failures = Number(/failed (\d+) times/.exec(logs[0] ?? '')?.[1]);
  t.true(failures >= 2 && failures <= 11, `${failures} attempts in 500ms at 50ms intervals`);
});

test('aggressive mode: each attempt is bounded and leaves no connection open', async (t) => {
  const srv = await serve(t, silentServer());
  const { prober: p, logs } = prober({ httpGet: { port: srv.port } }, { pollTimeoutMs: 300 });
  t.false(await p.probe());
  t.true(srv.connections() >= 1);
  t.regex(logs[0] ?? '', /timeout after 100ms$/);
  await eventually(t, () => srv.open() === 0, 'every connection is closed');
});

test('aggressive mode: successThreshold counts consecutive successes, across calls', async (t) => {
  const script = [200, 500, 200, 200];
  const srv = await httpApp(t, (_req, res) => {
    res.writeHead(script[srv.requests.length - 1] ?? 200).end();
  });
  const { prober: p } = prober({ httpGet: { port: srv.port }, successThreshold: 2 }, { pollIntervalMs: 10, attemptTimeoutMs: 2000, pollTimeoutMs: 5000 });
  t.true(await p.probe());
  t.is(srv.requests.length, 4, 'the failure reset the count: 200, 500, 200, 200');
  t.true(await p.probe());
  t.is(srv.requests.length, 5, 'the count persists, so one more success is enough');
});

test('concurrent callers share one run', async (t) => {
  const srv = await httpApp(t, (_req, res) => {
    setTimeout(() => res.writeHead(200).end(), 100);
  });
  const { prober: p } = prober({ httpGet: { port: srv.port } }, { attemptTimeoutMs: 2000 });
  const results = await Promise.all([p.probe(), p.probe(), p.probe(), p.probe(), p.probe()]);
  t.deepEqual(results, [true, true, true, true, true]);
  t.is(srv.connections(), 1);
  t.true(await p.probe());
  t.is(srv.connections(), 2, 'a call after the run finished starts a new one');
});

test('multi-container: probes run in parallel and all must pass', async (t) => {
  // Each app answers only once both have been asked: probes run one after the other would
  // time out on the first.
  const waiting: http.ServerResponse[] = [];
  const barrier: http.RequestListener = (_req, res) => {
    waiting.push(res);
    if (waiting.length === 2) for (const r of waiting.splice(0)) r.writeHead(200).end();
  };
  const first = await httpApp(t, barrier);
  const second = await httpApp(t, barrier);
  const failing = await httpApp(t, statusApp);
  const both = prober([{ httpGet: { port: first.port }, ...standard }, { httpGet: { port: second.port }, ...standard }]);
  t.true(await both.prober.probe(), both.logs.join('\n'));
  const oneFails = prober([{ tcpSocket: { port: first.port }, ...standard }, { httpGet: { port: failing.port, path: '/status/500' }, ...standard }]);
  t.false(await oneFails.prober.probe());
  t.deepEqual(oneFails.logs, ['HTTP probe did not respond Ready, got status code: 500']);
});

// ---- gRPC ----

function grpcMessage(bytes: readonly number[]): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt32BE(bytes.length, 1);
  return Buffer.concat([prefix, Buffer.from(bytes)]);
}

/** grpc.health.v1.Health/Check: "" and "up" are SERVING, "down" NOT_SERVING, others NOT_FOUND. */
async function healthServer(t: ExecutionContext): Promise<Served & { headers: http2.IncomingHttpHeaders[] }> {
  const headers: http2.IncomingHttpHeaders[] = [];
  const server = http2.createServer();
  server.on('stream', (stream, h) => {
    headers.push(h);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      const body = Buffer.concat(chunks);
      // HealthCheckRequest: empty, or 0x0a <len> <service> for short names.
      const service = body.length > 7 ? body.subarray(7).toString() : '';
      const status = new Map([['', 1], ['up', 1], ['down', 2]]).get(service);
      if (status === undefined) {
        stream.respond({ ':status': 200, 'content-type': 'application/grpc', 'grpc-status': '5', 'grpc-message': 'unknown%20service' }, { endStream: true });
        return;
      }
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
      stream.end(grpcMessage([0x08, status]));
    });
  });
  return { ...(await serve(t, server)), headers };
}

test('gRPC: SERVING is ready; the call is a standard Health/Check', async (t) => {
  const srv = await healthServer(t);
  const { prober: p, logs } = prober({ grpc: { port: srv.port }, ...standard });
  t.true(await p.probe(), logs.join('\n'));
  const h = srv.headers[0];
  t.is(h?.[':method'], 'POST');
  t.is(h?.[':path'], '/grpc.health.v1.Health/Check');
  t.is(h?.['content-type'], 'application/grpc');
  t.is(h?.['te'], 'trailers');
  t.is(h?.['user-agent'], 'kube-probe//');
  const named = prober({ grpc: { port: srv.port, service: 'up' } });
  t.true(await named.prober.probe(), named.logs.join('\n'));
});

test('gRPC: NOT_SERVING and an error status are not ready', async (t) => {
  const srv = await healthServer(t);
  const down = prober({ grpc: { port: srv.port, service: 'down' }, ...standard });
  t.false(await down.prober.probe());
  t.deepEqual(down.logs, [`grpc probe 127.0.0.1:${srv.port}: service unhealthy (responded with "NOT_SERVING")`]);
  const unknown = prober({ grpc: { port: srv.port, service: 'nope' }, ...standard });
  t.false(await unknown.prober.probe());
  t.deepEqual(unknown.logs, [`grpc probe 127.0.0.1:${srv.port}: rpc error: code = NotFound desc = unknown service`]);
  await eventually(t, () => srv.open() === 0, 'every connection is closed');
});

// ---- HTTP/2 auto-detection ----

test('h2c auto-detection: an h2c app is detected as HTTP/2', async (t) => {
  const versions: string[] = [];
  const srv = await serve(
    t,
    http2.createServer((req, res) => {
      versions.push(req.httpVersion);
      res.writeHead(200).end();
    }),
  );
  const { prober: p, logs } = prober({ httpGet: { port: srv.port }, ...standard }, { http2AutoDetection: true });
  t.is(p.http2Detected, undefined);
  t.true(await p.probe(), logs.join('\n'));
  t.true(p.http2Detected);
  t.true(await p.probe());
  t.deepEqual(versions, ['2.0', '2.0']);
  // Without detection the same app cannot be probed: it does not speak HTTP/1.1.
  const plain = prober({ httpGet: { port: srv.port }, ...standard });
  t.false(await plain.prober.probe());
  t.is(plain.prober.http2Detected, undefined);
});

test('h2c auto-detection: an HTTP/1-only app falls back to HTTP/1.1 and stays there', async (t) => {
  const srv = await httpApp(t, statusApp);
  const { prober: p, logs } = prober({ httpGet: { port: srv.port }, ...standard }, { http2AutoDetection: true });
  t.true(await p.probe(), logs.join('\n'));
  t.false(p.http2Detected);
  t.is(srv.requests.length, 1);
  t.is(srv.connections(), 2, 'one h2c attempt, one HTTP/1.1 request');
  t.true(await p.probe());
  t.is(srv.connections(), 3, 'decided: no more h2c attempts');
});

test('h2c auto-detection: a non-ready HTTP/2 answer decides nothing', async (t) => {
  const srv = await serve(t, http2.createServer((_req, res) => res.writeHead(503).end()));
  const { prober: p, logs } = prober({ httpGet: { port: srv.port }, ...standard }, { http2AutoDetection: true });
  t.false(await p.probe());
  t.is(p.http2Detected, undefined);
  t.deepEqual(logs, ['HTTP probe did not respond Ready, got status code: 503']);
});

test('h2c auto-detection: nothing listening fails at once, without an HTTP/1.1 attempt', async (t) => {
  const port = await freePort();
  const { prober: p, logs } = prober({ httpGet: { port }, ...standard }, { http2AutoDetection: true });
  t.false(await p.probe());
  t.is(p.http2Detected, undefined);
  t.is(logs.length, 1);
  t.regex(logs[0] ?? '', /ECONNREFUSED/);
  t.notRegex(logs[0] ?? '', /HTTP\/1\.1/);
});
