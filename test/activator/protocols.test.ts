// WebSockets and h2c through the activator (spec §2.9), with a real queue-proxy as the pod:
// an upgrade is tunnelled both ways, a gRPC-style h2c stream keeps its body and trailers, an
// HTTP/2 request on the HTTP port reaches an h2c pod with its host rewritten, an HTTP/2 client
// that cancels while waiting frees its place, shutdown does not wait for WebSockets, and the
// `knts activator` process starts from its environment and a backends file.
import test from 'ava';
import type { AddressInfo } from 'node:net';
import { connect, constants as h2, type IncomingHttpHeaders as H2Headers } from 'node:http2';
import { WebSocket, WebSocketServer } from 'ws';
import { createDualServer } from '../../network/h1-h2c-server.ts';
import { respond } from '../../network/http-error.ts';
import { knts, tempFiles } from '../helpers/cli.ts';
import { h2request, queueProxyEnv, startH2cApp, startQueueProxy, UserApp } from '../helpers/queue-proxy.ts';
import { FakeAutoscaler, FakePod, revision, startTestActivator, until } from '../helpers/activator.ts';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { REPO_ROOT } from '../helpers/cli.ts';
import { httpGet } from '../helpers/queue-proxy.ts';

const headers = { 'knative-serving-revision': 'hello-00001', 'knative-serving-namespace': 'default' };

test('a WebSocket passes through activator and queue-proxy and echoes both ways', async (t) => {
  const app = new UserApp();
  await app.listen();
  const qp = await startQueueProxy(queueProxyEnv(app.port));
  const a = await startTestActivator([revision('hello-00001')]);
  try {
    a.endpoints('hello-00001', { ready: [`127.0.0.1:${qp.serving}`] });
    t.true(await until(() => (a.act.throttler('default', 'hello-00001')?.capacity ?? 0) > 0));
    const ws = new WebSocket(`ws://127.0.0.1:${a.port}/ws`, { headers });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const echoes: string[] = [];
    ws.on('message', (m: Buffer) => echoes.push(m.toString()));
    ws.send('one');
    ws.send('two');
    t.true(await until(() => echoes.length === 2));
    t.deepEqual(echoes, ['one', 'two']);
    t.is(a.act.handler.open.open, 1, 'the open WebSocket counts as an open request');
    ws.close();
    t.true(await until(() => a.act.handler.open.open === 0));
  } finally {
    await a.close();
    await qp.stop();
    await app.close();
  }
});

test('an upgrade for an unknown revision gets 404 on the raw socket', async (t) => {
  const a = await startTestActivator([]);
  try {
    const ws = new WebSocket(`ws://127.0.0.1:${a.port}/ws`, { headers });
    const status = await new Promise<number>((resolve) => ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)));
    t.is(status, 404);
  } finally {
    await a.close();
  }
});

test('h2c: a gRPC-style stream keeps its body, headers and trailers through activator and queue-proxy', async (t) => {
  const app = await startH2cApp();
  const qp = await startQueueProxy(queueProxyEnv(app.port));
  const a = await startTestActivator([revision('hello-00001', { protocol: 'h2c' })]);
  const session = connect(`http://127.0.0.1:${a.act.ports.h2c}`);
  try {
    a.endpoints('hello-00001', { ready: [`127.0.0.1:${qp.serving}`] });
    t.true(await until(() => (a.act.throttler('default', 'hello-00001')?.capacity ?? 0) > 0));
    const msg = Buffer.from([0, 0, 0, 0, 3, 1, 2, 3]);
    const replies = await Promise.all([1, 2, 3].map(() => h2request(session, '/pkg.Svc/Method', msg, headers)));
    for (const r of replies) {
      t.is(Number(r.headers[':status']), 200);
      t.is(r.headers['x-path'], '/pkg.Svc/Method');
      t.deepEqual([...r.body], [...msg]);
      t.is(r.trailers['grpc-status'], '0');
    }
    t.is(a.act.handler.open.open, 0);
  } finally {
    session.close();
    await a.close();
    await qp.stop();
    app.server.close();
  }
});

