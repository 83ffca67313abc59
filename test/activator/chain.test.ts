// The activator's handler chain end to end (spec §2.2, §2.3, §2.6), in-process on ephemeral
// ports with fake pods: probes and health, revision identification, the headers a pod sees (with
// and without passthrough LB), a waiting request's timeout, the 502 when a pod fails,
// Server-Timing and the metrics, and a deleted revision's throttler.
import test from 'ava';
import { request } from 'node:http';
import { httpGet } from '../helpers/queue-proxy.ts';
import { FakePod, revision, startTestActivator, until } from '../helpers/activator.ts';

const REV = { 'knative-serving-revision': 'hello-00001', 'knative-serving-namespace': 'default' };

test('kubelet health: 500 until the autoscaler websocket is up, then 200; probes are answered before routing', async (t) => {
  const a = await startTestActivator([revision('hello-00001')]);
  try {
    await until(() => a.act.statsClient.connected);
    const ok = await httpGet(a.port, '/', { 'user-agent': 'kube-probe/1.30' });
    t.is(ok.status, 200);
    t.is(ok.body, '');
    await a.autoscaler.close();
    t.true(await until(() => !a.act.statsClient.connected));
    const down = await httpGet(a.port, '/anything', { 'k-kubelet-probe': 'yes' });
    t.is(down.status, 500);
    t.is(down.body, 'connection has not yet been established\n');

    const probe = await httpGet(a.port, '/', { 'k-network-probe': 'probe', 'k-network-hash': 'abc' });
    t.is(probe.status, 200);
    t.is(probe.headers['k-network-hash'], 'abc');
    const noHash = await httpGet(a.port, '/', { 'k-network-probe': 'probe' });
    t.is(noHash.status, 400);
    t.is(noHash.body, 'a probe request must contain a non-empty "K-Network-Hash" header\n');
    const act = await httpGet(a.port, '/', { 'k-network-probe': 'activator' });
    t.deepEqual([act.status, act.body], [200, 'activator']);
    const bad = await httpGet(a.port, '/', { 'k-network-probe': '<queue>' });
    t.deepEqual([bad.status, bad.body], [400, 'unexpected probe header value: "&lt;queue&gt;"\n']);
  } finally {
    await a.close();
  }
});

test('after SIGTERM (shutdown) health checks fail with the SIGTERM message', async (t) => {
  const a = await startTestActivator([revision('hello-00001')], { env: { drainTimeoutMs: 300 } });
  try {
    await until(() => a.act.statsClient.connected);
    const done = a.act.shutdown();
    const r = await httpGet(a.port, '/', { 'user-agent': 'kube-probe/1.30' });
    t.deepEqual([r.status, r.body], [500, 'received SIGTERM from kubelet\n']);
    await done;
  } finally {
    await a.close();
  }
});

test('unknown or missing revision: 404 with Knative body; the revision can also come from the Host', async (t) => {
  const pod = await new FakePod('p1').listen();
  const a = await startTestActivator([revision('hello-00001')]);
  try {
    a.endpoints('hello-00001', { ready: [pod.dest] });
    const missing = await httpGet(a.port, '/', { 'knative-serving-revision': 'nope', 'knative-serving-namespace': 'default' });
    t.deepEqual([missing.status, missing.body], [404, 'Error getting active endpoint: revision.serving.knative.dev "nope" not found\n']);
    const none = await httpGet(a.port, '/');
    t.deepEqual([none.status, none.body], [404, 'Error getting active endpoint: revision.serving.knative.dev "" not found\n']);
    const byHost = await httpGet(a.port, '/', { host: 'hello-00001.default.svc.cluster.local:80' });
    t.deepEqual([byHost.status, byHost.body], [200, 'p1']);
  } finally {
    await a.close();
    await pod.close();
  }
});