test('an HTTP/2 request on the HTTP port reaches an h2c pod with :authority rewritten to the pod and K-Original-Host set', async (t) => {
  // A pod speaking both protocols on one port, as the queue-proxy's http2 port does: the
  // activator probes it over HTTP/1.1 and forwards HTTP/2 requests over h2c.
  const seen: { version: string; headers: H2Headers }[] = [];
  const pod = createDualServer({
    onRequest: (req, res) => {
      if (req.headers['k-network-probe'] === 'queue') {
        respond(res, 200, {}, 'queue');
        return;
      }
      seen.push({ version: req.httpVersion, headers: { ...req.headers } });
      respond(res, 200, { 'content-type': 'text/plain' }, 'h2 pod');
    },
  });
  await new Promise<void>((resolve) => pod.net.listen(0, '127.0.0.1', resolve));
  const dest = `127.0.0.1:${(pod.net.address() as AddressInfo).port}`;
  const a = await startTestActivator([revision('hello-00001', { protocol: 'h2c' })]);
  const session = connect(`http://127.0.0.1:${a.port}`);
  try {
    a.endpoints('hello-00001', { ready: [dest] });
    t.true(await until(() => (a.act.throttler('default', 'hello-00001')?.capacity ?? 0) > 0));
    const reply = await new Promise<{ headers: H2Headers; body: string }>((resolve, reject) => {
      const req = session.request({ ':method': 'GET', ':path': '/x', ':authority': 'hello.default.example.com', ...headers, 'k-network-hash': 'h' });
      let body = '';
      let head: H2Headers = {};
      req.setEncoding('utf8');
      req.on('response', (h) => (head = h));
      req.on('data', (d: string) => (body += d));
      req.on('end', () => resolve({ headers: head, body }));
      req.on('error', reject);
      req.end();
    });
    t.is(Number(reply.headers[':status']), 200);
    t.is(reply.body, 'h2 pod');
    t.regex(String(reply.headers['server-timing']), /^activator-queued;dur=/);
    t.is(seen.length, 1);
    const h = seen[0]!;
    t.is(h.version, '2.0');
    t.is(h.headers[':authority'], dest);
    t.is(h.headers['k-original-host'], 'hello.default.example.com');
    t.is(h.headers['k-proxy-request'], 'activator');
    t.is(h.headers['knative-serving-revision'], undefined);
    t.is(h.headers['k-network-hash'], undefined);
  } finally {
    session.close();
    await a.close();
    pod.net.close();
    for (const s of pod.sockets) s.destroy();
  }
});

test('an HTTP/2 client that cancels its stream while waiting frees its place', async (t) => {
  const a = await startTestActivator([revision('hello-00001')]);
  const session = connect(`http://127.0.0.1:${a.act.ports.h2c}`);
  try {
    const req = session.request({ ':method': 'POST', ':path': '/', ...headers });
    req.on('error', () => undefined);
    req.write('some body');
    t.true(await until(() => a.act.limits.queued === 1));
    req.close(h2.NGHTTP2_CANCEL);
    t.true(await until(() => a.act.limits.queued === 0 && a.act.handler.open.open === 0));
    t.is(a.act.limits.bodyBytes, 0);
    t.is(a.act.throttler('default', 'hello-00001')?.breaker.pending, 0);
  } finally {
    session.close();
    await a.close();
  }
});