test('the pod sees K-Proxy-Request, K-Original-Host, X-Forwarded-For, and no Knative-Serving-* or K-Network-Hash', async (t) => {
  const pod = await new FakePod('p1').listen();
  const a = await startTestActivator([revision('hello-00001')]);
  try {
    a.endpoints('hello-00001', { ready: [pod.dest] });
    const r = await httpGet(a.port, '/path?x=1', { ...REV, host: 'hello.default.example.com', 'k-network-hash': 'h', 'x-forwarded-for': '1.2.3.4' });
    t.is(r.status, 200);
    const h = pod.seen[0]!.headers;
    t.is(h['k-proxy-request'], 'activator');
    t.is(h['k-original-host'], 'hello.default.example.com');
    t.is(h.host, pod.dest);
    t.is(h['x-forwarded-for'], '1.2.3.4, 127.0.0.1');
    t.is(h['knative-serving-revision'], undefined);
    t.is(h['knative-serving-namespace'], undefined);
    t.is(h['k-network-hash'], undefined);
    t.is(pod.seen[0]!.url, '/path?x=1');
    // An existing K-Original-Host is kept.
    await httpGet(a.port, '/', { ...REV, host: 'other', 'k-original-host': 'first' });
    t.is(pod.seen[1]!.headers['k-original-host'], 'first');
  } finally {
    await a.close();
    await pod.close();
  }
});

test('passthrough LB (enable-mesh-pod-addressability): the pod sees Host <rev>-private.<ns> and K-Passthrough-Lb: true', async (t) => {
  const pod = await new FakePod('p1').listen();
  const a = await startTestActivator([revision('hello-00001')], { network: { meshCompatibilityMode: 'auto', enableMeshPodAddressability: true } });
  try {
    a.endpoints('hello-00001', { ready: [pod.dest] });
    const r = await httpGet(a.port, '/', { ...REV, host: 'hello.default.example.com' });
    t.deepEqual([r.status, r.body], [200, 'p1']);
    const h = pod.seen[0]!.headers;
    t.is(h.host, 'hello-00001-private.default');
    t.is(h['k-passthrough-lb'], 'true');
    t.is(h['k-original-host'], 'hello.default.example.com');
    t.is(h['k-proxy-request'], 'activator');
  } finally {
    await a.close();
    await pod.close();
  }
});

test('a deleted revision loses its throttler, even at zero; created again it starts afresh', async (t) => {
  const a = await startTestActivator([revision('hello-00001', { containerConcurrency: 1 })]);
  try {
    t.true(await until(() => a.act.throttler('default', 'hello-00001')?.cc === 1));
    a.source.deleteRevision('default', 'hello-00001');
    t.true(await until(() => a.act.throttler('default', 'hello-00001') === undefined));
    a.source.setRevision(revision('hello-00001', { containerConcurrency: 5 }));
    t.true(await until(() => a.act.throttler('default', 'hello-00001')?.cc === 5));
  } finally {
    await a.close();
  }
});

test('Server-Timing carries the phases; the phase histograms and gauges are on :9090/metrics', async (t) => {
  const pod = await new FakePod('p1').listen();
  const a = await startTestActivator([revision('hello-00001')]);
  try {
    const pending = httpGet(a.port, '/?sleep=20', REV);
    await new Promise((r) => setTimeout(r, 150));
    a.endpoints('hello-00001', { ready: [pod.dest] });
    const r = await pending;
    t.is(r.status, 200);
    const timing = String(r.headers['server-timing']);
    const m = /^activator-queued;dur=([\d.]+), activator-capacity;dur=([\d.]+), activator-proxy;dur=([\d.]+)$/.exec(timing);
    t.truthy(m, timing);
    // Queued for most of the 150 ms before a pod appeared (the request reaches the activator a
    // little after the client sends it); proxy at least the app's 20 ms.
    t.true(Number(m![1]) >= 100, timing);
    t.true(Number(m![3]) >= 19, timing);
    const metrics = await httpGet(a.act.ports.metrics, '/metrics');
    t.regex(metrics.body, /knts_activator_request_phase_seconds_count\{namespace_name="default",revision_name="hello-00001",phase="queued"\} 1/);
    t.regex(metrics.body, /kn_revision_request_queued\{namespace_name="default",revision_name="hello-00001"\} 0/);
    t.regex(metrics.body, /knts_activator_queue_oldest_age_seconds/);
  } finally {
    await a.close();
    await pod.close();
  }
});