test('shutdown does not wait for open WebSockets (Go\'s Shutdown ignores hijacked connections); upgrades lose K-Network-Hash', async (t) => {
  const pod = await new FakePod('p1').listen();
  const wss = new WebSocketServer({ server: pod.server });
  const upgrades: string[] = [];
  wss.on('connection', (ws, req) => {
    upgrades.push(String(req.headers['k-network-hash']));
    ws.on('message', (m: Buffer) => ws.send(m.toString()));
  });
  const a = await startTestActivator([revision('hello-00001', { timeoutSeconds: 60 })], { env: { drainTimeoutMs: 100 } });
  try {
    a.endpoints('hello-00001', { ready: [pod.dest] });
    t.true(await until(() => (a.act.throttler('default', 'hello-00001')?.capacity ?? 0) > 0));
    const ws = new WebSocket(`ws://127.0.0.1:${a.port}/ws`, { headers: { ...headers, 'k-network-hash': 'h' } });
    ws.on('error', () => undefined);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
    t.deepEqual(upgrades, ['undefined']);
    t.is(a.act.handler.open.open, 1);
    t.is(a.act.handler.open.hijacked, 1);
    const start = performance.now();
    await a.act.shutdown();
    t.true(performance.now() - start < 10_000, 'shutdown did not wait for the WebSocket');
    await closed;
    t.true(await until(() => a.act.handler.open.open === 0 && a.act.handler.open.hijacked === 0));
    // The pod's end of the tunnel goes with the client's: nothing stays open towards the pod.
    t.true(await until(() => wss.clients.size === 0), `${wss.clients.size} WebSocket(s) still open at the pod`);
  } finally {
    await a.close();
    for (const c of wss.clients) c.terminate();
    wss.close();
    await pod.close();
  }
});

test('knts activator: a bad environment or backends file exits 1 naming the problem', async (t) => {
  const missing = await knts(['activator'], '', { POD_IP: '10.0.0.1' });
  t.is(missing.code, 1);
  t.regex(missing.stderr, /activator: POD_NAME: required but not set/);
  const files = await tempFiles({ 'backends.yaml': 'revisions:\n  - name: hello-00001\n    containerConcurrency: -1\n    endpoints: {ready: [1]}\n' });
  const bad = await knts(['activator'], '', { POD_NAME: 'a', POD_IP: '10.0.0.1', KNTS_BACKENDS_FILE: files['backends.yaml']! });
  t.is(bad.code, 1);
  t.regex(bad.stdout + bad.stderr, /revisions\[0\]\.containerConcurrency: expected an integer >= 0, got -1/);
  t.regex(bad.stdout + bad.stderr, /revisions\[0\]\.endpoints\.ready: expected a list of strings/);
});

test('node activator/main.ts serves a revision from KNTS_BACKENDS_FILE, reports to the autoscaler and exits 0 on SIGTERM', async (t) => {
  const pod = await new FakePod('p1').listen();
  const autoscaler = new FakeAutoscaler();
  await autoscaler.listen();
  const files = await tempFiles({ 'backends.yaml': `revisions:\n  - name: hello-00001\n    namespace: default\n    endpoints:\n      ready: ["${pod.dest}"]\n` });
  const env = {
    ...process.env,
    POD_NAME: 'activator-1',
    POD_IP: '10.0.0.1',
    KNTS_BACKENDS_FILE: files['backends.yaml']!,
    KNTS_AUTOSCALER_URL: `ws://127.0.0.1:${autoscaler.port}`,
    KNTS_LISTEN_HOST: '127.0.0.1',
    KNTS_HTTP_PORT: '0',
    KNTS_H2C_PORT: '0',
    KNTS_METRICS_PORT: '0',
    KNTS_DRAIN_TIMEOUT: '100ms',
  };
  const child = spawn(process.execPath, [join(REPO_ROOT, 'activator/main.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    const ports = await new Promise<{ http: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('activator did not start')), 10_000);
      createInterface({ input: child.stdout }).on('line', (line) => {
        if (!line.includes('"activator listening"')) return;
        clearTimeout(timer);
        resolve((JSON.parse(line) as { ports: { http: number } }).ports);
      });
    });
    const r = await httpGet(ports.http, '/', headers);
    t.deepEqual([r.status, r.body], [200, 'p1']);
    t.true(await until(() => autoscaler.messages.some((m) => m.message.name === 'hello-00001' && m.message.stat?.podName === 'activator-1')));
    child.kill('SIGTERM');
    t.is(await exited, 0);
  } finally {
    child.kill('SIGKILL');
    await pod.close();
    await autoscaler.close();
  }
});