test('queue gauges show waiting requests and their age', async (t) => {
  const a = await startTestActivator([revision('hello-00001')]);
  try {
    const waiting = [1, 2, 3].map(() => httpGet(a.port, '/', REV).catch(() => undefined));
    t.true(await until(() => a.act.limits.queued === 3));
    await new Promise((r) => setTimeout(r, 100));
    const metrics = await httpGet(a.act.ports.metrics, '/metrics');
    t.regex(metrics.body, /kn_revision_request_queued\{namespace_name="default",revision_name="hello-00001"\} 3/);
    const age = /knts_activator_queue_oldest_age_seconds\{namespace_name="default",revision_name="hello-00001"\} ([\d.]+)/.exec(metrics.body);
    t.true(Number(age?.[1]) >= 0.09, metrics.body);
    await a.close();
    await Promise.all(waiting);
  } finally {
    await a.close();
  }
});

test('a request that waits past the revision timeout gets 504 "activator request timeout"', async (t) => {
  const a = await startTestActivator([revision('hello-00001', { timeoutSeconds: 1 })]);
  try {
    const r = await httpGet(a.port, '/', REV);
    t.deepEqual([r.status, r.body], [504, 'activator request timeout']);
    t.true(r.ms >= 950 && r.ms < 10_000, `${r.ms}`);
    t.is(a.act.limits.queued, 0);
  } finally {
    await a.close();
  }
});

test('a pod that refuses the connection gives 502 with the dial error; no retry', async (t) => {
  const pod = await new FakePod('p1').listen();
  const a = await startTestActivator([revision('hello-00001')]);
  try {
    a.endpoints('hello-00001', { ready: [pod.dest] });
    t.true(await until(() => (a.act.throttler('default', 'hello-00001')?.capacity ?? 0) > 0));
    await pod.close();
    const r = await httpGet(a.port, '/', REV);
    t.is(r.status, 502);
    t.is(r.body, `dial tcp ${pod.dest}: connect: connection refused\n`);
  } finally {
    await a.close();
  }
});

test('a pod that dies mid-request: before the response 502, after it the client sees a cut', async (t) => {
  let mode: 'before' | 'after' = 'before';
  const pod = await new FakePod('p1', (req, res) => {
    req.resume();
    if (mode === 'before') {
      setTimeout(() => req.socket.destroy(), 30);
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial');
    setTimeout(() => req.socket.destroy(), 30);
  }).listen();
  const a = await startTestActivator([revision('hello-00001')]);
  try {
    a.endpoints('hello-00001', { ready: [pod.dest] });
    const before = await httpGet(a.port, '/', REV);
    t.is(before.status, 502);
    t.regex(before.body, /EOF|reset|closed|other side/i);
    mode = 'after';
    const after = await new Promise<{ status: number; body: string; complete: boolean }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: a.port, path: '/', headers: REV, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, complete: res.complete }));
        res.on('error', () => resolve({ status: res.statusCode ?? 0, body, complete: false }));
        res.on('aborted', () => resolve({ status: res.statusCode ?? 0, body, complete: false }));
      });
      req.on('error', reject);
      req.end();
    });
    t.is(after.status, 200);
    t.is(after.body, 'partial');
    t.false(after.complete);
    // Nothing is left queued or in flight.
    t.true(await until(() => a.act.handler.open.open === 0));
  } finally {
    await a.close();
    await pod.close();
  }
});
